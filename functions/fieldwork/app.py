"""Officer and supervisor routes of the field phase: my worklist, a household to start the
interview from, recording a visit, an area's progress and its published population tables. Every route identifies the
caller from the authorizer's claims and checks their areas in shared/."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import snapstart, store
from shared.areas import area_code_parameter
from shared.errors import FieldProblem, ValidationFailed
from shared.field_cases import enrol_found_household, resolve_report
from shared.fieldwork import household_for_interview, record_visit, reset_household_password
from shared.http import claims, header, json_body, json_response, query_parameter, register_error_handlers
from shared.observability import logger, metrics
from shared.officers import identify
from shared.progress import progress_for_supervisor
from shared.published_tables import table_for_supervisor
from shared.router import Resolver, Response
from shared.settings import settings
from shared.worklists import officer_worklist

store.bind(settings())  # once per container
snapstart.register()  # and again after a SnapStart restore
app = Resolver()
register_error_handlers(app)


def _limit(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise ValidationFailed([FieldProblem("invalid_limit", "limit must be a whole number.", "limit")])
    return int(raw)


@app.get("/v1/officers/me/worklist")
def my_worklist() -> Response:
    event = app.current_event.raw_event
    caller = identify(claims(event))
    page = officer_worklist(
        caller,
        query_parameter(event, "cursor"),
        _limit(query_parameter(event, "limit")),
        max_visit_attempts=settings().max_visit_attempts,
    )
    return json_response(200, page)


@app.get("/v1/households/{kk}")
def household(kk: str) -> Response:
    caller = identify(claims(app.current_event.raw_event))
    return json_response(200, household_for_interview(caller, kk))


@app.post("/v1/households/{kk}/visits")
def visit(kk: str) -> Response:
    config = settings()
    event = app.current_event.raw_event
    caller = identify(claims(event))
    recorded = record_visit(
        caller, kk, json_body(event, config.max_body_bytes), header(event, "Idempotency-Key"), settings=config
    )
    answer = recorded.answer
    metrics.add_metric(name=f"Visits_{answer['outcome']}", unit="Count", value=1)
    logger.info("visit recorded", extra={"outcome": answer["outcome"], "status": answer["status"]})
    return json_response(201 if recorded.created else 200, answer)


@app.post("/v1/households/{kk}/password-reset")
def password_reset(kk: str) -> Response:
    caller = identify(claims(app.current_event.raw_event))
    answer = reset_household_password(caller, kk)
    metrics.add_metric(name="PasswordResets", unit="Count", value=1)
    logger.info("household password reset", extra={"reset_by": answer["reset_by"]})
    return json_response(200, answer)


@app.post("/v1/reports/{reference}/resolution")
def report_resolution(reference: str) -> Response:
    config = settings()
    event = app.current_event.raw_event
    caller = identify(claims(event))
    result = resolve_report(
        caller, reference, json_body(event, config.max_body_bytes), header(event, "Idempotency-Key"), settings=config
    )
    if result.created:  # a retry (or a colleague's identical resolution) answered again: not counted
        metrics.add_metric(name=f"Reports_{result.answer['outcome']}", unit="Count", value=1)
    logger.info("report resolved", extra={"outcome": result.answer["outcome"], "officer": caller.officer_id})
    return json_response(201 if result.created else 200, result.answer)


@app.post("/v1/households")
def new_household() -> Response:
    config = settings()
    event = app.current_event.raw_event
    caller = identify(claims(event))
    result = enrol_found_household(
        caller, json_body(event, config.max_body_bytes), header(event, "Idempotency-Key"), settings=config
    )
    if result.created:  # a retry answered again is not another household
        metrics.add_metric(name="HouseholdsFound", unit="Count", value=1)
    logger.info("new household enrolled", extra={"officer": caller.officer_id, "status": result.answer["status"]})
    return json_response(201 if result.created else 200, result.answer)


@app.get("/v1/areas/{area_code}/progress")
def progress(area_code: str) -> Response:
    caller = identify(claims(app.current_event.raw_event))
    return json_response(200, progress_for_supervisor(caller, area_code))


@app.get("/v1/areas/{area_code}/tables/{table}")
def area_table(area_code: str, table: str) -> Response:
    area = area_code_parameter(area_code)
    caller = identify(claims(app.current_event.raw_event))
    return json_response(200, table_for_supervisor(caller, area, table))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
