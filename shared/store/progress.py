"""Progress counters per SLS, in their regency's partition, and the markers that say
which regencies of a province have any."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.expressions.update import Action

from shared.store.faults import mapped_faults
from shared.store.records import ProgressRecord
from shared.store.schema import PROGRESS_FIELDS, AreaMarker, ProgressCounter, progress_key, progress_pk


def progress_item(sls_code: str) -> ProgressCounter:
    return ProgressCounter(*progress_key(sls_code))


def progress_actions(delta: dict[str, int]) -> list[Action]:
    """ADDs for the non-zero deltas, and the item type: the first ADD creates the item."""
    adds: list[Action] = [getattr(ProgressCounter, name).add(value) for name, value in sorted(delta.items()) if value]
    return [*adds, ProgressCounter.kind.set(ProgressCounter)] if adds else []


@mapped_faults
def regencies_with_households(provinces: Iterable[str]) -> list[str]:
    """Regencies the register import has put households in (the province's markers)."""
    return sorted({m.sk for province in provinces for m in AreaMarker.query(progress_pk(province))})


@mapped_faults
def progress_rows(area: str) -> list[ProgressCounter]:
    """Every SLS counter within `area` (province: via its regency markers), as stored."""
    if len(area) == 2:
        return [row for regency in regencies_with_households([area]) for row in progress_rows(regency)]
    rows = ProgressCounter.query(progress_pk(area[:4]), ProgressCounter.sk.startswith(area))
    return [r for r in rows if isinstance(r, ProgressCounter)]


@mapped_faults
def progress_counts(area: str) -> list[ProgressRecord]:
    """Every SLS's counters within `area`."""
    return [
        ProgressRecord(row.sk, {name: int(getattr(row, name) or 0) for name in PROGRESS_FIELDS})
        for row in progress_rows(area)
    ]
