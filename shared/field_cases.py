"""The field side of households the register missed: an officer resolves a resident's
report - ENROLLED (the household is created from the interview: a register-like record
marked `enrolled_in_field`, the interview as its first version through intake's own path,
channel `interview`, a receipt), MATCHED (it is household X on the register: linked, the
report closed, X unchanged) or NOT FOUND (no such address, not residential, nobody lives
there) - and enrols a NEW HOUSEHOLD FOUND on the spot, on no list at all.

Each resolution is one conditional transaction (report closed only while open, household
created only where its KK has none), moving the SLS counters in the same write: a report
is resolved once and a household created once, however many officers try at once."""

from __future__ import annotations

import dataclasses
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec

from shared import audit, store
from shared.areas import area_code_parameter
from shared.errors import (
    FieldProblem,
    Forbidden,
    HouseholdExists,
    IdempotencyKeyReused,
    ReportClosed,
    ValidationFailed,
    WriteConflict,
)
from shared.household_access import validate_kk
from shared.intake import iso_utc, store_response, validate_idempotency_key
from shared.officers import Caller
from shared.reports import MAX_ADDRESS_LENGTH, parse_reference
from shared.responses import Submission, check_against_register, check_rules
from shared.settings import Settings
from shared.status import Status
from shared.text import has_control_characters
from shared.validation import Body, Invalid, parse_json, trimmed
from shared.vocabulary import Channel, Relationship

Code = Annotated[str, trimmed(max_length=32)]
Address = Annotated[str, trimmed(1, MAX_ADDRESS_LENGTH)]
Note = Annotated[str, trimmed(max_length=500)]
NotFoundReason = Literal["address_not_found", "not_residential", "nobody_lives_here"]


def _no_control_characters(*texts: str | None) -> None:
    if any(text is not None and has_control_characters(text) for text in texts):
        raise Invalid("the text contains control characters")


class ResolutionRequest(Body, frozen=True, kw_only=True):
    """How the officer's visit resolved a report."""

    outcome: Literal["enrolled", "matched", "not_found"]
    # enrolled: the KK as on the card (default: as reported); matched: the register's household.
    kk: Code | None = None
    address: Address | None = None  # enrolled: the address as found (default: as reported)
    reason: NotFoundReason | None = None  # not_found: why
    note: Note | None = None
    response: Submission | None = None  # enrolled: the interview

    def check(self) -> None:
        if (self.outcome == "enrolled") != (self.response is not None):
            raise Invalid("an enrolment carries the interview's response; other outcomes carry none")
        if self.outcome == "matched" and self.kk is None:
            raise Invalid("a match names the register household's kk")
        if (self.outcome == "not_found") != (self.reason is not None):
            raise Invalid("not_found, and only not_found, gives a reason")
        _no_control_characters(self.note, self.address)


class NewHouseholdRequest(Body, frozen=True, kw_only=True):
    """A household an officer found on no list, enrolled on the spot."""

    kk: Code
    sls_code: Code
    address: Address
    note: Note | None = None
    response: Submission

    def check(self) -> None:
        _no_control_characters(self.note, self.address)


@dataclass(frozen=True)
class CaseResult:
    answer: dict[str, Any]
    created: bool  # 201: something new; 200: a retry answered again


def _case_for(caller: Caller, reference_text: str) -> store.ReportRecord:
    """The report, if the caller holds its case (assigned, or covering its SLS on the roster).
    An unknown reference looks like one of another area."""
    reference = parse_reference(reference_text)
    report = store.get_report(reference)
    if report is None:
        raise Forbidden()
    assignment = store.get_assignment(report.sls_code, reference)
    if not ((assignment is not None and assignment.officer_id == caller.officer_id) or caller.covers(report.sls_code)):
        raise Forbidden()
    return report


def resolve_report(
    caller: Caller,
    reference: str,
    body: str | bytes | None,
    idempotency_key: str | None,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> CaseResult:
    now = now or datetime.now(UTC)
    validate_idempotency_key(idempotency_key)  # checked; the enrolment uses the report's own key
    request = parse_json(ResolutionRequest, body)
    if request.response is not None:
        check_rules(_as_register(request.response), now)
    report = _case_for(caller, reference)
    resolution = store.Resolution(
        reference=report.reference,
        sls_code=report.sls_code,
        resolution=request.outcome,
        reason=request.reason,
        resolved_kk=None,
        resolved_at=iso_utc(now),
        resolved_by=caller.officer_id,
    )
    if request.outcome == "enrolled":
        assert request.response is not None
        answer, created = _enrol(
            caller,
            request.kk or report.kk,
            report.sls_code,
            request.address or report.address,
            request.response,
            report=report,
            resolution=resolution,
            # Every phone sends its own Idempotency-Key: the interview is stored under the
            # report's key, so however many phones enrol it, one version holds the interview.
            key=f"enrol.{report.reference}",
            note=request.note,
            settings=settings,
            now=now,
        )
        return CaseResult({"reference": report.reference, "outcome": "enrolled", **answer}, created)
    if request.outcome == "matched":
        assert request.kk is not None
        kk = validate_kk(request.kk)
        if not store.household_states([kk]):
            why = "No household on the register has this KK."
            raise ValidationFailed([FieldProblem("unknown_household", why, "kk")])
        resolution = dataclasses.replace(resolution, resolved_kk=kk)
    done = _close(resolution, None, settings)
    answer = {"reference": report.reference, "outcome": request.outcome, "kk": resolution.resolved_kk}
    if request.reason:
        answer["reason"] = request.reason
    return CaseResult(answer, created=done)


def _resolved(resolution: store.Resolution) -> store.AuditRecord:
    """The audit record of a resolution: identifiers only (the reference, the KK it names)."""
    return audit.record(
        audit.REPORT_RESOLVED,
        resolution.resolved_by,
        resolution.sls_code,
        resolution.resolved_at,
        kk=resolution.resolved_kk,
        reference=resolution.reference,
        outcome=resolution.resolution,
        reason=resolution.reason,
    )


def _close(resolution: store.Resolution, household: store.EnrolledHousehold | None, settings: Settings) -> bool:
    """Write the resolution with its audit record; True if this call did, False if an
    identical one already had."""
    for attempt in range(settings.write_attempts):
        try:
            store.resolve(resolution, household, _resolved(resolution))
            return True
        except store.ResolveConflict:
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # noqa: S311 - jitter
            continue
        except store.ReportAlreadyResolved:
            current = store.get_report(resolution.reference)
            if (
                current is not None
                and current.resolution == resolution.resolution
                and current.resolved_kk == resolution.resolved_kk
                and current.resolution_reason == resolution.reason
            ):
                return False  # the same resolution, by a retry or a colleague at the same time
            raise ReportClosed() from None
    raise WriteConflict(retry_after=1)


def _as_register(submission: Submission) -> Submission:
    """An enrolment's members are its register: none is 'added' to anything."""
    members = [msgspec.structs.replace(m, added_because=None) for m in submission.members]
    return msgspec.structs.replace(submission, members=members)


def _enrol(
    caller: Caller,
    kk: str,
    sls_code: str,
    address: str,
    submission: Submission,
    *,
    report: store.ReportRecord | None,
    resolution: store.Resolution | None,
    key: str | None,
    note: str | None,
    settings: Settings,
    now: datetime,
) -> tuple[dict[str, Any], bool]:
    kk = validate_kk(kk)
    submission = _as_register(submission)
    check_rules(submission, now)
    # Everything store_response will judge, judged before the household is created: a refusal
    # there would leave a household without its interview (the register is the members).
    check_against_register(submission, {m.nik for m in submission.members})
    head = next(m for m in submission.members if m.relationship == Relationship.HEAD)
    household = store.EnrolledHousehold(
        kk=kk,
        sls_code=sls_code,
        address=address,
        head_nik=head.nik,
        head_name=head.name,
        members=tuple(
            store.MemberRecord(m.nik, m.name, m.sex.value, m.birth_date.isoformat(), m.relationship.value)
            for m in submission.members
        ),
        progress={"households": 1, "pending": 1, "enrolled": 1},
        key=key if report is None else None,
    )
    if resolution is not None:
        resolution = dataclasses.replace(resolution, resolved_kk=kk)
    already = False  # the report was enrolled (the household created) by another call
    try:
        if resolution is not None:
            already = not _close(resolution, household, settings)
        else:
            _create(
                household, key, audit.record(audit.HOUSEHOLD_FOUND, caller.officer_id, sls_code, iso_utc(now), kk=kk)
            )
    except store.HouseholdExists:
        # The KK already has a household. A concurrent or retried enrolment of this same
        # report created it (the report says so): carry on to the response, which the
        # shared idempotency key stores once. Otherwise the KK is on the register: match it.
        current = None if report is None else store.get_report(report.reference)
        if current is None or current.resolution != "enrolled" or current.resolved_kk != kk:
            raise HouseholdExists() from None
        already = True
    snapshot = store.load_household(kk)
    if snapshot is None:  # created a moment ago: never absent on a strongly consistent read
        raise WriteConflict(retry_after=1)
    if already and snapshot.state.version > 0 and store.find_replay(snapshot.state, key, int(now.timestamp())) is None:
        raise ReportClosed()  # its interview is stored (its key expired): nothing more to write
    visit_id = key or f"{iso_utc(now)}#{uuid.uuid4().hex[:8]}"
    try:
        result = store_response(
            kk,
            submission,
            snapshot,
            key=key,
            settings=settings,
            now=now,
            channel=Channel.INTERVIEW,
            visit=lambda attempt, version: store.VisitRecord(
                visit_id=visit_id,
                officer_id=caller.officer_id,
                outcome="enrolled" if report is not None else "new_household",
                note=note,
                visited_at=iso_utc(now),
                attempt=attempt,
                status=Status.INTERVIEWED.value,
                version=version,
            ),
        )
    except IdempotencyKeyReused:
        if report is None:
            raise
        raise ReportClosed() from None  # a colleague's different interview enrolled it first
    answer = {
        "kk": kk,
        "status": result.status,
        "version": result.version,
        "receipt_code": result.receipt_code,
        "submitted_at": result.submitted_at,
        "enrolled_in_field": True,
    }
    return answer, result.created and not result.replayed


def _create(household: store.EnrolledHousehold, key: str | None, record: store.AuditRecord) -> None:
    """A found household: created once with its audit record (and its creating request's
    Idempotency-Key); a retry with that key goes on to the (idempotent) response, anything
    else finding the KK taken - another officer, another key, no key - is refused."""
    try:
        store.resolve(None, household, record)
    except store.HouseholdExists:
        existing = store.load_household(household.kk)
        retry = (
            existing is not None
            and existing.state.enrolled_in_field
            and (
                # not yet interviewed: only the request that created it may store the interview
                store.created_by(existing.state, key)
                if existing.state.version == 0
                else store.find_replay(existing.state, key, int(time.time())) is not None
            )
        )
        if not retry:
            raise HouseholdExists() from None


def enrol_found_household(
    caller: Caller,
    body: str | bytes | None,
    idempotency_key: str | None,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> CaseResult:
    """NEW HOUSEHOLD FOUND: an officer meets a household on no list and enrols it there."""
    now = now or datetime.now(UTC)
    key = validate_idempotency_key(idempotency_key)
    request = parse_json(NewHouseholdRequest, body)
    check_rules(_as_register(request.response), now)
    sls_code = area_code_parameter(request.sls_code, "sls_code")
    if len(sls_code) < 14:
        why = "Give the SLS (14 digits) or sub-SLS the household lives in."
        raise ValidationFailed([FieldProblem("invalid_area_code", why, "sls_code")])
    if not caller.covers(sls_code):
        raise Forbidden()
    answer, created = _enrol(
        caller,
        request.kk,
        sls_code,
        request.address,
        request.response,
        report=None,
        resolution=None,
        key=key,
        note=request.note,
        settings=settings,
        now=now,
    )
    return CaseResult({"outcome": "new_household", **answer}, created)
