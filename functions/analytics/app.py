"""The census outputs in AWS (shared/athena_job.py): scheduled and on-demand steps - start
DynamoDB's export to S3, flatten the newest export to Parquet with Athena and publish the
tables and the duplicate check, publish one area, re-run the duplicate check. Never
imports DuckDB: Athena runs the SQL here."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import athena_job, store
from shared.observability import logger, metrics
from shared.settings import settings

store.bind(settings())  # once per container


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job = athena_job.JobSettings.from_environment()
    action = event.get("action")
    if action == "export":
        result: dict[str, Any] = {"export_arn": athena_job.start_export(job)}
    elif action == "advance":
        result = athena_job.advance(job)
    elif action == "publish":
        result = {"published": athena_job.publish_area(job, event.get("area") or None)}
    elif action == "check-duplicates":
        result = athena_job.check_duplicates(job)
    else:
        raise ValueError("action: export, advance, publish or check-duplicates")
    logger.info("analytics step done", extra={"action": action, **{k: v for k, v in result.items() if k != "rows"}})
    return result
