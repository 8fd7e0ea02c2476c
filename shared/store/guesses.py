"""Guessing protection: failed KK/NIK/password attempts per KK in the current window
(`LOCK#<kk>`, its own partition so that read-only functions may write only these)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.store.faults import mapped_faults
from shared.store.schema import LOCK_SK, GuessCounter, lock_pk
from shared.store.windows import count_in_window


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
    """Count one failure in the current window (atomic ADD), or open the next window. With
    `below`, only while the window has fewer failures than that: None when it has not, so a
    burst of parallel attempts cannot all pass a check made before any was counted - also
    at the moment a window ends (shared/store/windows.py)."""
    counted = count_in_window(GuessCounter(lock_pk(kk), LOCK_SK), "failures", now, window_seconds, below)
    return None if counted is None else Guesses(counted.count, counted.window_ends)


@mapped_faults
def clear_failed_guesses(kk: str) -> None:
    GuessCounter(lock_pk(kk), LOCK_SK).update(actions=[GuessCounter.failures.set(0)])
