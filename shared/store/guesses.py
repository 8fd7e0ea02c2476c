"""Guessing protection: failed KK/NIK/password attempts per KK in the current window
(`LOCK#<kk>`, its own partition so that read-only functions may write only these)."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import UpdateError

from shared.store.faults import condition_failed, mapped_faults
from shared.store.schema import LOCK_SK, GuessCounter, lock_pk


@dataclass(frozen=True)
class Guesses:
    failures: int
    window_ends: int  # epoch seconds


@mapped_faults
def get_guesses(kk: str) -> Guesses | None:
    try:
        item = GuessCounter.get(lock_pk(kk), LOCK_SK, consistent_read=True)
    except GuessCounter.DoesNotExist:
        return None
    return Guesses(int(item.failures), int(item.expires_at))


@mapped_faults
def record_failed_guess(kk: str, now: int, window_seconds: int, *, below: int | None = None) -> Guesses | None:
    """Count one failure in the current window (atomic ADD), or open a new window. With
    `below`, only while the window has fewer failures than that: None when it has not, so
    a burst of parallel attempts cannot all pass a check made before any was counted."""
    counter = GuessCounter(lock_pk(kk), LOCK_SK)
    in_window = GuessCounter.expires_at > now
    if below is not None:
        in_window &= GuessCounter.failures < below
    try:
        counter.update(
            actions=[
                GuessCounter.failures.add(1),
                GuessCounter.expires_at.set(GuessCounter.expires_at | (now + window_seconds)),
                GuessCounter.kind.set(GuessCounter),
            ],
            condition=GuessCounter.pk.does_not_exist() | in_window,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        current = get_guesses(kk)
        if below is not None and current is not None and current.window_ends > now:
            return None  # the window is full
        # The previous window is over: start a new one with this failure.
        counter = GuessCounter(lock_pk(kk), LOCK_SK, failures=1, expires_at=now + window_seconds)
        counter.save()
    return Guesses(int(counter.failures), int(counter.expires_at))


@mapped_faults
def clear_failed_guesses(kk: str) -> None:
    GuessCounter(lock_pk(kk), LOCK_SK).update(actions=[GuessCounter.failures.set(0)])
