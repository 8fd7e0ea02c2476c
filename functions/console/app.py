"""The supervisors' console routes: who am I, an area's progress history, the review queue
and decisions, and the audit trail; and the daily progress snapshot (EventBridge Scheduler).
(The large areas' rollup runs in a function of its own: functions/rollup.)
Every route identifies the caller from the authorizer's claims and checks role and area in
shared/."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import audit, snapstart, store
from shared.errors import SupervisorOnly
from shared.http import claims, common_headers, json_body, json_response, query_parameter, register_error_handlers
from shared.observability import logger, metrics
from shared.officers import SUPERVISOR, identify
from shared.review import decide_many, decide_one, household_review, review_queue
from shared.router import Resolver, Response
from shared.settings import settings
from shared.snapshots import progress_history, take_snapshots

store.bind(settings())  # once per container
snapstart.register()  # and again after a SnapStart restore
app = Resolver()
register_error_handlers(app)


def _caller() -> Any:
    return identify(claims(app.current_event.raw_event))


def _csv(text: str, name: str) -> Response:
    headers = {**common_headers(), "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=text, headers=headers)


@app.get("/v1/staff/me")
def me() -> Response:
    caller = _caller()
    if SUPERVISOR not in caller.roles:
        raise SupervisorOnly()
    return json_response(
        200, {"officer_id": caller.officer_id, "roles": sorted(caller.roles), "areas": list(caller.areas)}
    )


@app.get("/v1/areas/{area_code}/progress/history")
def history(area_code: str) -> Response:
    return json_response(200, progress_history(_caller(), area_code))


@app.get("/v1/areas/{area_code}/review")
def queue(area_code: str) -> Response:
    event = app.current_event.raw_event
    page = review_queue(
        _caller(),
        area_code,
        query_parameter(event, "reason"),
        query_parameter(event, "cursor"),
        query_parameter(event, "limit"),
    )
    return json_response(200, page)


@app.get("/v1/households/{kk}/review")
def household(kk: str) -> Response:
    return json_response(200, household_review(_caller(), kk))


@app.post("/v1/households/{kk}/review")
def decide(kk: str) -> Response:
    answer = decide_one(_caller(), kk, json_body(app.current_event.raw_event, settings().max_body_bytes))
    metrics.add_metric(name=f"Review_{answer['decision']}", unit="Count", value=1)
    logger.info("review decided", extra={"decision": answer["decision"], "decided_by": answer["decided_by"]})
    return json_response(200, answer)


@app.post("/v1/areas/{area_code}/review/decisions")
def decide_bulk(area_code: str) -> Response:
    answer = decide_many(_caller(), area_code, json_body(app.current_event.raw_event, settings().max_body_bytes))
    metrics.add_metric(name=f"Review_{answer['decision']}", unit="Count", value=len(answer["decided"]))
    logger.info("reviews decided", extra={"decided": len(answer["decided"]), "refused": len(answer["refused"])})
    return json_response(200, answer)


@app.get("/v1/households/{kk}/audit")
def household_audit(kk: str) -> Response:
    caller = _caller()
    if audit.wants_csv(query_parameter(app.current_event.raw_event, "format")):
        return _csv(audit.to_csv(audit.household_trail_records(caller, kk)), f"audit-{kk}.csv")
    return json_response(200, audit.household_trail(caller, kk))


@app.get("/v1/areas/{area_code}/audit")
def area_audit(area_code: str) -> Response:
    event = app.current_event.raw_event
    caller = _caller()
    day = query_parameter(event, "day")
    if audit.wants_csv(query_parameter(event, "format")):
        return _csv(audit.area_trail_csv(caller, area_code, day), f"audit-{area_code}.csv")
    page = audit.area_trail(caller, area_code, day, query_parameter(event, "cursor"), query_parameter(event, "limit"))
    return json_response(200, page)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
        result = take_snapshots()
        logger.info("progress snapshot taken", extra=result)
        return result
    return app.resolve(event, context)
