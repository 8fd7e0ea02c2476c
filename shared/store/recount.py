"""Recounting the progress counters (`census recount`): one parallel,
strongly consistent Scan reads every household's META (status, SLS, whether it is on the
worklist), every first version's channel and every SLS counter; the counters are then read
again, and a fix rewrites a counter only if it has not changed since (a condition on every
field), so a recount never overwrites a submission that landed meanwhile.

"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from threading import Lock
from typing import Any

from pynamodb.exceptions import UpdateError

from shared.store.faults import condition_failed, mapped_faults
from shared.store.progress import progress_counts
from shared.store.records import HouseholdTally, TableCount
from shared.store.schema import (
    META_SK,
    PROGRESS_FIELDS,
    RECEIPT_SK,
    CensusItem,
    HouseholdState,
    ProgressCounter,
    Receipt,
    ResponseVersion,
    progress_key,
    version_sk,
)
from shared.vocabulary import Channel

_FIRST_VERSION = version_sk(1)


def _counter_values(row: ProgressCounter) -> dict[str, int]:
    return {name: int(getattr(row, name) or 0) for name in PROGRESS_FIELDS}


@mapped_faults
def count_table(
    area: str | None = None, *, segments: int = 4, progress: Callable[[int], object] | None = None
) -> TableCount:
    """Scan the table in `segments` parallel segments; `progress(n)` after every n items."""
    item = CensusItem
    wanted = (
        (item.sk == META_SK) | (item.sk == _FIRST_VERSION) | (item.kind == ProgressCounter) | (item.sk == RECEIPT_SK)
    )
    found = TableCount()
    online: set[str] = set()
    states: list[tuple[str, HouseholdState]] = []
    lock = Lock()

    def scan(segment: int) -> None:
        mine_online: list[str] = []
        mine_states: list[tuple[str, HouseholdState]] = []
        mine_counters: dict[str, dict[str, int]] = {}
        read = receipts = 0
        for found_item in item.scan(wanted, segment=segment, total_segments=segments, consistent_read=True):
            read += 1
            if isinstance(found_item, HouseholdState):
                if area is None or found_item.sls_code.startswith(area):
                    mine_states.append((found_item.pk, found_item))
            elif isinstance(found_item, ResponseVersion):
                if found_item.channel == Channel.ONLINE.value:
                    mine_online.append(found_item.pk)
            elif isinstance(found_item, Receipt):
                receipts += 1
            elif isinstance(found_item, ProgressCounter) and (area is None or found_item.sk.startswith(area)):
                mine_counters[found_item.sk] = _counter_values(found_item)
            if progress is not None and read % 500 == 0:
                progress(500)
        if progress is not None:
            progress(read % 500)
        with lock:
            online.update(mine_online)
            states.extend(mine_states)
            found.counters.update(mine_counters)
            found.items_read += read
            found.receipts += receipts

    with ThreadPoolExecutor(segments) as pool:
        list(pool.map(scan, range(segments)))
    found.responded = sum(1 for _, state in states if int(state.version or 0) > 0)
    found.households = [
        HouseholdTally(
            sls_code=state.sls_code,
            status=state.status,
            on_worklist=state.visit_area is not None,
            responded_online=pk in online,
        )
        for pk, state in states
    ]
    return found


@mapped_faults
def stored_counters(sls_codes: Iterable[str]) -> dict[str, dict[str, int]]:
    """The counters of these SLSs now (one Query per regency)."""
    wanted = set(sls_codes)
    return {
        row.sls_code: row.counts
        for regency in sorted({sls[:4] for sls in wanted})
        for row in progress_counts(regency)
        if row.sls_code in wanted
    }


@mapped_faults
def overwrite_counters(sls_code: str, expected: dict[str, int] | None, values: dict[str, int]) -> bool:
    """Set an SLS's counters to `values` if they are still `expected` (None: no counter item
    yet); False when they have changed since they were read."""
    counter = ProgressCounter(*progress_key(sls_code))
    model = ProgressCounter
    condition: Any
    if expected is None:
        condition = model.pk.does_not_exist()
    else:
        condition = None
        for name in PROGRESS_FIELDS:
            attribute = getattr(model, name)
            same = attribute == expected.get(name, 0)
            if not expected.get(name, 0):
                same = attribute.does_not_exist() | same
            condition = same if condition is None else condition & same
    actions = [getattr(model, name).set(values.get(name, 0)) for name in PROGRESS_FIELDS]
    try:
        counter.update(actions=[*actions, model.kind.set(model)], condition=condition)
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True
