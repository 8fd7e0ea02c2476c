"""The submission transaction: a response version and everything that moves with it, all
or nothing; and what a cancelled transaction means (a lost race, a replay, or a 503)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.store.audit import audit_items, put_audit
from shared.store.client import transaction_connection
from shared.store.faults import mapped_faults
from shared.store.records import AuditRecord, HouseholdRecord, ReplayRecord, VisitRecord
from shared.store.schema import (
    DRAFT_SK,
    META_SK,
    RECEIPT_SK,
    Draft,
    HouseholdState,
    Receipt,
    ResponseVersion,
    VisitEntry,
    household_pk,
    receipt_pk,
    review_queue_keys,
    version_sk,
    visit_keys,
)


class VersionConflict(Exception):
    """Another writer moved the household on since it was read: read again and retry."""


class VisitReplay(Exception):
    """The visit (same Idempotency-Key) is already recorded."""


@mapped_faults
def key_digest(key: str) -> str:
    """A key's name in META's `idempotency` map: 16 characters whatever the key's length."""
    return base64.urlsafe_b64encode(hashlib.blake2b(key.encode(), digest_size=12).digest()).decode()


def _entries(stored: dict[str, str], now_epoch: int) -> dict[str, tuple[int, int]]:
    """The unexpired entries of META's map: digest -> (version, expires epoch)."""
    entries = {}
    for digest, value in stored.items():
        version, _, expires = value.partition(":")
        if int(expires) >= now_epoch:
            entries[digest] = (int(version), int(expires))
    return entries


@mapped_faults
def created_by(state: HouseholdRecord, key: str | None) -> bool:
    """Whether a household found in the field was created by the request with this key."""
    return key is not None and state.enrolment_key is not None and state.enrolment_key == key_digest(key)


@mapped_faults
def find_replay(state: HouseholdRecord, key: str | None, now_epoch: int) -> ReplayRecord | None:
    """What a retry of `key` answers: the version the key stored, if META (as read, strongly
    consistent) names it and it has not expired; one GetItem of that version. None: the key
    is new (or expired, which counts as new)."""
    if key is None:
        return None
    entry = _entries(state.idempotency, now_epoch).get(key_digest(key))
    if entry is None:
        return None
    item = ResponseVersion.get(household_pk(state.kk), version_sk(entry[0]), consistent_read=True)
    return ReplayRecord.of(item, state.receipt_code or "")


@dataclass(frozen=True)
class NewVersion:
    kk: str
    sls_code: str
    expected_version: int
    expected_status: str
    version: int
    status: str
    channel: str
    submitted_at: str
    first_submitted_at: str
    receipt_code: str
    receipt_is_new: bool
    respondent_nik: str
    members: list[dict[str, Any]]
    review_reasons: list[str]
    needs_visit: bool  # stays on (or goes onto) the field worklist
    idempotency_key: str | None
    request_hash: str
    created: bool
    idempotency_expires_at: int
    now_epoch: int
    recent_keys: dict[str, str] = field(default_factory=dict)  # META's map as read
    visit: VisitRecord | None = None  # an interview also records the visit
    departed: list[dict[str, Any]] | None = None
    delete_draft: bool = False  # the household's draft is filed with this version
    # Awaits a supervisor's review (into the review_queue index, flagged at submitted_at).
    in_review: bool = False
    audit: AuditRecord | None = None  # a staff action (an interview) is audited with it


@mapped_faults
def save_version(new: NewVersion) -> None:
    """Store a response version and move the household, all or nothing.

    One transaction: the version item (conditional on absence), META (conditional on the
    version and status that were read, so concurrent corrections cannot both win, and
    concurrent retries of one Idempotency-Key cannot both store a version: the loser
    re-reads META, finds the key and replays) and, for a first submission, the receipt
    item. The SLS's progress counter and a later version's receipt move from the table's
    stream (shared/progress_stream.py, docs/decisions/0019).
    """
    pk = household_pk(new.kk)
    version_item = ResponseVersion(
        pk,
        version_sk(new.version),
        version=new.version,
        channel=new.channel,
        status=new.status,
        submitted_at=new.submitted_at,
        respondent_nik=new.respondent_nik,
        review_reasons=new.review_reasons,
        members=new.members,
        departed=new.departed,
        idempotency_key=new.idempotency_key,
        request_hash=new.request_hash if new.idempotency_key is not None else None,
    )
    receipt = Receipt(
        receipt_pk(new.receipt_code),
        RECEIPT_SK,
        kk=new.kk,
        status=new.status,
        version=new.version,
        channel=new.channel,
        first_submitted_at=new.first_submitted_at,
        last_submitted_at=new.submitted_at,
        member_count=len(new.members),
    )
    meta = HouseholdState(pk, META_SK)
    meta_actions: list[Action] = [
        HouseholdState.status.set(new.status),
        HouseholdState.version.set(new.version),
        HouseholdState.receipt_code.set(new.receipt_code),
        HouseholdState.channel.set(new.channel),
        HouseholdState.first_submitted_at.set(new.first_submitted_at),
        HouseholdState.last_submitted_at.set(new.submitted_at),
        HouseholdState.member_count.set(len(new.members)),
    ]
    if new.visit is not None:
        meta_actions.append(HouseholdState.visit_attempts.add(1))
    if not new.needs_visit:
        meta_actions += [HouseholdState.visit_area.remove(), HouseholdState.visit_order.remove()]
    else:
        visit_area, visit_order = visit_keys(new.sls_code, new.kk)
        meta_actions += [HouseholdState.visit_area.set(visit_area), HouseholdState.visit_order.set(visit_order)]
    keys = _entries(new.recent_keys, new.now_epoch)
    if new.idempotency_key is not None:
        keys[key_digest(new.idempotency_key)] = (new.version, new.idempotency_expires_at)
    if keys:
        meta_actions.append(HouseholdState.idempotency.set({d: f"{v}:{e}" for d, (v, e) in keys.items()}))
    elif new.recent_keys:
        meta_actions.append(HouseholdState.idempotency.remove())
    meta_actions += review_queue_actions(
        review_queue_keys(new.sls_code, new.kk, new.submitted_at) if new.in_review else None, new.review_reasons
    )
    meta_condition = (HouseholdState.version == new.expected_version) & (HouseholdState.status == new.expected_status)

    # PynamoDB sends condition checks, deletes, puts, then updates; cancellation reasons
    # come back in that order, so this list names them.
    items = [
        *(["draft"] if new.delete_draft else []),
        "version",
        *(["receipt"] if new.receipt_is_new else []),
        *(["visit"] if new.visit else []),
        *(["audit"] * (0 if new.audit is None else len(audit_items(new.audit)))),
        "meta",
    ]
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            if new.delete_draft:
                tx.delete(Draft(pk, DRAFT_SK))
            tx.save(version_item, condition=ResponseVersion.pk.does_not_exist())
            if new.receipt_is_new:
                tx.save(receipt, condition=Receipt.pk.does_not_exist())
            if new.visit is not None:
                tx.save(new.visit.item(new.kk), condition=VisitEntry.pk.does_not_exist())
            put_audit(tx, new.audit)
            tx.update(meta, actions=meta_actions, condition=meta_condition)
    except TransactWriteError as exc:
        classify_cancellation(exc, items)


def review_queue_actions(keys: tuple[str, str] | None, reasons: Sequence[str]) -> list[Action]:
    """META's review-queue attributes: set while it awaits review, removed otherwise."""
    if keys is None:
        return [
            HouseholdState.review_area.remove(),
            HouseholdState.review_order.remove(),
            HouseholdState.review_reasons.remove(),
        ]
    return [
        HouseholdState.review_area.set(keys[0]),
        HouseholdState.review_order.set(keys[1]),
        HouseholdState.review_reasons.set(list(reasons)),  # type: ignore[arg-type]
    ]


def classify_cancellation(exc: TransactWriteError, items: Sequence[str]) -> None:
    """Raise what a cancelled household transaction means; `items` names its items in the
    order DynamoDB reports their cancellation reasons. Anything else re-raises `exc`
    (throttling: the caller's `mapped_faults` makes it a 503)."""
    reasons = exc.cancellation_reasons
    by_item = {name: (reasons[i] if i < len(reasons) else None) for i, name in enumerate(items)}
    codes = {name: (r.code if r else None) for name, r in by_item.items()}
    if codes.get("meta") == "ConditionalCheckFailed" or codes.get("version") == "ConditionalCheckFailed":
        raise VersionConflict() from None
    if any(code == "TransactionConflict" for code in codes.values()):
        raise VersionConflict() from None
    if codes.get("visit") == "ConditionalCheckFailed":
        raise VisitReplay() from None
    if codes.get("receipt") == "ConditionalCheckFailed":
        # A freshly drawn receipt code collided (60 random bits: astronomically rare).
        raise VersionConflict() from None
    raise exc
