"""Status lookup: by receipt code, by KK + NIK (POST body), and the printable proof.
Read-only on household data; it writes only failed-attempt counters (LOCK#*)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import snapstart, store
from shared.http import common_headers, header, json_body, json_response, register_error_handlers
from shared.observability import logger, metrics
from shared.router import Resolver, Response
from shared.sessions import session_from_header
from shared.settings import settings
from shared.status_lookup import household_status, proof_of_filling, receipt_status

store.bind(settings())  # once per container
snapstart.register()  # and again after a SnapStart restore
app = Resolver()
register_error_handlers(app)


@app.get("/v1/receipts/{receipt_code}")
def by_receipt(receipt_code: str) -> Response:
    metrics.add_metric(name="StatusLookups", unit="Count", value=1)
    return json_response(200, receipt_status(receipt_code))


@app.post("/v1/households/{kk}/status")
def by_household(kk: str) -> Response:
    config = settings()
    event = app.current_event.raw_event
    body = json_body(event, config.max_body_bytes)
    now = datetime.now(UTC)
    session = session_from_header(header(event, "Authorization"), settings=config, now=now)
    metrics.add_metric(name="StatusLookups", unit="Count", value=1)
    return json_response(200, household_status(kk, body, settings=config, now=now, session=session))


@app.get("/v1/receipts/{receipt_code}/proof")
def proof(receipt_code: str) -> Response:
    pdf = proof_of_filling(receipt_code)
    metrics.add_metric(name="ProofsPrinted", unit="Count", value=1)
    return Response(
        status_code=200,
        content_type="application/pdf",
        body=pdf,
        headers={**common_headers(), "Content-Disposition": 'inline; filename="bukti-pengisian.pdf"'},
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
