"""Households the register missed (public): file a report, look it up by its reference,
and the named area lists the report form picks its SLS from. Least privilege: this
function reads and writes only reports, their rate counters, the SLS's assignments and
counters, and the area list - never a household's partition."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import store
from shared.http import client_address, header, json_body, json_response, register_error_handlers
from shared.observability import logger, metrics
from shared.reports import area_children, file_report, report_status
from shared.router import Resolver, Response
from shared.settings import settings

store.bind(settings())  # once per container
app = Resolver()
register_error_handlers(app)

# Area names change only with a new master list: browsers may keep them an hour. (CloudFront
# does not: /v1/* uses CachingDisabled, so every request reaches the function.)
_CACHEABLE = {"Cache-Control": "public, max-age=3600"}


@app.post("/v1/reports")
def report() -> Response:
    config = settings()
    event = app.current_event.raw_event
    filed = file_report(
        json_body(event, config.max_body_bytes),
        header(event, "Idempotency-Key"),
        client_address(event, config.edge_secret),
        settings=config,
    )
    if filed.new:  # a retry answered again is not another report
        metrics.add_metric(name="MissingHouseholdReports", unit="Count", value=1)
    logger.info("report filed", extra={"reference": filed.answer["reference"], "new": filed.new})
    return json_response(202, filed.answer)


@app.get("/v1/reports/{reference}")
def report_lookup(reference: str) -> Response:
    return json_response(200, report_status(reference))


@app.get("/v1/areas")
def provinces() -> Response:
    return json_response(200, area_children(None), _CACHEABLE)


@app.get("/v1/areas/{area_code}/children")
def children(area_code: str) -> Response:
    return json_response(200, area_children(area_code), _CACHEABLE)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
