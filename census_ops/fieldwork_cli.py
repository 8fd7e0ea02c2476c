"""Field-phase operations: `census import-roster`, `census demo-roster` and
`census demo-fieldwork` (the seed city's scenario end to end, in-process, through the
same domain code as the Lambda functions)."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from census_ops.runtime import (
    DEMO_HOUSEHOLDS,
    add_target_arguments,
    import_register_file,
    local_store,
    progress_bar,
    target_store,
    write_demo_register_file,
)
from census_ops.template import REPO_ROOT


def _print_roster_report(report: Any, path: Path) -> int:
    print(
        f"{path.name}: {report.officers_written} officers imported, {len(report.errors)} rows rejected.",
        file=sys.stderr,
    )
    for error in report.errors[:50]:
        print(f"  {error.message}", file=sys.stderr)
    return 1 if report.errors else 0


def import_roster_file(path: Path) -> int:
    from census_ops.importer import import_roster

    with progress_bar(0, "officers", "import roster") as bar:
        report = import_roster(path, progress=lambda n: bar.update(n - bar.n))
    return _print_roster_report(report, path)


def cmd_import_roster(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"census: no such file: {path}", file=sys.stderr)
        return 2
    with target_store(args):
        return import_roster_file(path)


def sls_codes_of(register: Path) -> list[str]:
    from census_ops.register import register_sls_codes

    with register.open(newline="", encoding="utf-8") as stream:
        return register_sls_codes(stream)


def cmd_demo_roster(args: argparse.Namespace) -> int:
    from census_ops.roster import write_demo_roster

    rows = write_demo_roster(Path(args.out), sls_codes_of(Path(args.register)), officers=args.officers)
    print(f"wrote {rows} roster rows to {args.out}", file=sys.stderr)
    return 0


def cmd_demo_fieldwork(args: argparse.Namespace) -> int:
    """27,000 households registered, 22,000 respond online, 2,000 officers, worklists
    generated for the rest: prints the per-officer load and the progress figures."""
    from census_ops.examples import counted_twice, example_submission
    from census_ops.register import read_register
    from census_ops.roster import write_demo_roster
    from shared.intake import submit_response
    from shared.progress import area_progress
    from shared.settings import settings
    from shared.worklists import generate

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="census-demo-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    register = data_dir / "fieldwork-register.csv"
    roster = data_dir / "fieldwork-roster.csv"
    if not register.exists():
        write_demo_register_file(register, args.households)
    write_demo_roster(roster, sls_codes_of(register), officers=args.officers)
    with register.open(newline="", encoding="utf-8") as stream:
        households = [h for h in read_register(stream) if not isinstance(h, list)]
    # Non-response is scattered over the city, not the last districts of the file.
    online = random.Random(2020).sample(households, min(args.online, len(households)))  # noqa: S311 - demo data
    # A few people counted twice and a few moved out to nowhere, for `census outputs`.
    bodies = {h.kk: example_submission(h, 0) for h in online}
    counted_twice(bodies, online)
    with local_store(args.store, data_dir, args.table) as fresh_table:
        import_register_file(register, store=args.store, fresh_table=fresh_table)
        import_roster_file(roster)
        config = settings()
        with progress_bar(len(online), "households", "online responses") as bar:

            def respond(household: Any) -> None:
                submit_response(household.kk, json.dumps(bodies[household.kk]), f"demo-{household.kk}", settings=config)
                bar.update(1)

            workers = 1 if args.store == "memory" else 4  # moto is not thread-safe
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(respond, online))
        # The progress counters move from the table's stream (docs/decisions/0019): its
        # consumer runs over the responses before the figures are read.
        from census_ops.stream_poller import local_poller

        poller = local_poller(config.table_name)
        while poller.drain():
            pass
        city = households[0].sls_code[:4]
        summary = generate(city, generated_by="demo-fieldwork")
        progress = area_progress(city)
    loads = [int(row["households"]) for row in summary["per_officer"]]
    print(
        f"\nWorklists for {city}: {summary['households']} households for {summary['officers']} officers "
        f"({summary['officers_assigned']} with work), {summary['sls_split']} SLS split between officers"
    )
    if loads:
        print(
            f"  load per officer with work: min {min(loads)}, median {statistics.median(loads):g}, "
            f"max {max(loads)}"
            + (
                f" (bound {summary['balance_bound']})"
                if summary["balance_bound"] is not None
                else " (officers cover their own SLS: the bound holds among each SLS's officers)"
            )
        )
    for row in summary["per_officer"][:10]:
        print(f"  {row['officer_id']}: {row['households']} households in {len(row['sls'])} SLS")
    print(f"\nProgress for {city}:")
    header = ("area", "households", "online", "interviewed", "clean", "review", "pending", "to_visit")
    print("  " + " ".join(f"{h:>11}" for h in header))
    for row in [progress, *progress["children"]]:
        values = (
            row["area_code"],
            row["households"],
            row["responded_online"],
            row["interviewed"],
            row["clean"],
            row["needs_review"],
            row["pending"],
            row["to_visit"],
        )
        print("  " + " ".join(f"{v:>11}" for v in values))
    return 0


def cmd_capacity(args: argparse.Namespace) -> int:
    from census_ops.capacity import measure_operations, print_capacity

    print_capacity(measure_operations(args.households))
    return 0


def register(commands: Any) -> None:
    roster = commands.add_parser("import-roster", help="import the officer roster CSV (idempotent)")
    roster.add_argument("file")
    add_target_arguments(roster)
    roster.set_defaults(func=cmd_import_roster)

    demo_roster = commands.add_parser("demo-roster", help="write a synthetic officer roster for a register")
    demo_roster.add_argument("--register", required=True, help="the register CSV whose SLS the officers cover")
    demo_roster.add_argument("--officers", type=int, default=2000)
    demo_roster.add_argument("--out", required=True)
    demo_roster.set_defaults(func=cmd_demo_roster)

    demo = commands.add_parser("demo-fieldwork", help="the seed city's field phase, end to end")
    demo.add_argument("--households", type=int, default=DEMO_HOUSEHOLDS)
    demo.add_argument("--online", type=int, default=22_000, help="households that respond online")
    demo.add_argument("--officers", type=int, default=2_000)
    demo.add_argument("--store", choices=["dynamodb-local", "memory"], default="dynamodb-local")
    demo.add_argument(
        "--data-dir",
        help=f"default: a new temporary folder; {REPO_ROOT / '.data'} with --table census-local plays it into the"
        " local service's data (stopped)",
    )
    demo.add_argument("--table", default="census-fieldwork-demo", help="default: census-fieldwork-demo")
    demo.set_defaults(func=cmd_demo_fieldwork)

    capacity = commands.add_parser(
        "capacity", help="what DynamoDB charges for each API operation, measured on DynamoDB Local"
    )
    capacity.add_argument("--households", type=int, default=400, help="size of the register the table holds")
    capacity.set_defaults(func=cmd_capacity)
