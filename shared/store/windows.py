"""Counters per fixed window (an item with a count and `expires_at`, epoch seconds, the table's
TTL attribute): the guessing lockout (`LOCK#<kk>`) and the reports' rate limits (`RATE#...`).
One request is counted atomically in the current window, or starts the next window when the
last one is over - conditionally, so that a burst of parallel requests at the rollover never
gets more than the limit through (each loser counts in the window the winner started)."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import PutError, UpdateError

from shared.store.faults import condition_failed, mapped_faults
from shared.store.schema import GuessCounter, RateCounter

ROUNDS = 3  # conflicts in a row before a request is counted as over the limit


@dataclass(frozen=True)
class Counted:
    count: int  # in the window, this request included
    window_ends: int  # epoch seconds


@mapped_faults
def count_in_window(
    item: GuessCounter | RateCounter, field: str, now: int, window_seconds: int, limit: int | None = None
) -> Counted | None:
    """Count one in `item`'s current window (`field` is its count): the window after counting,
    or None when `limit` is reached (nothing counted) or the counter stayed contended for
    ROUNDS rounds."""
    model = type(item)
    count, expires_at = getattr(model, field), model.expires_at
    in_window = expires_at > now
    if limit is not None:
        in_window &= count < limit
    for _ in range(ROUNDS):
        try:
            item.update(
                actions=[count.add(1), expires_at.set(expires_at | (now + window_seconds)), model.kind.set(model)],
                condition=model.pk.does_not_exist() | in_window,
            )
            return Counted(int(getattr(item, field)), int(item.expires_at))
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
        try:
            current = model.get(item.pk, item.sk, consistent_read=True)
            if int(current.expires_at) > now:
                if limit is not None and int(getattr(current, field) or 0) >= limit:
                    return None  # the window is full
                # Restarted by another request since this one's update found the last window
                # over (not full: refusing here lost attempts at the rollover): count in it.
                continue
        except model.DoesNotExist:
            continue  # gone since (TTL): the increment creates it
        # The previous window is over: start the next one with this request, only while it
        # is still over - in a burst at the rollover one request restarts it, the rest count
        # in the new window after it.
        try:
            fresh = model(item.pk, item.sk, expires_at=now + window_seconds)
            setattr(fresh, field, 1)
            fresh.save(condition=model.pk.does_not_exist() | (expires_at <= now))
            return Counted(1, now + window_seconds)
        except PutError as exc:
            if not condition_failed(exc):
                raise
    return None
