"""Progress figures per area: households, responded online, interviewed, clean, needs
review, still to visit. Counters per SLS change in the same transaction as the status
they count, so they are never a scan and never drift; an area's figures are one Query."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared import store
from shared.areas import LEVELS, validate_area_code
from shared.status import Status

# Statuses with a counter of their own (`submitted` is never stored: checks run at once).
_COUNTED = {s.value for s in Status} - {Status.SUBMITTED.value}


def status_delta(
    old: str, new: str, *, was_on_worklist: bool, on_worklist: bool, first_online: bool = False
) -> dict[str, int]:
    """Counter changes for one household moving from `old` to `new`."""
    delta: dict[str, int] = {}
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


def _figures(rows: list[store.ProgressRecord]) -> dict[str, int]:
    totals = dict.fromkeys(store.PROGRESS_FIELDS, 0)
    for row in rows:
        for name in store.PROGRESS_FIELDS:
            totals[name] += row.counts[name]
    return {
        "households": totals["households"],
        "responded_online": totals["responded_online"],
        "interviewed": totals["interviewed"],
        "clean": totals["clean"],
        "needs_review": totals["needs_review"],
        "pending": totals["pending"],
        "not_home": totals["not_home"],
        "refused": totals["refused"],
        "moved": totals["moved"],
        "to_visit": totals["to_visit"],
    }


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
        **_figures(rows),
        "children": [{"area_code": code, **_figures(group)} for code, group in sorted(children.items())],
    }
