from census_ops.bench.runner import main

raise SystemExit(main())
