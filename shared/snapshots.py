"""The response rate over the days of the online phase: daily snapshots of every area's
figures (regency, district, village, SLS), taken from the per-SLS counters, and an area's
history with today's figures as its last point: for a regency or province from its rollup
while fresh, as GET /progress answers (one GetItem, not a Query of every SLS counter), else
live."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared import store
from shared.areas import area_code_parameter
from shared.errors import FieldProblem, ValidationFailed
from shared.intake import iso_utc
from shared.nik import PROVINCE_CODES
from shared.officers import Caller, require_supervisor_of
from shared.progress import area_progress, as_of_text, rolled_up_progress

_LEVELS = (4, 7, 10, 14)


def aggregate(rows: list[store.ProgressRecord]) -> dict[str, dict[str, int]]:
    """Figures for every regency, district, village and SLS that has counters."""
    figures: dict[str, dict[str, int]] = {}
    for row in rows:
        for length in _LEVELS:
            target = figures.setdefault(row.sls_code[:length], dict.fromkeys(store.SNAPSHOT_FIGURES, 0))
            for name in store.SNAPSHOT_FIGURES:
                target[name] += row.counts.get(name, 0)
    return figures


def take_snapshots(day: str | None = None, *, now: datetime | None = None) -> dict[str, Any]:
    """Snapshot every area with households, regency by regency (one Query each)."""
    now = now or datetime.now(UTC)
    day = day or now.date().isoformat()
    areas = 0
    for regency in store.regencies_with_households(PROVINCE_CODES):
        areas += store.save_snapshots(day, aggregate(store.progress_counts(regency)), iso_utc(now))
    return {"day": day, "areas": areas}


def progress_history(caller: Caller, area: str, *, now: datetime | None = None) -> dict[str, Any]:
    area = area_code_parameter(area)
    if len(area) < 4:
        raise ValidationFailed([FieldProblem("area_too_large", "Open a regency or anything inside it.", "area_code")])
    require_supervisor_of(caller, area)
    now = now or datetime.now(UTC)
    today = now.date().isoformat()
    days = [{"day": day, **values, "source": "snapshot"} for day, values in store.snapshot_history(area) if day < today]
    # Today's point is the figures GET /progress answers (the page loads both at once).
    current = rolled_up_progress(area, now) or {**area_progress(area), "source": "live", "as_of": as_of_text(now)}
    days.append(
        {
            "day": today,
            **{k: current.get(k, 0) for k in store.SNAPSHOT_FIGURES},
            "source": current["source"],
            "as_of": current["as_of"],
        }
    )
    return {"area_code": area, "days": days}
