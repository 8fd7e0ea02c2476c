"""Progress figures per area: households, responded online, interviewed, clean, needs
review, still to visit. Counters per SLS: a household's creation counts in its own
transaction, every later status change from the table's stream with this module's
`status_delta` (shared/progress_stream.py, each change once); never a scan, and an area's
figures are one Query."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from shared import store
from shared.area_names import names_for
from shared.areas import LEVELS, area_code_parameter, validate_area_code
from shared.officers import Caller, require_supervisor_of
from shared.status import Status

# Statuses with a counter of their own (`submitted` is never stored: checks run at once).
_COUNTED = {s.value for s in Status} - {Status.SUBMITTED.value}


def status_delta(
    old: str,
    new: str,
    *,
    was_on_worklist: bool,
    on_worklist: bool,
    first_online: bool = False,
    was_in_review: bool = False,
    in_review: bool = False,
) -> dict[str, int]:
    """Counter changes for one household moving from `old` to `new` (and into or out of the
    worklist backlog and the review queue)."""
    delta: dict[str, int] = {}
    if was_in_review != in_review:
        delta["awaiting_review"] = 1 if in_review else -1
    if old != new:
        if old in _COUNTED:
            delta[old] = -1
        if new in _COUNTED:
            delta[new] = delta.get(new, 0) + 1
    if was_on_worklist != on_worklist:
        delta["to_visit"] = 1 if on_worklist else -1
    if first_online:
        delta["responded_online"] = 1
    return delta


def recount(households: Iterable[store.HouseholdTally]) -> dict[str, dict[str, int]]:
    """The counters per SLS as the households say they should be: the same deltas the
    writes apply (status_delta), summed from nothing."""
    counters: dict[str, dict[str, int]] = {}
    for household in households:
        row = counters.setdefault(household.sls_code, dict.fromkeys(store.PROGRESS_FIELDS, 0))
        row["households"] += 1
        delta = status_delta(
            "",
            household.status,
            was_on_worklist=False,
            on_worklist=household.on_worklist,
            first_online=household.responded_online,
            in_review=household.in_review,
        )
        for name, value in delta.items():
            row[name] += value
    return counters


def drift(stored: dict[str, dict[str, int]], recounted: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Per SLS, each counter's stored value minus its recount, where they differ."""
    result: dict[str, dict[str, int]] = {}
    for sls in sorted(set(stored) | set(recounted)):
        have, want = stored.get(sls, {}), recounted.get(sls, {})
        differences = {
            name: have.get(name, 0) - want.get(name, 0)
            for name in store.PROGRESS_FIELDS
            if have.get(name, 0) != want.get(name, 0)
        }
        if differences:
            result[sls] = differences
    return result


# Provinces and regencies are answered from their rollup (shared/rollups.py), refreshed every
# ROLLUP_EVERY_SECONDS by a schedule; districts and below live from the SLS counters. A rollup
# older than ROLLUP_STALE_SECONDS (three missed refreshes) is not shown: the answer is live.
ROLLUP_LENGTHS = (2, 4)
ROLLUP_EVERY_SECONDS = 300
ROLLUP_STALE_SECONDS = 900


def summed(counts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Every counter (PROGRESS_FIELDS) summed over `counts`."""
    totals = dict.fromkeys(store.PROGRESS_FIELDS, 0)
    for row in counts:
        for name in store.PROGRESS_FIELDS:
            totals[name] += row.get(name, 0)
    return totals


def _figures(totals: Mapping[str, int]) -> dict[str, int]:
    """Every counter (an older rollup may lack a newer one: 0)."""
    return {name: totals.get(name, 0) for name in store.PROGRESS_FIELDS}


def area_progress(area: str) -> dict[str, Any]:
    """The area's figures and each child area's (the next level down)."""
    validate_area_code(area)
    rows = store.progress_counts(area)
    child_length = next((length for length in sorted(LEVELS) if length > len(area)), None)
    children: dict[str, list[store.ProgressRecord]] = {}
    if child_length is not None and child_length <= 14:
        for row in rows:
            children.setdefault(row.sls_code[:child_length], []).append(row)
    return {
        "area_code": area,
        **summed(r.counts for r in rows),
        "children": [
            {"area_code": code, **summed(r.counts for r in group)} for code, group in sorted(children.items())
        ],
    }


def as_of_text(moment: datetime) -> str:
    """`2026-11-29T14:05:00Z`: when figures were taken."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def rolled_up_progress(area: str, now: datetime) -> dict[str, Any] | None:
    """A province's or regency's figures from its rollup, or None (another level, no rollup
    yet, or one older than ROLLUP_STALE_SECONDS)."""
    if len(area) not in ROLLUP_LENGTHS:
        return None
    rollup = store.get_rollup(area)
    if rollup is None:
        return None
    age = (now - datetime.fromisoformat(rollup.as_of.replace("Z", "+00:00"))).total_seconds()
    if age > ROLLUP_STALE_SECONDS:
        return None
    return {
        "area_code": area,
        **_figures(rollup.figures),
        "children": [{"area_code": code, **_figures(figures)} for code, figures in sorted(rollup.children.items())],
        "source": "rollup",
        "as_of": rollup.as_of,
        "refresh_seconds": ROLLUP_EVERY_SECONDS,
    }


def progress_for_supervisor(caller: Caller, area: str, *, now: datetime | None = None) -> dict[str, Any]:
    """GET /v1/areas/{area}/progress: the figures (a province or regency from its rollup while
    fresh, else live; `source` and `as_of` say which), with the names of the area, the areas
    enclosing it and its children."""
    area = area_code_parameter(area)
    require_supervisor_of(caller, area)
    now = now or datetime.now(UTC)
    answer = rolled_up_progress(area, now) or {
        **area_progress(area),
        "source": "live",
        "as_of": as_of_text(now),
        "refresh_seconds": None,
    }
    answer["area_names"] = names_for(area, (child["area_code"] for child in answer["children"]))
    return answer
