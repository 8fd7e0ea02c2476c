"""`python -m census_ops.bench --only analytics`: the census outputs' figures.

- The demo city on DynamoDB Local: 27,000 households (22,000 responded online, the rest
  pending) written as the service writes them (META, REGISTER, V#), then `census export
  --format parquet`'s path timed (Scan + DuckDB flatten), and every tabulation and check
  timed on the set.
- A 1,000,000-household Parquet set generated directly in the export's layout (DuckDB,
  not through the table), spread over 50 regencies, with a few people counted twice;
  every tabulation (national and one regency) and check timed on it.
- The national picture on paper: Parquet bytes per million persons, the bytes each
  national query reads (the column chunks it needs, from the Parquet metadata: what
  Athena bills), the cost at $5 per TB with Athena's 10 MB minimum, and DynamoDB's export
  to S3 at $0.10 per GB of table (us-east-1), from the measured item sizes.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from shared import analytics

NATIONAL_PERSONS = 270_200_000  # SP2020's count
NATIONAL_HOUSEHOLDS = 70_000_000  # the brief's national scale
ATHENA_USD_PER_TB = 5.0
ATHENA_MINIMUM_BYTES = 10 * 1_000_000
EXPORT_USD_PER_GB = 0.10  # DynamoDB export to S3, us-east-1
REFERENCE = date(2026, 7, 1)
# The columns each query reads (what Athena scans of a Parquet table).
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "pyramid": {"person": ("sls_code", "sex", "age")},
    "household_size": {"household": ("sls_code", "size")},
    "relationship": {"person": ("sls_code", "relationship")},
    "response_channel": {"household": ("sls_code", "channel", "enrolled_in_field")},
    "duplicates": {"person": ("nik", "kk", "sls_code", "status", "version")},
    "moved_out_not_found": {"person": ("nik",), "departed": ("nik", "kk", "sls_code", "version", "reason")},
}


def _log(message: str) -> None:
    import sys

    print(message, file=sys.stderr, flush=True)


def _timed(action: Any, repeats: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 4), result


# ---------------------------------------------------------------- the demo city on DynamoDB Local


def _city_items(households: list[Any], responded: set[str]) -> list[dict[str, Any]]:
    from census_ops.examples import example_submission
    from shared.store import schema

    items: list[dict[str, Any]] = []
    for h in households:
        pk = schema.household_pk(h.kk)
        state: dict[str, Any] = {"status": "pending", "version": 0}
        register = schema.HouseholdRegister(
            pk,
            schema.REGISTER_SK,
            address=h.address,
            sls_code=h.sls_code,
            head_nik=h.members[0].nik,
            members=[
                {
                    "nik": m.nik,
                    "name": m.name,
                    "sex": m.sex,
                    "birth_date": m.birth_date.isoformat(),
                    "relationship": m.relationship,
                }
                for m in h.members
            ],
        )
        items.append(register.serialize())
        if h.kk in responded:
            body = example_submission(h, 0)
            members = [{**m, "added_because": None, "from_register": True} for m in body["members"]]
            version = schema.ResponseVersion(
                pk,
                schema.version_sk(1),
                version=1,
                channel="online",
                status="clean",
                submitted_at="2026-03-01T08:00:00.000Z",
                respondent_nik=body["respondent_nik"],
                members=members,
            )
            items.append(version.serialize())
            state = {
                "status": "clean",
                "version": 1,
                "channel": "online",
                "member_count": len(members),
                "receipt_code": "0" * 13,
            }
        meta = schema.HouseholdState(pk, schema.META_SK, sls_code=h.sls_code, import_batch="bench", **state)
        items.append(meta.serialize())
    return items


def _load(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    chunks = [items[i : i + 25] for i in range(0, len(items), 25)]

    def write(chunk: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, chunks))


def run_city(households: int, online: int) -> dict[str, Any]:
    from census_ops.analytics import connect, run_check, tabulate, write_parquet_layout
    from census_ops.bench.units import item_size
    from census_ops.dynamodb_local import DynamoDBLocal
    from census_ops.register import read_register, write_demo_register
    from census_ops.runtime import configure_environment
    from census_ops.template import create_table

    with tempfile.TemporaryDirectory(prefix="census-analytics-") as folder:
        register = Path(folder) / "register.csv"
        write_demo_register(register, households, seed=2020)
        with register.open(newline="", encoding="utf-8") as stream:
            found = [h for h in read_register(stream) if not isinstance(h, list)]
        responded = {h.kk for h in random.Random(2020).sample(found, min(online, len(found)))}  # noqa: S311
        with DynamoDBLocal(in_memory=True, log_path=Path(folder) / "ddb.log") as engine:
            client = engine.client()
            create_table(client, "census-bench")
            configure_environment("census-bench", engine.endpoint_url)
            items = _city_items(found, responded)
            _log(f"analytics: writing the demo city ({households} households, {len(items)} items) ...")
            _load(client, "census-bench", items)
            table_bytes = sum(item_size(i) for i in items)
            out = Path(folder) / "parquet"
            _log("analytics: exporting the demo city to Parquet ...")
            started = time.perf_counter()
            summary = write_parquet_layout(client, "census-bench", out, REFERENCE)
            export_seconds = time.perf_counter() - started
        city = found[0].sls_code[:4]
        connection = connect(out)
        queries = {name: _timed(lambda n=name: tabulate(connection, n, city))[0] for name in analytics.TABLES}
        checks = {name: _timed(lambda n=name: run_check(connection, n, city))[0] for name in analytics.CHECKS}
        parquet_bytes = sum(p.stat().st_size for p in out.rglob("*.parquet"))
    return {
        "households": households,
        "responded": len(responded),
        "persons": summary.persons,
        "items": len(items),
        "table_bytes": table_bytes,
        "export_seconds": round(export_seconds, 2),
        "parquet_bytes": parquet_bytes,
        "tabulation_seconds": queries,
        "check_seconds": checks,
    }


# ---------------------------------------------------------------- a million households, generated


GENERATE_HOUSEHOLDS = """
CREATE TABLE g_household AS
SELECT
    lpad(CAST(i AS VARCHAR), 16, '0') AS kk,
    regency_code,
    regency_code || lpad(CAST(1 + (h >> 3) % 12 AS VARCHAR), 3, '0') AS district_code,
    regency_code || lpad(CAST(1 + (h >> 3) % 12 AS VARCHAR), 3, '0') || lpad(CAST(1 + (h >> 7) % 15 AS VARCHAR), 3, '0')
        AS village_code,
    regency_code || lpad(CAST(1 + (h >> 3) % 12 AS VARCHAR), 3, '0') || lpad(CAST(1 + (h >> 7) % 15 AS VARCHAR), 3, '0')
        || lpad(CAST(1 + (h >> 11) % 6 AS VARCHAR), 4, '0') AS sls_code,
    CASE WHEN h % 100 < 81 THEN 'online' WHEN h % 100 < 96 THEN 'interview' END AS channel,
    CASE WHEN h % 100 < 96 THEN CAST(1 + (h >> 13) % 7 AS INTEGER) END AS size,
    h % 1000 = 999 AS enrolled_in_field
FROM (
    SELECT i, hash(i) AS h,
        CAST(11 + (i % 50) // 2 * 3 AS VARCHAR) || lpad(CAST(1 + i % 2 AS VARCHAR), 2, '0') AS regency_code
    FROM range($households) AS t(i)
)
"""
GENERATE_PERSONS = """
CREATE TABLE g_person AS
SELECT
    kk,
    CAST(m AS INTEGER) AS member_index,
    CASE WHEN hash(kk, m) % 1000 = 0 AND m > 0
        THEN lpad(CAST((CAST(kk AS BIGINT) + 7) * 32 AS VARCHAR), 16, '0')  -- someone of another household
        ELSE lpad(CAST(CAST(kk AS BIGINT) * 32 + m AS VARCHAR), 16, '0') END AS nik,
    substr(regency_code, 1, 2) AS province_code, regency_code, district_code, village_code, sls_code,
    CASE WHEN hash(kk, m, 1) % 2 = 0 THEN 'male' ELSE 'female' END AS sex,
    CAST(hash(kk, m, 2) % 90 AS INTEGER) AS age,
    CASE m WHEN 0 THEN 'head' WHEN 1 THEN 'spouse' ELSE 'child' END AS relationship,
    channel, CASE WHEN channel = 'online' THEN 'clean' ELSE 'interviewed' END AS status, 1 AS version,
    regency_code AS regency
FROM g_household, range(CAST(size AS BIGINT)) AS t(m)
WHERE size IS NOT NULL
"""
GENERATE_DEPARTED = """
CREATE TABLE g_departed AS
SELECT kk, lpad(CAST(CAST(kk AS BIGINT) * 32 + 31 AS VARCHAR), 16, '0') AS nik, 'moved_out' AS reason,
    regency_code, village_code, sls_code, 1 AS version, regency_code AS regency
FROM g_household WHERE hash(kk) % 100 = 0 AND size IS NOT NULL
"""


def generate_set(connection: Any, out: Path, households: int) -> dict[str, int]:
    """A Parquet set in the export's layout, generated in DuckDB (not through the table)."""
    connection.execute(GENERATE_HOUSEHOLDS.replace("$households", str(int(households))))
    connection.execute(GENERATE_PERSONS)
    connection.execute(GENERATE_DEPARTED)
    counts = {}
    for name, select in (
        (
            "household",
            "SELECT *, 'clean' AS status, 1 AS version, NULL AS submitted_at, regency_code AS regency FROM g_household",
        ),
        ("person", "SELECT * FROM g_person"),
        ("departed", "SELECT * FROM g_departed"),
    ):
        connection.execute(
            f"COPY ({select}) TO '{out / name}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (regency))"
        )
        counts[name] = int(connection.execute(f"SELECT count(*) FROM g_{name}").fetchone()[0])  # noqa: S608
    (out / "_manifest.json").write_text(json.dumps({"generated": True, "rows": counts}))
    return counts


def scanned_bytes(connection: Any, out: Path) -> dict[str, int]:
    """The compressed bytes of the column chunks each query reads, over the whole set."""
    sizes: dict[tuple[str, str], int] = {}
    for name in analytics.EXPORTS:
        files = str(out / name / "*" / "*.parquet")
        for column, size in connection.execute(
            "SELECT path_in_schema, sum(total_compressed_size) FROM parquet_metadata(?) GROUP BY 1", [files]
        ).fetchall():
            sizes[(name, str(column))] = int(size)
    return {
        query: sum(sizes.get((table, c), 0) for table, cols in tables.items() for c in cols)
        for query, tables in COLUMNS.items()
    }


def run_million(households: int) -> dict[str, Any]:
    import duckdb

    from census_ops.analytics import connect, run_check, tabulate

    with tempfile.TemporaryDirectory(prefix="census-million-") as folder:
        out = Path(folder) / "parquet"
        out.mkdir()
        _log(f"analytics: generating {households:,} households as Parquet ...")
        with duckdb.connect() as generator:
            counts = generate_set(generator, out, households)
            scanned = scanned_bytes(generator, out)
        connection = connect(out)
        regency = "1101"
        national = {name: _timed(lambda n=name: tabulate(connection, n, None), 1)[0] for name in analytics.TABLES}
        one = {name: _timed(lambda n=name: tabulate(connection, n, regency), 1)[0] for name in analytics.TABLES}
        checks = {name: _timed(lambda n=name: run_check(connection, n), 1) for name in analytics.CHECKS}
        person_bytes = sum(p.stat().st_size for p in (out / "person").rglob("*.parquet"))
        household_bytes = sum(p.stat().st_size for p in (out / "household").rglob("*.parquet"))
    return {
        "households": counts["household"],
        "persons": counts["person"],
        "person_parquet_bytes": person_bytes,
        "household_parquet_bytes": household_bytes,
        "scanned_bytes": scanned,
        "national_seconds": national,
        "regency_seconds": one,
        "check_seconds": {k: v[0] for k, v in checks.items()},
        "check_rows": {k: len(v[1]) for k, v in checks.items()},
    }


def national(city: dict[str, Any] | None, million: dict[str, Any]) -> dict[str, Any]:
    persons, households = million["persons"], million["households"]
    per_million_persons = million["person_parquet_bytes"] / persons * 1_000_000
    queries = {}
    for query, scanned in million["scanned_bytes"].items():
        table = next(iter(COLUMNS[query]))
        scale = NATIONAL_PERSONS / persons if table == "person" else NATIONAL_HOUSEHOLDS / households
        if query == "moved_out_not_found":
            scale = NATIONAL_PERSONS / persons
        national_bytes = scanned * scale
        billed = max(national_bytes, ATHENA_MINIMUM_BYTES)
        queries[query] = {
            "bytes_per_million_rows": round(scanned / (persons if table == "person" else households) * 1e6),
            "national_bytes": round(national_bytes),
            "national_usd": round(billed / 1e12 * ATHENA_USD_PER_TB, 4),
        }
    result: dict[str, Any] = {
        "person_parquet_bytes_per_million_persons": round(per_million_persons),
        "national_person_parquet_bytes": round(per_million_persons * NATIONAL_PERSONS / 1e6),
        "queries": queries,
    }
    if city:
        per_household = city["table_bytes"] / city["households"]
        table_gb = per_household * NATIONAL_HOUSEHOLDS / 1e9
        result["export"] = {
            "table_bytes_per_household": round(per_household),
            "national_table_gb": round(table_gb, 1),
            "national_export_usd": round(table_gb * EXPORT_USD_PER_GB, 2),
            "city_export_seconds": city["export_seconds"],
        }
    return result


def run(households: int, online: int, million: int) -> dict[str, Any]:
    city = run_city(households, online) if households else None
    big = run_million(million)
    return {"city": city, "million": big, "national": national(city, big)}


def report(results: dict[str, Any]) -> str:
    lines = ["Analytics (census outputs)"]
    city, big, nat = results.get("city"), results["million"], results["national"]
    if city:
        lines.append(
            f"  demo city: {city['households']:,} households ({city['responded']:,} responded, {city['persons']:,} "
            f"persons, {city['items']:,} items): export to Parquet {city['export_seconds']} s, "
            f"{city['parquet_bytes'] / 1e6:.2f} MB"
        )
        lines.append("    tabulations (s): " + ", ".join(f"{k} {v}" for k, v in city["tabulation_seconds"].items()))
        lines.append("    checks (s): " + ", ".join(f"{k} {v}" for k, v in city["check_seconds"].items()))
    lines.append(
        f"  generated set: {big['households']:,} households, {big['persons']:,} persons, person table "
        f"{big['person_parquet_bytes'] / 1e6:.1f} MB"
    )
    lines.append("    national tabulations (s): " + ", ".join(f"{k} {v}" for k, v in big["national_seconds"].items()))
    lines.append("    one regency (s): " + ", ".join(f"{k} {v}" for k, v in big["regency_seconds"].items()))
    lines.append(
        "    checks (s): "
        + ", ".join(f"{k} {v} ({big['check_rows'][k]} rows)" for k, v in big["check_seconds"].items())
    )
    lines.append(
        f"  national: person Parquet {nat['person_parquet_bytes_per_million_persons'] / 1e6:.1f} MB per million"
        f" persons, {nat['national_person_parquet_bytes'] / 1e9:.2f} GB for 270.2 M persons"
    )
    for query, q in nat["queries"].items():
        lines.append(
            f"    {query}: Athena scans {q['national_bytes'] / 1e9:.2f} GB nationally, US${q['national_usd']:.4f}"
        )
    if "export" in nat:
        e = nat["export"]
        lines.append(
            f"  export: {e['table_bytes_per_household']} table bytes per household,"
            f" {e['national_table_gb']} GB for 70 M, DynamoDB export to S3 US${e['national_export_usd']}"
        )
    return "\n".join(lines)
