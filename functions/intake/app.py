"""Submission intake: POST /v1/households/{kk}/responses. Parses the event, calls
`shared.intake.submit_response`, maps the result; all logic lives in shared/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import snapstart, store
from shared.http import header, json_body, json_response, register_error_handlers
from shared.intake import submit_response
from shared.observability import logger, metrics
from shared.router import Resolver, Response
from shared.sessions import session_from_header
from shared.settings import settings

store.bind(settings())  # once per container
snapstart.register()  # and again after a SnapStart restore
app = Resolver()
register_error_handlers(app)


@app.post("/v1/households/{kk}/responses")
def submit(kk: str) -> Response:
    config = settings()
    event = app.current_event.raw_event
    now = datetime.now(UTC)
    result = submit_response(
        kk,
        json_body(event, config.max_body_bytes),
        header(event, "Idempotency-Key"),
        settings=config,
        now=now,
        session=session_from_header(header(event, "Authorization"), settings=config, now=now),
    )
    metrics.add_metric(name="IdempotentReplays" if result.replayed else "Submissions", unit="Count", value=1)
    logger.info(
        "response stored",
        extra={
            "receipt_code": result.receipt_code,
            "version": result.version,
            "status": result.status,
            "replayed": result.replayed,
        },
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return json_response(201 if result.created else 200, result.as_dict(), headers)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
