from shared.ops.bench.runner import main

raise SystemExit(main())
