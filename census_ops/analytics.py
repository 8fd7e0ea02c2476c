"""The census outputs locally, on DuckDB, with the same SQL Athena runs in AWS
(shared/analytics/sql): the Parquet export, the tabulations and the people-counted-twice
checks.

- `write_parquet_layout`: the table's household items (META and every V#) read with one
  Scan, written as DynamoDB JSON lines exactly as DynamoDB's export to S3 writes them, then
  flattened by the export SQL into DIR/{person,household,departed}/regency=<code>/*.parquet.
  Written beside DIR and swapped in whole, so a re-run replaces the set and an interrupted
  one leaves the previous set as it was.
- `connect`: a DuckDB connection with the three tables as views over a Parquet set.
- `tabulate` / `run_check`: a published (suppressed) table, or a check's rows.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from shared import analytics

PARQUET_TABLES = analytics.EXPORTS
MANIFEST = "_manifest.json"
SCAN_SEGMENTS = 4  # parallel Scan segments of the local export
# The empty partition a table with no rows gets, so its schema is still on disk. No real
# regency is 0000 (AWS's partition projection starts at 1101).
EMPTY_PARTITION = "regency=0000"

# The attributes of the table's items the export SQL reads, in DynamoDB JSON: the struct
# DuckDB parses each line's `Item` into. The Glue table over DynamoDB's export to S3
# (template.yaml, AnalyticsExportTable) declares the same fields (a test compares them).
_S, _N, _BOOL = {"S": "string"}, {"N": "string"}, {"BOOL": "boolean"}
MEMBER_FIELDS: dict[str, dict[str, Any]] = {
    "nik": _S,
    "sex": _S,
    "birth_date": _S,
    "relationship": _S,
    "marital_status": _S,
    "religion": _S,
    "education": _S,
    "citizenship": _S,
    "lives_at_kk_address": _BOOL,
    "current_area_code": _S,
    "added_because": _S,
}
DEPARTED_FIELDS: dict[str, dict[str, Any]] = {"nik": _S, "reason": _S}
ITEM_FIELDS: dict[str, dict[str, Any]] = {
    "pk": _S,
    "sk": _S,
    "kind": _S,
    "status": _S,
    "version": _N,
    "sls_code": _S,
    "member_count": _N,
    "import_batch": _S,
    "channel": _S,
    "submitted_at": _S,
    # Each element a "|"-joined string (S, shared/store/schema.py RowsAttribute) or a map (M).
    "members": {"L": [{"M": MEMBER_FIELDS, "S": "string"}]},
    "departed": {"L": [{"M": DEPARTED_FIELDS, "S": "string"}]},
}


def _duckdb_type(spec: Any) -> str:
    if spec == "string":
        return "VARCHAR"
    if spec == "boolean":
        return "BOOLEAN"
    if isinstance(spec, list):
        return _duckdb_type(spec[0]) + "[]"
    return "STRUCT(" + ", ".join(f'"{k}" {_duckdb_type(v)}' for k, v in spec.items()) + ")"


def hive_type(spec: Any) -> str:
    """The same shape as Glue/Hive spells it (the template's raw export table)."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return f"array<{hive_type(spec[0])}>"
    return "struct<" + ",".join(f"{k.lower()}:{hive_type(v)}" for k, v in spec.items()) + ">"


ITEM_TYPE = _duckdb_type(ITEM_FIELDS)


class AnalyticsError(Exception):
    """Something the operator must fix; the message says what."""


@dataclass(frozen=True)
class ExportSummary:
    households: int
    persons: int
    departed: int
    items: int


def _duckdb() -> Any:
    import duckdb

    return duckdb


# ---------------------------------------------------------------- the table, as DynamoDB JSON


def scan_household_items(
    client: Any, table: str, progress: Callable[[int], None], segment: int = 0, segments: int = 1
) -> Iterator[dict[str, Any]]:
    """Every household's META and response versions (one segment of a parallel Scan), as
    DynamoDB's export writes items."""
    from shared.store import schema

    pages = client.get_paginator("scan").paginate(
        TableName=table,
        Segment=segment,
        TotalSegments=segments,
        FilterExpression="begins_with(pk, :household) AND (sk = :meta OR begins_with(sk, :version))",
        ExpressionAttributeValues={
            ":household": {"S": schema.household_pk("")},
            ":meta": {"S": schema.META_SK},
            ":version": {"S": schema.VERSION_PREFIX},
        },
    )
    for page in pages:
        progress(int(page.get("ScannedCount", 0)))
        yield from page["Items"]


def write_export_lines(items: Iterator[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as stream:
        for item in items:
            stream.write(json.dumps({"Item": item}, separators=(",", ":")) + "\n")
            count += 1
    return count


def register_export(connection: Any, lines: Path, export_id: str = "local") -> None:
    """`dynamodb_export`: DynamoDB-JSON lines (a file or a glob) read once into a table with
    the columns Athena's table has (each export query reads it twice or more)."""
    escaped = str(lines).replace("'", "''")
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE dynamodb_export AS "  # noqa: S608 - our own names and paths
        f"SELECT '{export_id}' AS export_id, \"Item\" AS item FROM read_json('{escaped}', "
        f"format = 'newline_delimited', columns = {{'Item': '{ITEM_TYPE}'}})"
    )


def flatten(connection: Any, out: Path, reference_date: date, export_id: str = "local") -> dict[str, int]:
    """Run the export SQL into a Parquet set at `out`; rows per table."""
    counts = {}
    for name in PARQUET_TABLES:
        select = analytics.export_select(name, export_id=export_id, reference_date=reference_date)
        connection.execute(f"CREATE OR REPLACE TEMP TABLE flat_{name} AS {select}")
        counts[name] = int(connection.execute(f"SELECT count(*) FROM flat_{name}").fetchone()[0])  # noqa: S608 - our own names and paths
        target = out / name
        if counts[name]:
            connection.execute(
                f"COPY flat_{name} TO '{target}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (regency))"
            )
        else:
            (target / EMPTY_PARTITION).mkdir(parents=True)
            columns = ", ".join(c for c in _columns(connection, f"flat_{name}") if c != "regency")
            connection.execute(
                f"COPY (SELECT {columns} FROM flat_{name}) TO '{target / EMPTY_PARTITION / 'empty.parquet'}' "  # noqa: S608 - our own names and paths
                "(FORMAT parquet)"
            )
    return counts


def _columns(connection: Any, relation: str) -> list[str]:
    return [row[0] for row in connection.execute(f"DESCRIBE {relation}").fetchall()]


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, stat.S_IRWXU)
    return path


def write_parquet_layout(
    client: Any, table: str, out: Path, reference_date: date, progress: Callable[[int], None] = lambda _: None
) -> ExportSummary:
    """The table's latest responses as the Parquet layout at `out`, replacing what is there."""
    duckdb = _duckdb()
    out = out.resolve()
    _private_dir(out.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))  # 0700, beside out
    try:
        # Personal data: inside the private staging folder. A parallel Scan, one file a segment.
        def scan(segment: int) -> int:
            found = scan_household_items(client, table, progress, segment, SCAN_SEGMENTS)
            return write_export_lines(found, staging / f"export-{segment}.jsonl")

        with ThreadPoolExecutor(max_workers=SCAN_SEGMENTS) as pool:
            items = sum(pool.map(scan, range(SCAN_SEGMENTS)))
        result = staging / "set"
        _private_dir(result)
        with duckdb.connect() as connection:
            register_export(connection, staging / "export-*.jsonl")
            counts = flatten(connection, result, reference_date)
            households = int(connection.execute("SELECT count(*) FROM flat_household").fetchone()[0])
        for lines in staging.glob("export-*.jsonl"):
            lines.unlink()
        (result / MANIFEST).write_text(
            json.dumps(
                {
                    "reference_date": reference_date.isoformat(),
                    "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "table": table,
                    "rows": counts,
                },
                indent=2,
            )
        )
        old = staging / "old"
        if out.exists():
            out.rename(old)
        result.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportSummary(households, counts["person"], counts["departed"], items)


# ---------------------------------------------------------------- reading a Parquet set


def connect(parquet: Path) -> Any:
    """DuckDB with `person`, `household` and `departed` as views over a Parquet set."""
    if not (parquet / MANIFEST).is_file():
        raise AnalyticsError(f"no Parquet set at {parquet}: run `census export --format parquet --out {parquet}` first")
    connection = _duckdb().connect()
    for name in PARQUET_TABLES:
        files = str(parquet / name / "*" / "*.parquet").replace("'", "''")
        connection.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{files}', hive_partitioning = true, "  # noqa: S608 - our own names and paths
            "hive_types = {'regency': VARCHAR}, union_by_name = true)"
        )
    return connection


def manifest(parquet: Path) -> dict[str, Any]:
    return dict(json.loads((parquet / MANIFEST).read_text()))


def query(connection: Any, sql: str) -> list[dict[str, Any]]:
    cursor = connection.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def tabulate(connection: Any, name: str, area: str | None, min_cell: int = analytics.MIN_CELL) -> dict[str, Any]:
    """{area_code: {"rows": [...], ...}} for the area and its child areas, suppressed."""
    return analytics.by_area(name, query(connection, analytics.published(name, area, min_cell)))


def run_check(connection: Any, name: str, area: str | None = None) -> list[dict[str, Any]]:
    return query(connection, analytics.check(name, area))
