"""Households the register missed report themselves (SP2020's most common complaint: a
reissued family card not on the register extract cannot sign in).

Filing answers the same whatever the KK and NIK: it never reads a household, so neither
the answer nor its timing can tell which KKs or NIKs exist. It reads and writes the same
items on every path - the Idempotency-Key's record (when there is a key), the two rate
counters, the SLS's assignments, then one transaction (report, key record, the SLS's
`reported` counter, and the case's assignment when the SLS already has an officer).
The report is a field case in the SLS it names; `GET /v1/reports/{reference}` tells the
resident where it stands, with no personal data."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from shared import store
from shared.areas import LEVELS, parent_area, validate_area_code
from shared.errors import (
    FieldProblem,
    IdempotencyKeyReused,
    InvalidReportReference,
    ReportNotFound,
    TooManyReports,
    ValidationFailed,
    WriteConflict,
)
from shared.intake import iso_utc, validate_idempotency_key
from shared.nik import InvalidIdentifier, parse_kk, parse_nik
from shared.receipts import format_receipt_code, new_receipt_code, normalize_receipt_code
from shared.settings import Settings
from shared.text import has_control_characters
from shared.validation import Body, as_json, parse_json, trimmed

MAX_ADDRESS_LENGTH = 200
_PHONE = re.compile(r"\+?[0-9]{8,15}")
_SLS_LENGTHS = {length for length, level in LEVELS.items() if level in {"sls", "sub_sls"}}
# What the resident does next, by the report's state (the page words each one).
NEXT_STEPS = {
    None: "wait_for_visit",  # open: an officer will visit
    "enrolled": "sign_in",  # sign in online with the KK and a member's NIK
    "matched": "sign_in_register_kk",  # sign in with the KK number the officer gave
    "not_found": "contact_office",
}

Text = Annotated[str, trimmed(1, 32)]


class ReportRequest(Body, frozen=True, kw_only=True):
    """A household's report: the KK as printed, the reporter's NIK, the head's name, the
    address, the SLS chosen from the area lists, optionally a phone for the officer."""

    kk: Text
    nik: Text
    head_name: Annotated[str, trimmed(1, 100)]
    address: Annotated[str, trimmed(1, MAX_ADDRESS_LENGTH)]
    sls_code: Text
    phone: Annotated[str, trimmed(max_length=32)] | None = None


def _problems(request: ReportRequest) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for name, parse in (("kk", parse_kk), ("nik", parse_nik)):
        try:
            parse(getattr(request, name))
        except InvalidIdentifier as exc:
            problems.append(FieldProblem(exc.code, exc.message, name))
    if has_control_characters(request.head_name):
        problems.append(FieldProblem("invalid_name", "The name contains control or invisible characters.", "head_name"))
    if has_control_characters(request.address):
        problems.append(FieldProblem("invalid_value", "The address contains control characters.", "address"))
    try:
        validate_area_code(request.sls_code)
        if len(request.sls_code) not in _SLS_LENGTHS:
            problems.append(FieldProblem("invalid_area_code", "Choose the area down to the SLS (RT).", "sls_code"))
    except InvalidIdentifier as exc:
        problems.append(FieldProblem(exc.code, exc.message, "sls_code"))
    if request.phone is not None and not _PHONE.fullmatch(request.phone.replace(" ", "").replace("-", "")):
        why = "The phone number must have 8 to 15 digits (a leading + allowed)."
        problems.append(FieldProblem("invalid_phone", why, "phone"))
    return problems


def _fingerprint(request: ReportRequest) -> str:
    canonical = json.dumps(as_json(request), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _filed(reference: str) -> dict[str, Any]:
    """The one answer to every accepted report: the reference to look it up by."""
    return {"reference": format_receipt_code(reference), "status": "received"}


@dataclass(frozen=True)
class FiledReport:
    answer: dict[str, Any]  # the same for a first filing and its retry (both 202)
    new: bool  # filed by this call (not a retry answered again): what the metric counts


def file_report(
    body: str | bytes | None,
    idempotency_key: str | None,
    client: str,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> FiledReport:
    """File a report; the answer does not depend on whether the KK or NIK exist."""
    now = now or datetime.now(UTC)
    key = validate_idempotency_key(idempotency_key)
    request = parse_json(ReportRequest, body)
    problems = _problems(request)
    if problems:
        raise ValidationFailed(problems)
    sls_code = request.sls_code
    if store.get_area(sls_code, parent_area(sls_code)) is None:
        why = "This SLS is not on the area list; choose it from the lists."
        raise ValidationFailed([FieldProblem("unknown_area", why, "sls_code")])
    fingerprint = _fingerprint(request)
    key_digest = _digest(request.kk, key) if key else None
    if key_digest is not None:
        stored = store.get_report_key(key_digest)
        if stored is not None:
            return FiledReport(_replayed(stored[0], stored[1], fingerprint), new=False)
    epoch = int(now.timestamp())
    window = settings.report_window_seconds
    # The client first, so a flood from one address never fills another household's KK window.
    for scope, subject, limit in (
        ("REPORT-CLIENT", _digest(client)[:32], settings.reports_per_client),
        ("REPORT-KK", request.kk, settings.reports_per_kk),
    ):
        retry_after = store.take_rate(scope, subject, epoch, window, limit)
        if retry_after is not None:
            raise TooManyReports(retry_after)
    assigned = store.sls_assignment(sls_code)
    filed_at = iso_utc(now)
    for _ in range(3):
        reference = new_receipt_code()
        case = (
            None
            if assigned is None
            else store.AssignmentRecord(
                kk=reference,
                sls_code=sls_code,
                officer_id=assigned.officer_id,
                area=assigned.area,
                generated_at=filed_at,
                reference=reference,
            )
        )
        try:
            store.file_report(
                store.NewReport(
                    report=store.ReportRecord(
                        reference=reference,
                        kk=request.kk,
                        reporter_nik=request.nik,
                        head_name=request.head_name,
                        address=request.address,
                        sls_code=sls_code,
                        phone=request.phone,
                        filed_at=filed_at,
                        status="open",
                    ),
                    key_digest=key_digest,
                    request_hash=fingerprint,
                    key_expires_at=epoch + settings.idempotency_ttl_seconds,
                    now_epoch=epoch,
                    assignment=case,
                )
            )
        except store.ReportReplay as replay:
            return FiledReport(_replayed(replay.request_hash, replay.reference, fingerprint), new=False)
        except store.ReferenceTaken:
            continue
        return FiledReport(_filed(reference), new=True)
    raise WriteConflict(retry_after=1)  # three collisions of 60 random bits: never in practice


def _replayed(request_hash: str, reference: str, fingerprint: str) -> dict[str, Any]:
    if request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return _filed(reference)


def parse_reference(text: str) -> str:
    try:
        return normalize_receipt_code(text)
    except InvalidIdentifier as exc:
        raise InvalidReportReference(exc.message.replace("receipt code", "report reference")) from None


def report_status(reference_text: str) -> dict[str, Any]:
    """Where a report stands, for anyone holding its reference: no personal data."""
    reference = parse_reference(reference_text)
    report = store.get_report(reference)
    if report is None:
        raise ReportNotFound()
    if report.status == "resolved":
        status = "resolved"
    else:
        planned = store.get_assignment(report.sls_code, reference)
        status = "visit_planned" if planned is not None else "received"
    return {
        "reference": format_receipt_code(reference),
        "status": status,
        "filed_at": report.filed_at,
        "resolution": report.resolution,
        "resolved_at": report.resolved_at,
        "next_step": NEXT_STEPS.get(report.resolution, "contact_office"),
    }


# ---------------------------------------------------------------- the area lists


def area_children(code: str | None) -> dict[str, Any]:
    """The named areas directly under `code` (None: the provinces), for the report form."""
    if code is not None:
        from shared.areas import area_code_parameter

        code = area_code_parameter(code)
    children = store.area_children(code)
    return {"area_code": code, "children": [{"code": a.code, "name": a.name} for a in children]}
