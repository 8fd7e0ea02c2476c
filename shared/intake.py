"""Submission intake: validate, authenticate the household, check consistency, and store
the response as a new version - retrying races, replaying idempotent retries. No HTTP
here and no DynamoDB: `shared.store` does the writing."""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from shared import store
from shared.errors import (
    FieldProblem,
    IdempotencyKeyReused,
    OnlinePhaseClosed,
    ValidationFailed,
    WriteConflict,
)
from shared.household_access import authenticate, session_household, validate_kk
from shared.receipts import new_receipt_code
from shared.responses import (
    Submission,
    canonical_departed,
    canonical_members,
    check_against_register,
    check_rules,
    parse_submission,
    register_review_reasons,
    review_reasons,
)
from shared.sessions import Session
from shared.settings import Settings
from shared.status import NEEDS_VISIT, Status, check_transition
from shared.validation import as_json
from shared.vocabulary import Channel

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")


@dataclass(frozen=True)
class SubmissionResult:
    receipt_code: str
    kk: str
    version: int
    status: str
    submitted_at: str
    created: bool  # first version of this household (201) or a correction (200)
    replayed: bool = False  # answered from the idempotency record

    def as_dict(self) -> dict[str, object]:
        return {
            "receipt_code": self.receipt_code,
            "kk": self.kk,
            "version": self.version,
            "status": self.status,
            "submitted_at": self.submitted_at,
        }


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def validate_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationFailed(
            [
                FieldProblem(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1-128 characters of letters, digits, '_', '-', '.' or ':'.",
                    "Idempotency-Key",
                )
            ]
        )
    return key


def request_hash(submission: Submission) -> str:
    """What an Idempotency-Key stands for: the response as given, never the password."""
    answers = as_json(submission)
    del answers["password"]
    canonical = json.dumps(answers, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit_response(
    kk: str,
    body: str | bytes | None,
    idempotency_key: str | None,
    *,
    settings: Settings,
    now: datetime | None = None,
    session: Session | None = None,
) -> SubmissionResult:
    """Store a household's online response as its next version; see the module docstring.
    The household is proven by the `session` of a signed-in resident, or else by the
    body's `respondent_nik` (and `password`, once the household has one)."""
    now = now or datetime.now(UTC)
    if not settings.online_phase_open(now):
        raise OnlinePhaseClosed()
    kk = validate_kk(kk)
    key = validate_idempotency_key(idempotency_key)
    submission = parse_submission(body)
    if session is not None:
        household, respondent_nik = session_household(session, kk)
        if submission.respondent_nik not in (None, respondent_nik):
            raise ValidationFailed(
                [FieldProblem("respondent_mismatch", "respondent_nik is not the signed-in member.", "respondent_nik")]
            )
        submission = msgspec.structs.replace(submission, respondent_nik=respondent_nik)
        check_rules(submission, now)
    else:
        check_rules(submission, now)
        assert submission.respondent_nik is not None  # check_rules refuses a missing one
        household = authenticate(kk, submission.respondent_nik, submission.password, settings=settings, now=now)
    return store_response(kk, submission, household, key=key, settings=settings, now=now, channel=Channel.ONLINE)


def store_response(
    kk: str,
    submission: Submission,
    household: store.HouseholdSnapshot,
    *,
    key: str | None,
    settings: Settings,
    now: datetime,
    channel: Channel,
    visit: Callable[[int, int], store.VisitRecord] | None = None,
    audit: store.AuditRecord | None = None,
) -> SubmissionResult:
    """Store a checked response (online, or an interview with its `visit(attempt, version)` record)
    as the household's next version, retrying lost races, replaying idempotent retries."""
    register_niks = {str(m.nik) for m in household.register.members}
    check_against_register(submission, register_niks)
    fingerprint = request_hash(submission)
    members = canonical_members(submission, register_niks)
    submitted_at = iso_utc(now)
    now_epoch = int(now.timestamp())
    for attempt in range(settings.write_attempts):
        if attempt:
            household = store.load_household(kk) or household
        state = household.state
        # A retry of a stored request (also one that lost the race to its own twin): its answer.
        replay = store.find_replay(state, key, now_epoch)
        if replay is not None:
            return _result_from_record(kk, replay, fingerprint)
        reasons = review_reasons(submission, household.register.head_nik, now)
        reasons += register_review_reasons(submission, register_niks)
        path = (
            [Status.INTERVIEWED]
            if channel is Channel.INTERVIEW
            else [Status.SUBMITTED, Status.NEEDS_REVIEW if reasons else Status.CLEAN]
        )
        final = check_transition(Status(state.status), *path, enrolled_in_field=state.enrolled_in_field)
        needs_visit = final in NEEDS_VISIT
        new = store.NewVersion(
            kk=kk,
            sls_code=household.register.sls_code,
            expected_version=state.version,
            expected_status=state.status,
            version=state.version + 1,
            status=final.value,
            channel=channel.value,
            submitted_at=submitted_at,
            first_submitted_at=state.first_submitted_at or submitted_at,
            receipt_code=state.receipt_code or new_receipt_code(),
            receipt_is_new=state.receipt_code is None,
            respondent_nik=submission.respondent_nik or "",
            members=members,
            departed=canonical_departed(submission) or None,
            delete_draft=household.draft is not None,
            review_reasons=reasons,
            needs_visit=needs_visit,
            idempotency_key=key,
            request_hash=fingerprint,
            created=state.receipt_code is None,
            idempotency_expires_at=now_epoch + settings.idempotency_ttl_seconds,
            now_epoch=now_epoch,
            recent_keys=state.idempotency,
            visit=visit(state.visit_attempts + 1, state.version + 1) if visit else None,
            in_review=final is Status.NEEDS_REVIEW,
            audit=audit,
        )
        try:
            store.save_version(new)
        except (store.VersionConflict, store.VisitReplay):
            # Lost a race with another writer of this household: back off, re-read, retry.
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # noqa: S311 - jitter, not crypto
            continue
        return SubmissionResult(
            receipt_code=new.receipt_code,
            kk=kk,
            version=new.version,
            status=new.status,
            submitted_at=submitted_at,
            created=new.created,
        )
    raise WriteConflict(retry_after=1)


def _result_from_record(kk: str, record: store.ReplayRecord, fingerprint: str) -> SubmissionResult:
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return SubmissionResult(
        receipt_code=record.receipt_code,
        kk=kk,
        version=record.version,
        status=record.status,
        submitted_at=record.submitted_at,
        created=record.created,
        replayed=True,
    )
