"""The large areas' progress rollup (docs/decisions/0015): invoked by the `ProgressRollup`
schedule every few minutes, it refreshes the regencies' and provinces' figures from the SLS
counters (shared/rollups.py). A function of its own: its own role (reads, and conditional puts
of ROLLUP# items only), one run at a time, no retries (the next run rewrites everything)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import snapstart, store
from shared.observability import logger, metrics
from shared.rollups import refresh_rollups
from shared.settings import settings

ROLLUP_JOB = "progress-rollup"  # the ProgressRollup schedule's Input (template.yaml)
store.bind(settings())  # once per container
snapstart.register()  # and again after a SnapStart restore


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("job") != ROLLUP_JOB:
        raise ValueError(f"job: {ROLLUP_JOB}")
    result = refresh_rollups()
    metrics.add_metric(name="ProgressRollupFailedProvinces", unit="Count", value=result["failed"])
    logger.info("progress rollup refreshed", extra=result)
    return result
