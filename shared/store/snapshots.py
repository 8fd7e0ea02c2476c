"""Daily progress snapshots: each area's figures at the end of a day (`SNAP#<area>`, sk the
day), so the response rate over the online phase is one Query of ~60 small items for any
area. Written once a day by a schedule (and `census snapshot` locally) from the per-SLS
counters: one write per area per day (about 90,000 areas nationally, ~$0.12 a day on
demand), instead of a per-day counter in every submission's transaction (a second counter
update in the hot path: +2 write units on each of 70 million submissions)."""

from __future__ import annotations

from shared.store.faults import mapped_faults
from shared.store.schema import ProgressSnapshot, snapshot_pk

FIGURES = (
    "households",
    "responded_online",
    "clean",
    "needs_review",
    "interviewed",
    "pending",
    "to_visit",
    "awaiting_review",
)


@mapped_faults
def save_snapshots(day: str, figures: dict[str, dict[str, int]], taken_at: str) -> int:
    """One item per area for `day` (rewritten if taken again the same day)."""
    with ProgressSnapshot.batch_write() as batch:
        for area, values in sorted(figures.items()):
            batch.save(
                ProgressSnapshot(
                    snapshot_pk(area),
                    day,
                    taken_at=taken_at,
                    **{k: int(values.get(k, 0)) for k in FIGURES},  # type: ignore[arg-type]
                )
            )
    return len(figures)


@mapped_faults
def history(area: str, limit: int = 400) -> list[tuple[str, dict[str, int]]]:
    """(day, figures) oldest first."""
    items = ProgressSnapshot.query(snapshot_pk(area), limit=limit)
    return [(i.sk, {k: int(getattr(i, k) or 0) for k in FIGURES}) for i in items if isinstance(i, ProgressSnapshot)]
