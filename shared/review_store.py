"""The review queue's data: the sparse `review_queue` index (households awaiting a
supervisor's review, by regency, oldest flag first) and the decision transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared import storage
from shared.storage import (
    META_SK,
    RECEIPT_SK,
    Assignment,
    CensusItem,
    HouseholdState,
    Receipt,
    ReviewDecision,
    household_pk,
    receipt_pk,
)


def review_queue_keys(sls_code: str, kk: str, flagged_at: str) -> tuple[str, str]:
    """Partitioned by regency, sorted by flag time: a city's queue is one Query, oldest first.
    (A regency's flags arrive at a few a second at the national peak; an index partition
    takes 1,000 writes a second.)"""
    return sls_code[:4], f"{flagged_at}#{kk}"


@dataclass(frozen=True)
class QueueEntry:
    kk: str
    sls_code: str
    flagged_at: str
    version: int
    status: str
    reasons: tuple[str, ...]


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
    try:
        pages = HouseholdState.review_queue.query(
            regency, filter_condition=condition, limit=limit, last_evaluated_key=start, page_size=max(limit, 100)
        )
        entries = [
            QueueEntry(
                kk=item.pk.removeprefix("HH#"),
                sls_code=item.sls_code,
                flagged_at=str(item.review_order).split("#", 1)[0],
                version=int(item.version),
                status=item.status,
                reasons=tuple(str(r) for r in item.review_reasons or ()),
            )
            for item in pages
        ]
        return entries, pages.last_evaluated_key
    except (PynamoDBException, BotoCoreError) as exc:
        storage._busy_or_raise(exc)
        raise


@dataclass(frozen=True)
class ReviewChange:
    """A supervisor's decision, written in one transaction conditional on the version read."""

    kk: str
    sls_code: str
    expected_version: int
    new_status: str  # clean (accepted) or needs_review (sent to the field)
    leave_worklist: bool  # accepted: no visit needed any more
    receipt_code: str | None
    progress: dict[str, int]
    decision: ReviewDecision
    audit: tuple[CensusItem, ...]
    assignment: Assignment | None = None  # sent to the field without one: put on a worklist


class DecisionConflict(Exception):
    """The household is no longer the version that was reviewed, or no longer awaits review."""


def save_decision(change: ReviewChange) -> None:
    meta_actions: list[Action] = [
        HouseholdState.status.set(change.new_status),
        *storage.review_queue_actions(None, ()),
    ]
    if change.leave_worklist:
        meta_actions += [HouseholdState.visit_area.remove(), HouseholdState.visit_order.remove()]
    progress = storage._progress_actions(change.progress)
    try:
        with TransactWrite(connection=storage._transaction_connection()) as tx:
            tx.save(change.decision, condition=ReviewDecision.pk.does_not_exist())
            for audit in change.audit:
                tx.save(audit, condition=CensusItem.pk.does_not_exist())
            if change.assignment is not None:
                tx.save(change.assignment, condition=Assignment.pk.does_not_exist())
            tx.update(
                HouseholdState(household_pk(change.kk), META_SK),
                actions=meta_actions,
                condition=(HouseholdState.version == change.expected_version)
                & (HouseholdState.status == "needs_review")
                & HouseholdState.review_area.exists(),
            )
            if change.receipt_code and change.new_status != "needs_review":
                tx.update(
                    Receipt(receipt_pk(change.receipt_code), RECEIPT_SK),
                    actions=[Receipt.status.set(change.new_status)],
                )
            if progress:
                tx.update(storage._progress_item(change.sls_code), actions=progress)
    except TransactWriteError as exc:
        if any(
            r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict")
            for r in exc.cancellation_reasons
        ):
            raise DecisionConflict() from None
        storage._busy_or_raise(exc)
    except BotoCoreError as exc:
        storage._busy_or_raise(exc)


def decisions_of(kk: str) -> list[ReviewDecision]:
    return [
        i
        for i in CensusItem.query(household_pk(kk), CensusItem.sk.startswith("REVIEW#"), consistent_read=True)
        if isinstance(i, ReviewDecision)
    ]


def covering_officer(sls_code: str, assignments: Sequence[Assignment], officers: Sequence[str]) -> str | None:
    """Who should visit a household of `sls_code` sent to the field without an assignment: the
    officer holding most of that SLS's assignments, else the first officer covering it."""
    counts: dict[str, int] = {}
    for a in assignments:
        if a.sls_code == sls_code:
            counts[a.officer_id] = counts.get(a.officer_id, 0) + 1
    if counts:
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return sorted(officers)[0] if officers else None
