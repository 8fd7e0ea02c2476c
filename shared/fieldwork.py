"""Door-to-door work on one household: what the assigned officer starts the interview from,
and recording a visit - an interview (the same validation, versioning and idempotency as
an online response, channel `interview`) or a failed visit that keeps the household on
the worklist until its last allowed attempt."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from shared import store
from shared.errors import Forbidden, PasswordNotSet, WriteConflict
from shared.household_access import validate_kk
from shared.intake import iso_utc, store_response, validate_idempotency_key
from shared.officers import SUPERVISOR, Caller, require_supervisor_of
from shared.progress import status_delta
from shared.responses import Submission, check_rules
from shared.settings import Settings
from shared.status import Status, check_transition
from shared.text import has_control_characters
from shared.validation import parse_json
from shared.vocabulary import Channel

Outcome = Literal["interviewed", "not_home", "refused", "moved"]
_FAILED_VISITS_STAYING = {Status.NOT_HOME, Status.REFUSED}


class VisitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    outcome: Outcome
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    response: Submission | None = None

    @model_validator(mode="after")
    def _response_iff_interviewed(self) -> VisitRequest:
        if (self.outcome == "interviewed") != (self.response is not None):
            raise ValueError("an interview carries the response; other outcomes carry none")
        if self.note is not None and has_control_characters(self.note):
            raise ValueError("the note contains control characters")
        return self


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
        "register_members": [asdict(m) for m in register.members],  # nik, name, sex, birth_date, relationship
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
    if request.response is not None:
        check_rules(request.response, now)
    household = _household_for(caller, kk, supervisors_too=False)
    kk = household.state.kk
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
            note=request.note,
            visited_at=iso_utc(now),
            attempt=attempt,
            status=status,
            version=version,
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
    return _record_failed_visit(household, request.outcome, visit_entry, settings)


def _record_failed_visit(
    household: store.HouseholdSnapshot,
    outcome: str,
    visit_entry: Callable[[int, str, int], store.VisitRecord],
    settings: Settings,
) -> RecordedVisit:
    kk = household.state.kk
    for _ in range(settings.write_attempts):
        state = household.state
        new = check_transition(Status(state.status), Status(outcome))
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
            receipt_code=state.receipt_code,
            progress=status_delta(state.status, new.value, was_on_worklist=state.on_worklist, on_worklist=stays),
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
        "stays_on_worklist": Status(visit.status) in _FAILED_VISITS_STAYING and attempt < settings.max_visit_attempts,
    }


def reset_household_password(caller: Caller, kk: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A supervisor of the household's area, having checked the family card in person,
    removes the household's password: its next sign-in sets a new one. Recorded (who,
    when) in the household's partition; the guessing lockout is lifted with it."""
    kk = validate_kk(kk)
    household = store.load_household(kk)
    if household is None:
        raise Forbidden()  # an unknown KK looks like one of another area
    require_supervisor_of(caller, household.register.sls_code)
    reset_at = iso_utc(now or datetime.now(UTC))
    try:
        store.reset_password(kk, reset_by=caller.officer_id, reset_at=reset_at)
    except store.ConditionFailed:
        raise PasswordNotSet() from None
    guesses = store.get_guesses(kk)
    if guesses is not None and guesses.failures:
        store.clear_failed_guesses(kk)
    return {"kk": kk, "reset_at": reset_at, "reset_by": caller.officer_id}
