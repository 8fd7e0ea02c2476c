"""Resident sessions: sign in (POST /v1/sessions), the household pre-filled from the
register (GET /v1/session/household) and the saved draft (PUT .../draft). Parses the
event, calls `shared.residents`, maps the result; all logic lives in shared/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import snapstart, store
from shared.http import header, json_body, json_response, register_error_handlers
from shared.observability import logger, metrics
from shared.residents import household_view, save_draft, sign_in
from shared.router import Resolver, Response
from shared.sessions import require_session
from shared.settings import settings

store.bind(settings())  # once per container
snapstart.register()  # and again after a SnapStart restore
app = Resolver()
register_error_handlers(app)


@app.post("/v1/sessions")
def create_session() -> Response:
    config = settings()
    body = json_body(app.current_event.raw_event, config.max_body_bytes)
    answer = sign_in(body, settings=config, now=datetime.now(UTC))
    metrics.add_metric(name="PasswordsSet" if answer["password_set"] else "SignIns", unit="Count", value=1)
    logger.info("signed in", extra={"password_set": answer["password_set"]})
    return json_response(201, answer)


@app.get("/v1/session/household")
def my_household() -> Response:
    config = settings()
    now = datetime.now(UTC)
    session = require_session(header(app.current_event.raw_event, "Authorization"), settings=config, now=now)
    view, etag = household_view(session, settings=config, now=now)
    return json_response(200, view, {"ETag": etag} if etag else None)


@app.put("/v1/session/household/draft")
def put_draft() -> Response:
    config = settings()
    event = app.current_event.raw_event
    now = datetime.now(UTC)
    session = require_session(header(event, "Authorization"), settings=config, now=now)
    saved = save_draft(
        session, json_body(event, config.max_body_bytes), header(event, "If-Match"), settings=config, now=now
    )
    metrics.add_metric(name="DraftsSaved", unit="Count", value=1)
    return json_response(200, saved.as_dict(), {"ETag": saved.etag})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
