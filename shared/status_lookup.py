"""Status lookup: by receipt code (one GetItem, no personal data in the answer), by KK +
a member's NIK in a POST body (for residents who lost their receipt), and the printable
proof of filling."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from shared import store
from shared.errors import FieldProblem, InvalidReceiptCode, ReceiptNotFound, ValidationFailed
from shared.household_access import authenticate, session_household, validate_kk
from shared.nik import InvalidIdentifier
from shared.receipts import normalize_receipt_code
from shared.sessions import Session
from shared.settings import Settings
from shared.validation import Body, Password, parse_json, trimmed


class StatusRequest(Body, frozen=True, kw_only=True):
    # Both required without a session (the password once the household has set one).
    respondent_nik: Annotated[str, trimmed(1, 32)] | None = None
    password: Password | None = None


def _receipt(code_text: str) -> store.ReceiptRecord:
    try:
        code = normalize_receipt_code(code_text)
    except InvalidIdentifier:
        raise InvalidReceiptCode(field="receipt_code") from None
    receipt = store.get_receipt(code)
    if receipt is None:
        raise ReceiptNotFound()
    return receipt


def receipt_status(code_text: str) -> dict[str, Any]:
    """What anyone holding the receipt may see: progress, never personal data."""
    receipt = _receipt(code_text)
    return {
        "receipt_code": receipt.code,
        "status": receipt.status,
        "version": receipt.version,
        "channel": receipt.channel,
        "first_submitted_at": receipt.first_submitted_at,
        "last_submitted_at": receipt.last_submitted_at,
        "member_count": receipt.member_count,
    }


def household_status(
    kk: str, body: str | bytes | None, *, settings: Settings, now: datetime, session: Session | None = None
) -> dict[str, Any]:
    """The same answer plus the receipt code, from the household's META item (already read
    to prove the household): `receipt_code` is null while it has not responded."""
    kk = validate_kk(kk)
    request = parse_json(StatusRequest, body)
    if session is not None:
        state = session_household(session, kk)[0].state
    elif request.respondent_nik is None:
        why = "Give respondent_nik, or sign in and send the session token."
        raise ValidationFailed([FieldProblem("missing_field", why, "respondent_nik")])
    else:
        state = authenticate(kk, request.respondent_nik, request.password, settings=settings, now=now).state
    return {
        "receipt_code": state.receipt_code,
        "status": state.status,
        "version": state.version,
        "channel": state.channel,
        "first_submitted_at": state.first_submitted_at,
        "last_submitted_at": state.last_submitted_at,
        "member_count": state.member_count,
    }


def proof_of_filling(code_text: str, *, verify_url: str | None = None) -> bytes:
    """The printable PDF. fpdf2 takes ~0.3 s to import: imported here, on the first proof
    a container serves, never on the status-lookup path."""
    from shared.proof import ProofOfFilling, render_proof_pdf

    receipt = _receipt(code_text)
    return render_proof_pdf(
        ProofOfFilling(
            receipt_code=receipt.code,
            kk=receipt.kk,
            status=receipt.status,
            version=receipt.version,
            channel=receipt.channel,
            member_count=receipt.member_count,
            first_submitted_at=datetime.fromisoformat(receipt.first_submitted_at),
            last_submitted_at=datetime.fromisoformat(receipt.last_submitted_at),
        ),
        verify_url=verify_url,
    )
