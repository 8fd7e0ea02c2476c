"""Worklist generation. Three doors, one domain module (shared.worklists):
- POST /v1/areas/{area_code}/worklists: a supervisor generates for their area;
- the EventBridge schedule: plan the nationwide run, one SQS message per regency;
- SQS messages: generate one regency, village by village (partial batch failures
  reported, so one bad area never blocks or repeats the others)."""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import snapstart, store
from shared.http import claims, json_body, json_response, register_error_handlers
from shared.observability import logger, metrics
from shared.officers import identify
from shared.router import Resolver, Response
from shared.settings import settings
from shared.worklist_admin import officer_loads, reassign
from shared.worklists import generate_for_supervisor, generate_regency, plan_national, preview

store.bind(settings())  # once per container
snapstart.register()  # and again after a SnapStart restore
app = Resolver()
register_error_handlers(app)


@app.get("/v1/areas/{area_code}/worklists/preview")
def preview_split(area_code: str) -> Response:
    caller = identify(claims(app.current_event.raw_event))
    return json_response(200, preview(area_code, caller))


@app.get("/v1/areas/{area_code}/worklists")
def loads(area_code: str) -> Response:
    caller = identify(claims(app.current_event.raw_event))
    return json_response(200, officer_loads(caller, area_code))


@app.post("/v1/areas/{area_code}/worklists/reassign")
def move(area_code: str) -> Response:
    event = app.current_event.raw_event
    caller = identify(claims(event))
    answer = reassign(caller, area_code, json_body(event, settings().max_body_bytes))
    logger.info("worklist reassigned", extra={"moved": answer["moved"], "to_officer": answer["to_officer"]})
    return json_response(200, answer)


@app.post("/v1/areas/{area_code}/worklists")
def generate(area_code: str) -> Response:
    caller = identify(claims(app.current_event.raw_event))
    summary = generate_for_supervisor(area_code, caller)
    metrics.add_metric(name="WorklistHouseholds", unit="Count", value=summary["households"])
    logger.info("worklists generated", extra={"area_code": area_code, "households": summary["households"]})
    return json_response(201, summary)


def plan(_: dict[str, Any]) -> dict[str, Any]:
    from shared.queues import send_areas

    regencies = plan_national()
    sent = send_areas(os.environ["WORKLIST_QUEUE_URL"], regencies)
    logger.info("nationwide generation planned", extra={"messages": sent})
    return {"messages": sent}


def process_messages(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    def generate_one(record: SQSRecord) -> None:
        result = generate_regency(json.loads(record.body)["area_code"])
        logger.info("regency generated", extra={k: result[k] for k in ("area_code", "villages", "households")})

    return dict(
        process_partial_response(
            event=event, record_handler=generate_one, processor=BatchProcessor(EventType.SQS), context=context
        )
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return process_messages(event, context)
    if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
        return plan(event)
    return app.resolve(event, context)
