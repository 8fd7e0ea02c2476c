"""The table's stream consumer (docs/decisions/0019): invoked by Lambda with batches of the
stream's records (only MODIFYs of household META items pass the event source's filter), it
moves the SLS progress counters and refreshes the receipts (shared/progress_stream.py).
Raising makes Lambda retry the batch, bisected; a batch that fails every retry goes to the
ProgressStreamFailures queue (docs/operations.md: replaying it, `census recount`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import snapstart, store
from shared.observability import logger, metrics
from shared.progress_stream import apply_stream_records
from shared.settings import settings

store.bind(settings())  # once per container
snapstart.register()  # and again after a SnapStart restore


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = apply_stream_records(event.get("Records", []))
    metrics.add_metric(name="ProgressStreamRecords", unit="Count", value=result["records"])
    metrics.add_metric(name="ProgressStreamRedelivered", unit="Count", value=result["skipped"])
    logger.info("stream batch applied", extra=result)
    return result
