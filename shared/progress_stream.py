"""The SLS progress counters and the receipts, moved from the table's stream
(docs/decisions/0019): a status-changing write changes only the household's META; the
consumer (functions/progress_stream) reads each MODIFY of a META item, old and new image,
and counts it with the same `status_delta` the writes used to apply in their transaction,
and refreshes the household's receipt when a field it shows changed.

Creations are not counted here: the register import, field enrolment and the reports'
gauge write their counters in their own transactions (a META INSERT carries no "before").
A receipt is created by the first submission's transaction (status by receipt works the
moment the answer arrives); only its later changes come from here, seconds behind."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from shared import store
from shared.progress import status_delta
from shared.vocabulary import Channel

# Lambda discards records older than this (template.yaml MaximumRecordAgeInSeconds); a
# checkpoint older than it, plus a margin for clocks, can never be needed again.
MAXIMUM_RECORD_AGE_SECONDS = 3600
CHECKPOINT_MARGIN_SECONDS = 600


def change_delta(old: store.HouseholdImage, new: store.HouseholdImage) -> dict[str, int]:
    """The counter deltas of one META change: what the write's own transaction added before."""
    return {
        name: value
        for name, value in status_delta(
            old.status,
            new.status,
            was_on_worklist=old.on_worklist,
            on_worklist=new.on_worklist,
            first_online=old.version == 0 and new.version > 0 and new.channel == Channel.ONLINE.value,
            was_in_review=old.in_review,
            in_review=new.in_review,
        ).items()
        if value
    }


def receipt_moves(old: store.HouseholdImage, new: store.HouseholdImage) -> bool:
    """Whether the receipt must be refreshed: a field it shows changed, and the receipt
    existed before this change (the first submission's transaction writes it whole)."""
    existed = old.receipt_code is not None and new.receipt_code is not None
    return existed and old.receipt_fields() != new.receipt_fields()


def apply_stream_records(records: Iterable[Mapping[str, Any]], *, now_epoch: int | None = None) -> dict[str, int]:
    """Count one batch of stream records (any order, any number of times: each record moves
    the counters once) and refresh the receipts they change; raises on a store fault, for
    the batch to be retried (and bisected)."""
    now_epoch = int(time.time()) if now_epoch is None else now_epoch
    by_sls: dict[str, list[store.CountedChange]] = {}
    receipts: dict[str, store.StreamRecordView] = {}
    seen = 0
    for record in records:
        change = store.household_modification(record)
        if change is None:
            continue
        seen += 1
        delta = change_delta(change.old, change.new)
        if delta:
            by_sls.setdefault(change.new.sls_code, []).append(
                store.CountedChange(change.new.kk, change.sequence, change.created_epoch, delta)
            )
        if receipt_moves(change.old, change.new):
            latest = receipts.get(change.new.kk)
            if latest is None or change.sequence > latest.sequence:
                receipts[change.new.kk] = change
    summary = {"records": seen, "counted": 0, "skipped": 0, "counter_writes": 0, "receipts": 0, "receipts_kept": 0}
    prune_before = now_epoch - MAXIMUM_RECORD_AGE_SECONDS - CHECKPOINT_MARGIN_SECONDS
    for sls_code, changes in sorted(by_sls.items()):
        result = store.count_changes(sls_code, changes, prune_before_epoch=prune_before)
        summary["counted"] += result.counted
        summary["skipped"] += result.skipped
        summary["counter_writes"] += result.writes
    for kk in sorted(receipts):
        latest = receipts[kk]
        if store.refresh_receipt(latest.new, latest.sequence):
            summary["receipts"] += 1
        else:
            summary["receipts_kept"] += 1
    return summary
