"""`census export`: the stored responses, for processing.

Two ways, one command:

- To a CSV file, from any table the other commands reach: the local service's
  (`--local`), a DynamoDB endpoint (`--endpoint-url`), or AWS (`TABLE_NAME`). One row per
  member of each household's latest response version, with the household's columns
  repeated. It reads the table with one Scan (household state items only, filtered
  server-side) and one BatchGetItem per 100 households: fine for a city, not for 70
  million households.
- To the Parquet layout (`--format parquet --out DIR`): the person, household and
  departed tables partitioned by regency, flattened by the same SQL Athena runs on
  DynamoDB's export to S3 (census_ops/analytics.py, docs/analytics.md).
- In production, DynamoDB's own export to S3 (`--s3-bucket`): a point-in-time snapshot
  that reads no table capacity at all (it works from the continuous backups that
  point-in-time recovery keeps), started here and left to run; `--wait` follows it.

The file holds NIKs and names: it is written readable by its owner only, and nothing of
its content is printed.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from shared.store import schema

HOUSEHOLD_COLUMNS = ("kk", "receipt_code", "version", "status", "channel", "submitted_at", "sls_code", "review_reasons")
MEMBER_COLUMNS = (
    "member_index",
    "nik",
    "name",
    "relationship",
    "sex",
    "birth_date",
    "marital_status",
    "religion",
    "education",
    "citizenship",
    "lives_at_kk_address",
    "current_area_code",
)
COLUMNS = HOUSEHOLD_COLUMNS + MEMBER_COLUMNS
_BATCH_GET = 100  # BatchGetItem's limit
EXPORT_FORMATS = ("DYNAMODB_JSON", "ION")


class ExportError(Exception):
    """Something the operator must fix; the message says what."""


@dataclass(frozen=True)
class ExportSummary:
    households: int
    rows: int


Progress = Callable[[int], None]


# ---------------------------------------------------------------- reading the table


def _scan_responded(client: Any, table: str, progress: Progress) -> Iterator[Any]:
    """Household state (META) items of households with at least one stored response."""
    from shared import store

    paginator = client.get_paginator("scan")
    pages = paginator.paginate(
        TableName=table,
        FilterExpression="sk = :meta AND begins_with(pk, :household) AND #version > :none",
        ExpressionAttributeNames={"#version": "version"},
        ExpressionAttributeValues={
            ":meta": {"S": store.META_SK},
            ":household": {"S": store.household_pk("")},
            ":none": {"N": "0"},
        },
    )
    for page in pages:
        progress(int(page.get("ScannedCount", 0)))
        for item in page["Items"]:
            yield store.HouseholdState.from_raw_data(item)


def _latest_versions(states: Sequence[Any]) -> dict[str, Any]:
    """{pk: the ResponseVersion that META names as current}, one BatchGetItem per 100."""
    from shared import store

    keys = [(state.pk, store.version_sk(int(state.version))) for state in states]
    return {item.pk: item for item in store.ResponseVersion.batch_get(keys)}


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | str) else str(value)


def household_rows(state: Any, version: Any) -> list[dict[str, Any]]:
    """The export rows of one household: one per member of its latest response."""
    household = {
        "kk": schema.kk_of(state.pk),
        "receipt_code": state.receipt_code,
        "version": int(version.version),
        "status": state.status,
        "channel": version.channel,
        "submitted_at": version.submitted_at,
        "sls_code": state.sls_code,
        "review_reasons": ";".join(version.review_reasons or []),
    }
    rows = []
    for index, member in enumerate(version.members):
        values = member.as_dict() if hasattr(member, "as_dict") else dict(member)
        row = {**household, "member_index": index}
        row.update({column: _text(values.get(column)) for column in MEMBER_COLUMNS[1:]})
        rows.append(row)
    return rows


def export_rows(client: Any, table: str, progress: Progress = lambda _: None) -> Iterator[list[dict[str, Any]]]:
    """Each responded household's rows, a household at a time, in table order."""
    batch: list[Any] = []

    def flush() -> Iterator[list[dict[str, Any]]]:
        versions = _latest_versions(batch)
        for state in batch:
            version = versions.get(state.pk)
            if version is None:
                # META moved on after the Scan read it and its version is not there yet:
                # impossible with one transaction per version, so say so rather than skip.
                raise ExportError(f"household {state.pk}: version {state.version} is missing")
            yield household_rows(state, version)
        batch.clear()

    for state in _scan_responded(client, table, progress):
        batch.append(state)
        if len(batch) == _BATCH_GET:
            yield from flush()
    if batch:
        yield from flush()


# ---------------------------------------------------------------- writing files


def _private(path: Path, binary: bool) -> Any:
    """Open for writing, readable by the owner only (the file holds personal data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # also when the file already existed with wider permissions
    if binary:
        return os.fdopen(descriptor, "wb")
    return os.fdopen(descriptor, "w", newline="", encoding="utf-8")


def write_csv(households: Iterable[list[dict[str, Any]]], path: Path) -> ExportSummary:
    count = rows = 0
    with _private(path, binary=False) as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS)
        writer.writeheader()
        for household in households:
            for row in household:
                writer.writerow({k: ("true" if v is True else "false" if v is False else v) for k, v in row.items()})
            count, rows = count + 1, rows + len(household)
    return ExportSummary(count, rows)


def export_to_file(client: Any, table: str, path: Path, file_format: str, progress: Progress) -> ExportSummary:
    if file_format != "csv":
        raise ExportError(f"unknown file format {file_format!r}: csv (Parquet is a folder: --format parquet)")
    return write_csv(export_rows(client, table, progress), path)


# ---------------------------------------------------------------- DynamoDB export to S3


def table_arn(client: Any, table: str) -> str:
    if table.startswith("arn:"):
        return table
    arn: str = client.describe_table(TableName=table)["Table"]["TableArn"]
    return arn


def start_s3_export(
    client: Any,
    table: str,
    bucket: str,
    prefix: str,
    *,
    kms_key: str | None = None,
    export_format: str = "DYNAMODB_JSON",
) -> dict[str, Any]:
    """Start DynamoDB's full export of the table's current point in time; its description."""
    request: dict[str, Any] = {
        "TableArn": table_arn(client, table),
        "S3Bucket": bucket,
        "S3Prefix": prefix.strip("/"),
        "ExportFormat": export_format,
        "ExportType": "FULL_EXPORT",
    }
    if kms_key:
        request.update(S3SseAlgorithm="KMS", S3SseKmsKeyId=kms_key)
    description: dict[str, Any] = client.export_table_to_point_in_time(**request)["ExportDescription"]
    return description


def wait_for_export(
    client: Any, export_arn: str, *, poll_seconds: float = 30.0, timeout_seconds: float = 6 * 3600
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_seconds
    while True:
        description: dict[str, Any] = client.describe_export(ExportArn=export_arn)["ExportDescription"]
        if description["ExportStatus"] != "IN_PROGRESS":
            return description
        if time.monotonic() > deadline:
            raise ExportError(f"export still in progress after {timeout_seconds:.0f} s: {export_arn}")
        time.sleep(poll_seconds)


# ---------------------------------------------------------------- command line


def dynamodb_client() -> Any:
    import boto3

    from shared.settings import settings

    config = settings()
    return boto3.client("dynamodb", region_name=config.region, endpoint_url=config.dynamodb_endpoint_url)


def item_count(client: Any, table: str) -> int | None:
    """DynamoDB's item count (refreshed about every six hours on AWS): the progress bar's total."""
    count = client.describe_table(TableName=table)["Table"].get("ItemCount")
    return int(count) if count else None


def _to_s3(args: argparse.Namespace) -> int:
    from shared import store
    from shared.settings import settings

    store.bind(settings())
    client = dynamodb_client()
    table = args.table or settings().table_name
    description = start_s3_export(
        client, table, args.s3_bucket, args.s3_prefix, kms_key=args.kms_key, export_format=args.export_format
    )
    print(description["ExportArn"])
    print(f"export started: s3://{args.s3_bucket}/{args.s3_prefix.strip('/')}/", file=sys.stderr)
    if not args.wait:
        return 0
    done = wait_for_export(client, description["ExportArn"], poll_seconds=args.poll_seconds)
    status = done["ExportStatus"]
    if status != "COMPLETED":
        print(f"export {status}: {done.get('FailureCode', '')} {done.get('FailureMessage', '')}", file=sys.stderr)
        return 1
    manifest = done.get("ExportManifest", "")
    print(f"export COMPLETED: {done.get('ItemCount', '?')} items, manifest {manifest}", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    if args.s3_bucket:
        if args.out or args.local or args.endpoint_url:
            print(
                "census export: --s3-bucket runs on AWS; it takes no --out, --local or --endpoint-url", file=sys.stderr
            )
            return 2
        return _to_s3(args)
    if not args.out:
        print("census export: give --out FILE (or --s3-bucket for DynamoDB's export to S3)", file=sys.stderr)
        return 2
    from census_ops.runtime import progress_bar, target_store
    from shared.settings import settings

    out = Path(args.out)
    file_format = args.format or "csv"
    if args.table is None:
        args.table = os.environ.get("TABLE_NAME") or "census-local"
    elif not (args.local or args.endpoint_url):
        os.environ["TABLE_NAME"] = args.table  # AWS: the table named, not the environment's
        settings.cache_clear()
    try:
        with target_store(args):
            client = dynamodb_client()
            table = settings().table_name
            with progress_bar(item_count(client, table) or 0, "items", "export") as bar:
                if file_format == "parquet":
                    parquet_summary = write_parquet_set(client, table, out, args.reference_date, bar.update)
                else:
                    summary = export_to_file(client, table, out, file_format, bar.update)
                if bar.total:
                    bar.update(max(0, bar.total - bar.n))
    except (ExportError, ValueError) as error:
        print(f"census export: {error}", file=sys.stderr)
        return 1
    if file_format == "parquet":
        print(
            f"wrote {parquet_summary.persons} persons of {parquet_summary.households} households "
            f"({parquet_summary.departed} departed) to {out}/ (Parquet, by regency)",
            file=sys.stderr,
        )
        return 0
    print(f"wrote {summary.rows} members of {summary.households} households to {out} ({file_format})", file=sys.stderr)
    return 0


def write_parquet_set(client: Any, table: str, out: Path, reference_date: str | None, progress: Progress) -> Any:
    from census_ops.analytics import write_parquet_layout

    return write_parquet_layout(client, table, out, reference_day(reference_date), progress)


def reference_day(raw: str | None) -> date:
    """The census reference date: --reference-date, else CENSUS_REFERENCE_DATE, else today in WIB."""
    raw = raw or os.environ.get("CENSUS_REFERENCE_DATE")
    if raw:
        return date.fromisoformat(raw)
    return datetime.now(timezone(timedelta(hours=7))).date()


def register(commands: Any) -> None:
    """Add `census export` to the CLI's subcommands."""
    from census_ops.runtime import DEFAULT_DATA_DIR

    export = commands.add_parser(
        "export",
        help="export the latest responses: to CSV/Parquet, or DynamoDB's export to S3",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    export.add_argument(
        "--out", help="CSV file to write (one row per member), or with --format parquet the folder of the Parquet set"
    )
    export.add_argument("--format", choices=["csv", "parquet"], default="csv", help="default: csv")
    export.add_argument(
        "--reference-date", help="census reference date for ages (default: CENSUS_REFERENCE_DATE, else today)"
    )
    export.add_argument("--table", help="table name (default: TABLE_NAME, else the local service's table)")
    export.add_argument("--endpoint-url", help="a DynamoDB endpoint, e.g. a running DynamoDB Local")
    export.add_argument("--local", action="store_true", help="read the local service's data dir (service stopped)")
    export.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    s3 = export.add_argument_group("DynamoDB export to S3 (production; needs point-in-time recovery, which is on)")
    s3.add_argument("--s3-bucket", help="destination bucket (the stack's ExportBucketName output)")
    s3.add_argument("--s3-prefix", default="exports", help="key prefix in the bucket (default: exports)")
    s3.add_argument("--kms-key", help="KMS key for the exported objects (default: the bucket's own encryption)")
    s3.add_argument("--export-format", choices=EXPORT_FORMATS, default="DYNAMODB_JSON")
    s3.add_argument("--wait", action="store_true", help="follow the export until it completes")
    s3.add_argument("--poll-seconds", type=float, default=30.0, help=argparse.SUPPRESS)
    export.set_defaults(func=cmd_export)
