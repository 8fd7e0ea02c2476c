"""The audit trail: who did what, when, to which household or area - every staff action
(worklist generation, reassignment, review decision, password reset, visit, interview,
a report resolved, a household found in the field).
Append-only (no route changes or deletes a record; IAM refuses updates and deletes of the
audit partitions), identifiers only: officer ids, KK numbers, area codes, versions, counts;
never a name, NIK, address or a note's free text. Readable per household and per area and
day, as JSON pages or CSV."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

from shared import store
from shared.areas import area_code_parameter
from shared.errors import FieldProblem, Forbidden, ValidationFailed
from shared.household_access import validate_kk
from shared.officers import Caller, require_supervisor_of
from shared.store import AuditRecord

WORKLISTS_GENERATED = "worklists_generated"
WORKLIST_REASSIGNED = "worklist_reassigned"
REVIEW_ACCEPTED = "review_accepted"
REVIEW_SENT_TO_FIELD = "review_sent_to_field"
PASSWORD_RESET = "password_reset"  # noqa: S105 - an action name, not a password
VISIT = "visit"
INTERVIEW = "interview"
# A resident's report resolved (details: reference, outcome enrolled | matched | not_found,
# reason): on the household's trail too when it names one (the enrolled or matched KK).
REPORT_RESOLVED = "report_resolved"
HOUSEHOLD_FOUND = "household_found"  # a household on no list, enrolled on the spot
ACTIONS = (
    WORKLISTS_GENERATED,
    WORKLIST_REASSIGNED,
    REVIEW_ACCEPTED,
    REVIEW_SENT_TO_FIELD,
    PASSWORD_RESET,
    VISIT,
    INTERVIEW,
    REPORT_RESOLVED,
    HOUSEHOLD_FOUND,
)
PAGE_SIZE, MAX_PAGE_SIZE, MAX_CSV_ROWS = 200, 1000, 20000
CSV_COLUMNS = ("at", "action", "actor", "area_code", "kk", "details", "id")


def record(action: str, actor: str, area_code: str, at: str, *, kk: str | None = None, **details: Any) -> AuditRecord:
    """An audit record; `details` are identifiers and counts (checked: no free text). A detail
    given as None is left out: a record holds what happened, not empty fields."""
    assert action in ACTIONS, action
    details = {name: value for name, value in details.items() if value is not None}
    for value in details.values():
        assert isinstance(value, int | bool) or (isinstance(value, str) and len(value) <= 40), value
    return AuditRecord(at=at, action=action, actor=actor, area_code=area_code, kk=kk, details=details)


def page_limit(raw: str | None, default: int = PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """A `limit` query parameter: a whole number from 1 to `maximum` (422 otherwise)."""
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ValidationFailed([FieldProblem("invalid_limit", f"limit must be between 1 and {maximum}.", "limit")])
    return int(raw)


def _day(raw: str | None, now: datetime) -> str:
    if raw is None:
        return now.astimezone(UTC).date().isoformat()
    try:
        return date.fromisoformat(raw).isoformat() if len(raw) == 10 else _bad_day()
    except ValueError:
        return _bad_day()


def _bad_day() -> str:
    raise ValidationFailed([FieldProblem("invalid_day", "day must be a date: YYYY-MM-DD (UTC).", "day")])


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def invalid_cursor() -> ValidationFailed:
    return ValidationFailed([FieldProblem("invalid_cursor", "This cursor is not from this list.", "cursor")])


def parse_cursor(cursor: str) -> Any:
    """The key a cursor carries (checked by the store against the list it claims to be from)."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid_cursor() from None


def decode_cursor(cursor: str | None, area: str, day: str) -> dict[str, Any] | None:
    """A cursor handed out for this area and day, or 422 invalid_cursor."""
    if not cursor:
        return None
    start = store.area_trail_start(parse_cursor(cursor), area, day)
    if start is None:
        raise invalid_cursor()
    return start


def wants_csv(raw: str | None) -> bool:
    if raw in (None, "json"):
        return False
    if raw == "csv":
        return True
    raise ValidationFailed([FieldProblem("invalid_format", "format must be json or csv.", "format")])


def to_csv(records: list[AuditRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        row = r.as_dict()
        writer.writerow(
            [
                row["at"],
                row["action"],
                row["actor"],
                row["area_code"],
                row["kk"] or "",
                json.dumps(row["details"], sort_keys=True),
                row["id"],
            ]
        )
    return out.getvalue()


def household_trail(caller: Caller, kk: str) -> dict[str, Any]:
    """Every record of one household, oldest first, for a supervisor of its area."""
    return {"kk": validate_kk(kk), "records": [r.as_dict() for r in household_trail_records(caller, kk)]}


def household_trail_records(caller: Caller, kk: str) -> list[AuditRecord]:
    kk = validate_kk(kk)
    household = store.load_household(kk)
    if household is None:
        raise Forbidden()  # an unknown KK looks like one of another area
    require_supervisor_of(caller, household.register.sls_code)
    return store.household_trail(kk)


def _area(area: str) -> str:
    area = area_code_parameter(area)
    if len(area) < 4:
        raise ValidationFailed(
            [FieldProblem("area_too_large", "Read the audit trail of a regency or anything inside it.", "area_code")]
        )
    return area


def area_trail(
    caller: Caller, area: str, day: str | None, cursor: str | None, limit: str | None, *, now: datetime | None = None
) -> dict[str, Any]:
    """One page of an area's records on one day (UTC)."""
    area = _area(area)
    require_supervisor_of(caller, area)
    when = _day(day, now or datetime.now(UTC))
    start = decode_cursor(cursor, area, when)
    records, last = store.area_trail(area, when, page_limit(limit), start)
    records.sort(key=lambda r: (r.at, r.record_id))
    return {
        "area_code": area,
        "day": when,
        "records": [r.as_dict() for r in records],
        "next_cursor": encode_cursor(last),
    }


def area_trail_csv(caller: Caller, area: str, day: str | None, *, now: datetime | None = None) -> str:
    """The whole day of an area as CSV (at most MAX_CSV_ROWS rows), oldest first."""
    area = _area(area)
    require_supervisor_of(caller, area)
    when = _day(day, now or datetime.now(UTC))
    records: list[AuditRecord] = []
    start = None
    while len(records) < MAX_CSV_ROWS:
        page, start = store.area_trail(area, when, min(MAX_PAGE_SIZE, MAX_CSV_ROWS - len(records)), start)
        records += page
        if start is None:
            break
    records.sort(key=lambda r: (r.at, r.record_id))
    return to_csv(records)
