"""`census tabulate`, `census check-duplicates` and `census outputs`: the census outputs
on DuckDB over a Parquet set (`census export --format parquet`), with the SQL Athena runs
in AWS. `census outputs` does it all in one go: export, the population pyramid, people
counted twice (marked for review) and people who moved out and were found nowhere."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

from census_ops.runtime import DEFAULT_DATA_DIR, add_target_arguments, target_store
from shared import analytics

DEFAULT_PARQUET = DEFAULT_DATA_DIR / "parquet"


def _columns(name: str, shaped: dict[str, dict[str, Any]]) -> list[str]:
    if name == "pyramid":
        return ["male", "female"]
    return sorted({k for area in shaped.values() for row in area["rows"] for k in row if k != "label"})


def _cell(value: Any, present: bool) -> str:
    if not present:
        return "0"
    return "x" if value is None else str(value)  # x: suppressed


def print_table(name: str, shaped: dict[str, dict[str, Any]], file_format: str, out: Any = None) -> None:
    out = out or sys.stdout
    columns = _columns(name, shaped)
    if file_format == "json":
        json.dump({"table": name, "areas": shaped}, out, indent=2)
        out.write("\n")
        return
    if file_format == "csv":
        writer = csv.writer(out)
        writer.writerow(["area_code", "label", *columns])
        for area, table in shaped.items():
            for row in table["rows"]:
                writer.writerow([area, row["label"], *(_cell(row.get(c), c in row) for c in columns)])
        return
    for area, table in shaped.items():
        title = f"{name} - {area or 'national'}"
        if "response_rate" in table:
            rate = table["response_rate"]
            title += f" (response rate {rate:.1%})" if rate is not None else " (response rate suppressed)"
        out.write(f"\n{title}\n")
        widths = [max(len(c), 7) for c in columns]
        out.write(f"  {'':>14} " + " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)) + "\n")
        for row in table["rows"]:
            cells = [_cell(row.get(c), c in row) for c in columns]
            line = " ".join(f"{v:>{w}}" for v, w in zip(cells, widths, strict=True))
            out.write(f"  {row['label']:>14} {line}\n")
    out.write(f"\n(x: suppressed, fewer than {analytics.MIN_CELL} or protecting such a cell; docs/analytics.md)\n")


def _connect(parquet: Path) -> Any:
    from census_ops.analytics import connect

    return connect(parquet)


def cmd_tabulate(args: argparse.Namespace) -> int:
    from census_ops.analytics import AnalyticsError, manifest, tabulate

    try:
        connection = _connect(Path(args.parquet))
        names = list(analytics.TABLES) if args.tabulation == "all" else [args.tabulation]
        results = {name: tabulate(connection, name, args.area, args.min_cell) for name in names}
    except (AnalyticsError, ValueError) as error:
        print(f"census tabulate: {error}", file=sys.stderr)
        return 1
    for name, shaped in results.items():
        print_table(name, shaped, args.format)
    if args.publish:
        from shared import published_tables

        reference = str(manifest(Path(args.parquet)).get("reference_date"))
        stored = 0
        with target_store(args):
            for name in names:
                # The area and every area below it down to the villages: one item each.
                per_area = {
                    area: tabulate(connection, name, area, args.min_cell)
                    for area in _descendants(connection, args.area)
                }
                stored += published_tables.publish(name, per_area, reference)
        print(f"published {stored} tables (areas x tables) for the console", file=sys.stderr)
    return 0


def _descendants(connection: Any, area: str | None) -> list[str]:
    """The area and the areas within it that have households, down to the villages."""
    from census_ops.analytics import query

    prefix = analytics.area_prefix(area)
    found = [prefix]
    for level in ("province_code", "regency_code", "district_code", "village_code"):
        rows = query(connection, f"SELECT DISTINCT {level} AS code FROM household ORDER BY 1")  # noqa: S608 - fixed names
        found += [r["code"] for r in rows if r["code"].startswith(prefix) and len(r["code"]) > len(prefix)]
    return found


def mask(nik: str) -> str:
    """A NIK as the console prints it: region and serial only (the birth date never); the
    full NIK is in the Parquet set and, for supervisors, in the household's review flags."""
    return f"{nik[:6]}******{nik[-4:]}" if len(nik) == 16 else "*" * len(nik)


def duplicates_report(connection: Any, area: str | None, *, mark: bool, out: Any = None) -> int:
    """Print the people counted twice and the moved-out people found nowhere; mark the
    households of each duplicate for review when `mark`. Returns the duplicate rows."""
    out = out or sys.stdout
    from census_ops.analytics import run_check

    duplicates = run_check(connection, "duplicates", area)
    moved = run_check(connection, "moved_out_not_found", area)
    people = sorted({row["nik"] for row in duplicates})
    out.write(f"\nPeople counted twice ({len(people)} NIKs in {len({r['kk'] for r in duplicates})} households):\n")
    for row in duplicates:
        seen = f"v{row['version']}, {row['status']}"
        out.write(f"  NIK {mask(row['nik'])}  KK {row['kk']} ({seen})  also in KK {row['other_kk']}\n")
    out.write(f"\nMoved out and found in no household ({len(moved)}):\n")
    for row in moved:
        out.write(f"  NIK {mask(row['nik'])}  left KK {row['kk']} (SLS {row['sls_code']})\n")
    if mark and duplicates:
        from shared.review_flags import flag_duplicates

        summary = flag_duplicates(duplicates)
        out.write(
            f"\nMarked for review: {summary['flagged']} households moved to needs_review, "
            f"{summary['already_flagged']} already flagged, {summary['reason_added']} flagged keeping their status, "
            f"{summary['changed_since']} changed since the export (left for the next run).\n"
        )
    return len(duplicates)


def cmd_check_duplicates(args: argparse.Namespace) -> int:
    from census_ops.analytics import AnalyticsError

    try:
        connection = _connect(Path(args.parquet))
    except AnalyticsError as error:
        print(f"census check-duplicates: {error}", file=sys.stderr)
        return 1
    if args.dry_run:
        duplicates_report(connection, args.area, mark=False)
        return 0
    with target_store(args):
        duplicates_report(connection, args.area, mark=True)
    return 0


def cmd_outputs(args: argparse.Namespace) -> int:
    """Export, then the pyramid, then people counted twice (marked) - one command."""
    from census_ops.analytics import AnalyticsError, connect, tabulate, write_parquet_layout
    from census_ops.export import dynamodb_client, item_count, reference_day
    from census_ops.runtime import progress_bar
    from shared.settings import settings

    parquet = Path(args.parquet)
    try:
        analytics.area_prefix(args.area)
        with target_store(args):
            client = dynamodb_client()
            table = settings().table_name
            with progress_bar(item_count(client, table) or 0, "items", "export") as bar:
                summary = write_parquet_layout(client, table, parquet, reference_day(args.reference_date), bar.update)
            print(
                f"exported {summary.persons} persons of {summary.households} households to {parquet}/", file=sys.stderr
            )
            connection = connect(parquet)
            print_table("pyramid", tabulate(connection, "pyramid", args.area), "text")
            duplicates_report(connection, args.area, mark=not args.dry_run)
    except (AnalyticsError, ValueError) as error:
        print(f"census outputs: {error}", file=sys.stderr)
        return 1
    return 0


def register(commands: Any) -> None:
    tab = commands.add_parser("tabulate", help="a population table for an area and its child areas (DuckDB)")
    tab.add_argument("--area", help="area code (province, regency, district or village); default: national")
    tab.add_argument("--table", dest="tabulation", required=True, choices=[*analytics.TABLES, "all"])
    tab.add_argument("--format", choices=["text", "csv", "json"], default="text")
    tab.add_argument("--parquet", default=str(DEFAULT_PARQUET), help=f"the Parquet set (default {DEFAULT_PARQUET})")
    tab.add_argument("--min-cell", type=int, default=analytics.MIN_CELL, help=argparse.SUPPRESS)
    tab.add_argument("--publish", action="store_true", help="store the suppressed tables for the console's API route")
    add_target_arguments(tab, table_flag="--dynamodb-table")  # --publish's table; --table is the tabulation
    tab.set_defaults(func=cmd_tabulate)

    dup = commands.add_parser("check-duplicates", help="people counted twice: list them, mark their households")
    dup.add_argument("--area", help="only duplicates touching this area (default: national)")
    dup.add_argument("--parquet", default=str(DEFAULT_PARQUET))
    dup.add_argument("--dry-run", action="store_true", help="list only; mark nothing")
    add_target_arguments(dup)
    dup.set_defaults(func=cmd_check_duplicates)

    outputs = commands.add_parser("outputs", help="export, population pyramid and people counted twice, in one go")
    outputs.add_argument("--area", default=os.environ.get("CENSUS_AREA"), help="e.g. 1671 (default: national)")
    outputs.add_argument("--parquet", default=str(DEFAULT_PARQUET))
    outputs.add_argument("--reference-date", help="census reference date (default: CENSUS_REFERENCE_DATE, else today)")
    outputs.add_argument("--dry-run", action="store_true", help="list people counted twice without marking them")
    add_target_arguments(outputs)
    outputs.set_defaults(func=cmd_outputs)
