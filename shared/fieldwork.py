"""Door-to-door work on one household: what the assigned officer starts the interview from,
and recording a visit - an interview (the same validation, versioning and idempotency as
an online response, channel `interview`) or a failed visit that keeps the household on
the worklist until its last allowed attempt."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec

from shared import audit, store
from shared.errors import (
    FieldProblem,
    Forbidden,
    PasswordNotSet,
    ValidationFailed,
    VisitAttemptsExhausted,
    WriteConflict,
)
from shared.household_access import validate_kk
from shared.intake import iso_utc, store_response, validate_idempotency_key
from shared.officers import SUPERVISOR, Caller, require_supervisor_of
from shared.reset_codes import RESET_CODE_TTL_SECONDS, format_reset_code, hash_reset_code, new_reset_code
from shared.responses import Submission, check_rules
from shared.settings import Settings
from shared.status import Status, check_transition
from shared.text import has_control_characters
from shared.validation import Body, Invalid, as_json, parse_json, trimmed
from shared.vocabulary import Channel

Outcome = Literal["interviewed", "not_home", "refused", "moved", "address_not_found", "not_residential", "duplicate"]
_FAILED_VISITS_STAYING = {Status.NOT_HOME, Status.REFUSED}
# Paradata: when the phone recorded the visit. A phone's clock may run a little fast; a visit
# kept offline for the whole field phase is still accepted.
CLOCK_SKEW = timedelta(minutes=10)
OLDEST_RECORDING = timedelta(days=120)


class Position(Body, frozen=True, kw_only=True):
    """Where the phone was, with the officer's consent: WGS 84 degrees, accuracy in metres.
    Stored with the visit for supervisors; never logged."""

    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy: Annotated[float, msgspec.Meta(ge=0, le=100_000)]


class VisitRequest(Body, frozen=True, kw_only=True):
    outcome: Outcome
    note: Annotated[str, trimmed(max_length=500)] | None = None
    response: Submission | None = None
    # `duplicate`: the household on the register this one duplicates.
    duplicate_of: Annotated[str, trimmed(max_length=32)] | None = None
    # When the officer recorded it on the phone (ISO 8601 with its zone); the server's time is kept too.
    recorded_at: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    position: Position | None = None

    def check(self) -> None:
        if (self.outcome == "interviewed") != (self.response is not None):
            raise Invalid("an interview carries the response; other outcomes carry none")
        if (self.outcome == "duplicate") != (self.duplicate_of is not None):
            raise Invalid("a duplicate, and only a duplicate, names the household it duplicates (duplicate_of)")
        if self.note is not None and has_control_characters(self.note):
            raise Invalid("the note contains control characters")


def recorded_time(text: str | None, now: datetime) -> str | None:
    """The phone's time of recording in UTC ("…Z"); not in the future (beyond a clock's skew)
    nor older than a field phase could be."""
    if text is None:
        return None
    try:
        moment: datetime | None = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationFailed(
            [FieldProblem("invalid_date", "recorded_at must be an ISO 8601 time with its zone.", "recorded_at")]
        )
    if moment > now + CLOCK_SKEW:
        raise ValidationFailed([FieldProblem("future_date", "recorded_at is in the future.", "recorded_at")])
    if moment < now - OLDEST_RECORDING:
        raise ValidationFailed([FieldProblem("invalid_date", "recorded_at is too long ago.", "recorded_at")])
    return iso_utc(moment)


@dataclass(frozen=True)
class RecordedVisit:
    answer: dict[str, Any]
    created: bool  # a new visit, or an interview's first version; False: an interview's correction


def _household_for(caller: Caller, kk: str, *, supervisors_too: bool) -> store.HouseholdSnapshot:
    """The household, if the caller is the officer assigned to it (or, where allowed, a
    supervisor of its area). An unknown KK and a household of another area look alike."""
    kk = validate_kk(kk)
    household = store.load_household(kk)
    if household is None:
        raise Forbidden()
    sls = household.register.sls_code
    assignment = store.get_assignment(sls, kk)
    assigned = assignment is not None and assignment.officer_id == caller.officer_id
    supervising = supervisors_too and SUPERVISOR in caller.roles and caller.covers(sls)
    if not (assigned or supervising):
        raise Forbidden()
    return household


def household_for_interview(caller: Caller, kk: str) -> dict[str, Any]:
    """Register members and the latest response, so the interview starts from what is known."""
    household = _household_for(caller, kk, supervisors_too=True)
    state, register = household.state, household.register
    latest = store.latest_version(register.kk)
    answer: dict[str, Any] = {
        "kk": state.kk,
        "sls_code": register.sls_code,
        "address": register.address,
        "status": state.status,
        "version": state.version,
        "visit_attempts": state.visit_attempts,
        # nik, name, sex, birth_date, relationship
        "register_members": [msgspec.structs.asdict(m) for m in register.members],
        "latest_response": None
        if latest is None
        else {
            "version": latest.version,
            "channel": latest.channel,
            "status": latest.status,
            "submitted_at": latest.submitted_at,
            "review_reasons": latest.review_reasons,
            "members": latest.members,
        },
    }
    if SUPERVISOR in caller.roles and caller.covers(register.sls_code):
        # The duplicate check's flags name the other household: supervisors only.
        answer["review_flags"] = [
            {"reason": f.reason, "other_kk": f.other_kk, "version": f.version, "flagged_at": f.flagged_at}
            for f in store.list_review_flags(state.kk)
        ]
    return answer


def record_visit(
    caller: Caller,
    kk: str,
    body: str | bytes | None,
    idempotency_key: str | None,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> RecordedVisit:
    """Record a visit by the assigned officer."""
    now = now or datetime.now(UTC)
    key = validate_idempotency_key(idempotency_key)
    request = parse_json(VisitRequest, body)
    recorded_at = recorded_time(request.recorded_at, now)
    if request.response is not None:
        check_rules(request.response, now)
    household = _household_for(caller, kk, supervisors_too=False)
    kk = household.state.kk
    note = _with_duplicate(request, kk)
    visit_id = key or f"{iso_utc(now)}#{uuid.uuid4().hex[:8]}"
    if key is not None and request.response is None:
        stored = store.get_visit(kk, visit_id)
        if stored is not None:  # a retry: the same answer as the first time
            return RecordedVisit(_visit_answer(kk, stored, settings), created=True)

    def visit_entry(attempt: int, status: str, version: int) -> store.VisitRecord:
        return store.VisitRecord(
            visit_id=visit_id,
            officer_id=caller.officer_id,
            outcome=request.outcome,
            note=note,
            visited_at=iso_utc(now),
            attempt=attempt,
            status=status,
            version=version,
            recorded_at=recorded_at,
            position=as_json(request.position) if request.position is not None else None,
        )

    record = audit.record(
        audit.INTERVIEW if request.response is not None else audit.VISIT,
        caller.officer_id,
        household.register.sls_code,
        iso_utc(now),
        kk=kk,
        outcome=request.outcome,
    )
    if request.response is not None:
        result = store_response(
            kk,
            request.response,
            household,
            key=key,
            settings=settings,
            now=now,
            channel=Channel.INTERVIEW,
            visit=lambda attempt, version: visit_entry(attempt, Status.INTERVIEWED.value, version),
            audit=record,
        )
        answer = {
            "kk": kk,
            "outcome": "interviewed",
            "status": result.status,
            "version": result.version,
            "receipt_code": result.receipt_code,
            "submitted_at": result.submitted_at,
        }
        return RecordedVisit(answer, created=result.created)
    return _record_failed_visit(household, request.outcome, visit_entry, settings, record)


def _with_duplicate(request: VisitRequest, kk: str) -> str | None:
    """The visit's note; for a duplicate it starts with the household it duplicates
    (`duplicate_of=<kk>`), which must be another household on the register."""
    if request.duplicate_of is None:
        return request.note
    try:
        original = validate_kk(request.duplicate_of)
    except ValidationFailed as exc:
        raise ValidationFailed([FieldProblem(p.code, p.message, "duplicate_of") for p in exc.problems]) from None
    if original == kk or not store.household_states([original]):
        why = "duplicate_of must be another household on the register."
        raise ValidationFailed([FieldProblem("unknown_household", why, "duplicate_of")])
    return f"duplicate_of={original}" + (f"; {request.note}" if request.note else "")


def _record_failed_visit(
    household: store.HouseholdSnapshot,
    outcome: str,
    visit_entry: Callable[[int, str, int], store.VisitRecord],
    settings: Settings,
    record: store.AuditRecord | None = None,
) -> RecordedVisit:
    kk = household.state.kk
    for _ in range(settings.write_attempts):
        state = household.state
        new = check_transition(Status(state.status), Status(outcome))
        if state.visit_attempts >= settings.max_visit_attempts:
            raise VisitAttemptsExhausted()
        attempt = state.visit_attempts + 1
        stays = new in _FAILED_VISITS_STAYING and attempt < settings.max_visit_attempts
        entry = visit_entry(attempt, new.value, state.version)
        change = store.VisitChange(
            kk=kk,
            sls_code=household.register.sls_code,
            expected_version=state.version,
            expected_status=state.status,
            expected_attempts=state.visit_attempts,
            status=new.value,
            visit=entry,
            stays_on_worklist=stays,
            audit=record,
            meta_holds_visits=bool(state.visit_ids),
        )
        try:
            store.save_visit(change)
        except store.VisitReplay:
            stored = store.get_visit(kk, entry.visit_id)
            if stored is not None:
                return RecordedVisit(_visit_answer(kk, stored, settings), created=True)
        except store.VersionConflict:
            household = store.load_household(kk) or household
            continue
        return RecordedVisit(_visit_answer(kk, entry, settings), created=True)
    raise WriteConflict("The household changed while recording the visit; retry.")


def _visit_answer(kk: str, visit: store.VisitRecord, settings: Settings) -> dict[str, Any]:
    attempt = visit.attempt
    return {
        "kk": kk,
        "outcome": visit.outcome,
        "status": visit.status,
        "attempt": attempt,
        "version": visit.version,
        "visited_at": visit.visited_at,
        "recorded_at": visit.recorded_at,
        "stays_on_worklist": Status(visit.status) in _FAILED_VISITS_STAYING and attempt < settings.max_visit_attempts,
    }


def reset_household_password(caller: Caller, kk: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A supervisor of the household's area, having checked the family card in person,
    removes the household's password and gets a one-time code for the family
    (shared/reset_codes.py): the household's next sign-in needs KK + NIK + that code to set a
    new password; KK + NIK alone no longer claim it. Recorded (who, when) in the household's
    partition and the audit trail; the guessing lockout is lifted with it. A second reset
    before the family has used the code replaces the code."""
    kk = validate_kk(kk)
    household = store.load_household(kk)
    if household is None:
        raise Forbidden()  # an unknown KK looks like one of another area
    require_supervisor_of(caller, household.register.sls_code)
    if household.credential is None and household.reset is None:
        raise PasswordNotSet()
    moment = now or datetime.now(UTC)
    reset_at = iso_utc(moment)
    expires_at = iso_utc(moment + timedelta(seconds=RESET_CODE_TTL_SECONDS))
    code = new_reset_code()
    try:
        store.reset_password(
            kk,
            reset_by=caller.officer_id,
            reset_at=reset_at,
            code_hash=hash_reset_code(code),
            expires_at=expires_at,
            credential_set_at=household.credential.set_at if household.credential is not None else None,
            replaced_code_hash=household.reset.code_hash if household.reset is not None else None,
            audit=audit.record(audit.PASSWORD_RESET, caller.officer_id, household.register.sls_code, reset_at, kk=kk),
        )
    except store.ConditionFailed:
        raise WriteConflict("The household changed during the reset; retry.") from None
    guesses = store.get_guesses(kk)
    if guesses is not None and guesses.failures:
        store.clear_failed_guesses(kk)
    return {
        "kk": kk,
        "reset_at": reset_at,
        "reset_by": caller.officer_id,
        "reset_code": format_reset_code(code),
        "expires_at": expires_at,
    }
