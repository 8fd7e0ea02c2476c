"""The review queue's data: the sparse `review_queue` index (households awaiting a
supervisor's review, by regency, oldest flag first) and the decision transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.store.audit import put_audit
from shared.store.client import transaction_connection
from shared.store.faults import cancelled_by_condition, mapped_faults
from shared.store.records import AssignmentRecord, AuditRecord, DecisionRecord, QueueEntry
from shared.store.schema import (
    META_SK,
    REVIEW_PREFIX,
    Assignment,
    CensusItem,
    HouseholdState,
    ReviewDecision,
    flagged_at_of,
    household_pk,
    kk_of,
    review_decision_sk,
)
from shared.store.submissions import review_queue_actions


def queue_start(key: Any, regency: str) -> dict[str, Any] | None:
    """`key` if it is exactly a review_queue index key of `regency` (a cursor sent back)."""
    names = {"pk", "sk", "review_area", "review_order"}
    if not isinstance(key, dict) or set(key) != names:
        return None
    if not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values()):
        return None
    if key["review_area"]["S"] != regency or not key["pk"]["S"].startswith("HH#"):
        return None
    return dict(key)


@mapped_faults
def queue_page(
    regency: str, within: str, reason: str | None, limit: int, start: dict[str, Any] | None
) -> tuple[list[QueueEntry], dict[str, Any] | None]:
    """Up to `limit` households awaiting review in `within` (an area inside `regency`), oldest
    flag first, optionally only those flagged for `reason`; and the key to resume from."""
    condition: Any = None
    if len(within) > 4:
        condition = HouseholdState.sls_code.startswith(within)
    if reason is not None:
        has_reason = HouseholdState.review_reasons.contains(reason)
        condition = has_reason if condition is None else condition & has_reason
    pages = HouseholdState.review_queue.query(
        regency, filter_condition=condition, limit=limit, last_evaluated_key=start, page_size=max(limit, 100)
    )
    entries = [
        QueueEntry(
            kk=kk_of(item.pk),
            sls_code=item.sls_code,
            flagged_at=flagged_at_of(str(item.review_order)),
            version=int(item.version),
            status=item.status,
            reasons=tuple(str(r) for r in item.review_reasons or ()),
        )
        for item in pages
    ]
    return entries, pages.last_evaluated_key


@dataclass(frozen=True)
class ReviewChange:
    """A supervisor's decision, written in one transaction conditional on the version read."""

    kk: str
    sls_code: str
    expected_version: int
    new_status: str  # clean (accepted) or needs_review (sent to the field)
    leave_worklist: bool  # accepted: no visit needed any more
    decision: DecisionRecord
    audit: AuditRecord
    assignment: AssignmentRecord | None = None  # sent to the field without one: put on a worklist


class DecisionConflict(Exception):
    """The household is no longer the version that was reviewed, or no longer awaits review."""


@mapped_faults
def save_decision(change: ReviewChange) -> None:
    meta_actions: list[Action] = [HouseholdState.status.set(change.new_status), *review_queue_actions(None, ())]
    if change.leave_worklist:
        meta_actions += [HouseholdState.visit_area.remove(), HouseholdState.visit_order.remove()]
    d = change.decision
    decision = ReviewDecision(
        household_pk(change.kk),
        review_decision_sk(d.decided_at, uuid.uuid4().hex[:6]),
        decision=d.decision,
        version=d.version,
        decided_by=d.decided_by,
        decided_at=d.decided_at,
        note=d.note,
    )
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(decision, condition=ReviewDecision.pk.does_not_exist())
            put_audit(tx, change.audit)
            if change.assignment is not None:
                tx.save(change.assignment.item(), condition=Assignment.pk.does_not_exist())
            tx.update(
                HouseholdState(household_pk(change.kk), META_SK),
                actions=meta_actions,
                condition=(HouseholdState.version == change.expected_version)
                & (HouseholdState.status == "needs_review")
                & HouseholdState.review_area.exists(),
            )
    except TransactWriteError as exc:
        if cancelled_by_condition(exc):
            raise DecisionConflict() from None
        raise


@mapped_faults
def decisions_of(kk: str) -> list[DecisionRecord]:
    return [
        DecisionRecord(i.decision, int(i.version), i.decided_by, i.decided_at, i.note)
        for i in CensusItem.query(household_pk(kk), CensusItem.sk.startswith(REVIEW_PREFIX), consistent_read=True)
        if isinstance(i, ReviewDecision)
    ]
