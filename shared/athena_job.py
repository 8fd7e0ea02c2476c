"""The census outputs in AWS: the same SQL as `census outputs`, run by Athena.

Steps, each one invocation of the analytics function (schedules in template.yaml, or on
demand: `aws lambda invoke --function-name <AnalyticsFunction> --payload '{"action": ...}'`):

- `export`: start DynamoDB's point-in-time export of the table to the analytics bucket
  (`exports/AWSDynamoDB/<export id>/data/`, DynamoDB JSON). Reads no table capacity.
- `advance`: if the newest completed export is not yet the current Parquet set, flatten it
  (Athena UNLOAD of shared/analytics/sql/export/*.sql into `parquet/<export id>/<table>/`),
  point the Glue tables at it, publish the tables (national and per province) and run the
  duplicate check, marking the households of each person counted twice for review.
- `publish` (`{"area": CODE}`): publish one area's tables now.
- `check-duplicates`: run the duplicate check on the current set and mark.

Talks to DynamoDB's export API, Athena and Glue with boto3: an adapter, like shared/queues.py;
the marking goes through shared.review_flags, the publishing through shared.published_tables.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import boto3

from shared import analytics

PARQUET_PREFIX = "parquet"
EXPORT_PREFIX = "exports"


@dataclass(frozen=True)
class JobSettings:
    table_arn: str
    bucket: str
    kms_key: str
    workgroup: str
    database: str
    reference_date: str

    @staticmethod
    def from_environment() -> JobSettings:
        return JobSettings(
            table_arn=os.environ["TABLE_ARN"],
            bucket=os.environ["ANALYTICS_BUCKET"],
            kms_key=os.environ["ANALYTICS_KMS_KEY"],
            workgroup=os.environ["ATHENA_WORKGROUP"],
            database=os.environ["GLUE_DATABASE"],
            reference_date=os.environ.get("CENSUS_REFERENCE_DATE") or date.today().isoformat(),
        )


@lru_cache(maxsize=4)
def _client(service: str) -> Any:
    return boto3.client(service)


# ---------------------------------------------------------------- DynamoDB export to S3


def start_export(job: JobSettings) -> str:
    answer = _client("dynamodb").export_table_to_point_in_time(
        TableArn=job.table_arn,
        S3Bucket=job.bucket,
        S3Prefix=EXPORT_PREFIX,
        S3SseAlgorithm="KMS",
        S3SseKmsKeyId=job.kms_key,
        ExportFormat="DYNAMODB_JSON",
        ExportType="FULL_EXPORT",
    )
    return str(answer["ExportDescription"]["ExportArn"])


def newest_completed_export(job: JobSettings) -> str | None:
    """The export id (the ARN's last segment, also its S3 folder) of the newest completed one."""
    exports = _client("dynamodb").list_exports(TableArn=job.table_arn).get("ExportSummaries", [])
    done = [e["ExportArn"] for e in exports if e.get("ExportStatus") == "COMPLETED"]
    if not done:
        return None
    return str(sorted(done)[-1].rsplit("/", 1)[-1])  # ids start with the export time in ms


# ---------------------------------------------------------------- Athena


class QueryFailed(Exception):
    pass


def run_query(job: JobSettings, sql: str, *, poll_seconds: float = 2.0, timeout_seconds: float = 780) -> str:
    """Run one statement in the workgroup (its bytes-scanned cutoff and result location are
    enforced there); the execution id once it succeeded."""
    athena = _client("athena")
    execution = athena.start_query_execution(
        QueryString=sql, WorkGroup=job.workgroup, QueryExecutionContext={"Database": job.database}
    )["QueryExecutionId"]
    deadline = time.monotonic() + timeout_seconds
    while True:
        status = athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Status"]
        if status["State"] == "SUCCEEDED":
            return str(execution)
        if status["State"] in {"FAILED", "CANCELLED"}:
            raise QueryFailed(status.get("StateChangeReason", status["State"]))
        if time.monotonic() > deadline:
            athena.stop_query_execution(QueryExecutionId=execution)
            raise QueryFailed("timed out")
        time.sleep(poll_seconds)


def rows(job: JobSettings, sql: str) -> list[dict[str, Any]]:
    """A query's rows as dicts of strings (None for NULL)."""
    execution = run_query(job, sql)
    pages = _client("athena").get_paginator("get_query_results").paginate(QueryExecutionId=execution)
    found: list[dict[str, Any]] = []
    names: list[str] = []
    for page in pages:
        for row in page["ResultSet"]["Rows"]:
            values = [cell.get("VarCharValue") for cell in row["Data"]]
            if not names:
                names = [str(v) for v in values]  # the header row
                continue
            found.append(dict(zip(names, values, strict=True)))
    return found


def unload(job: JobSettings, name: str, export_id: str) -> str:
    """Flatten one export into `parquet/<export id>/<name>/`, partitioned by regency."""
    location = f"s3://{job.bucket}/{PARQUET_PREFIX}/{export_id}/{name}/"
    select = analytics.export_select(name, export_id=export_id, reference_date=job.reference_date)
    run_query(
        job,
        f"UNLOAD ({select}) TO '{location}' "
        "WITH (format = 'PARQUET', compression = 'ZSTD', partitioned_by = ARRAY['regency'])",
    )
    return location


# ---------------------------------------------------------------- Glue


def current_export(job: JobSettings) -> str | None:
    table = _client("glue").get_table(DatabaseName=job.database, Name="person")["Table"]
    location = str(table["StorageDescriptor"].get("Location", ""))
    parts = location.rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 and parts[-1] == "person" and parts[-2] != "current" else None


def point_tables_at(job: JobSettings, export_id: str) -> None:
    """Switch the Parquet tables to one export's set (queries then read it whole)."""
    glue = _client("glue")
    for name in analytics.EXPORTS:
        table = glue.get_table(DatabaseName=job.database, Name=name)["Table"]
        location = f"s3://{job.bucket}/{PARQUET_PREFIX}/{export_id}/{name}/"
        descriptor = {**table["StorageDescriptor"], "Location": location}
        parameters = {**table.get("Parameters", {}), "storage.location.template": location + "regency=${regency}/"}
        glue.update_table(
            DatabaseName=job.database,
            TableInput={
                "Name": name,
                "TableType": table.get("TableType", "EXTERNAL_TABLE"),
                "PartitionKeys": table.get("PartitionKeys", []),
                "StorageDescriptor": descriptor,
                "Parameters": parameters,
            },
        )


# ---------------------------------------------------------------- the steps


def _typed(table_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**r, "n": None if r.get("n") is None else int(r["n"]), "suppressed": r.get("suppressed") == "true"}
        for r in table_rows
    ]


def publish_area(job: JobSettings, area: str | None) -> int:
    from shared.published_tables import publish

    stored = 0
    for name in analytics.TABLES:
        shaped = analytics.by_area(name, _typed(rows(job, analytics.published(name, area))))
        stored += publish(name, {analytics.area_prefix(area): shaped}, job.reference_date)
    return stored


def check_duplicates(job: JobSettings) -> dict[str, int]:
    from shared.review_flags import flag_duplicates

    found = rows(job, analytics.check("duplicates"))
    return {"duplicates": len(found), **flag_duplicates(found)}


def advance(job: JobSettings) -> dict[str, Any]:
    export_id = newest_completed_export(job)
    if export_id is None or export_id == current_export(job):
        return {"export_id": export_id, "flattened": False}
    for name in analytics.EXPORTS:
        unload(job, name, export_id)
    point_tables_at(job, export_id)
    provinces = [r["province_code"] for r in rows(job, "SELECT DISTINCT province_code FROM household")]
    published = publish_area(job, None) + sum(publish_area(job, p) for p in provinces)
    return {"export_id": export_id, "flattened": True, "published": published, **check_duplicates(job)}
