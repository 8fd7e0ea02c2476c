"""Data access for recounting the progress counters (`census recount`): one parallel,
strongly consistent Scan reads every household's META (status, SLS, whether it is on the
worklist), every first version's channel and every SLS counter; the counters are then read
again, and a fix rewrites a counter only if it has not changed since (a condition on every
field), so a recount never overwrites a submission that landed meanwhile.

(Kept out of shared/storage.py while the store is being split into shared/store/.)"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import PynamoDBException, UpdateError

from shared import storage
from shared.progress import HouseholdTally
from shared.vocabulary import Channel

_FIRST_VERSION = storage.version_sk(1)


@dataclass
class TableCount:
    """What one Scan of the table found."""

    households: list[HouseholdTally] = field(default_factory=list)
    counters: dict[str, dict[str, int]] = field(default_factory=dict)  # as stored, per SLS
    items_read: int = 0
    responded: int = 0  # households (in the area) with at least one version
    receipts: int = 0  # RECEIPT items (the whole table: a receipt names no area)


def _counter_values(row: storage.ProgressCounter) -> dict[str, int]:
    return {name: int(getattr(row, name) or 0) for name in storage.PROGRESS_FIELDS}


def count_table(
    area: str | None = None, *, segments: int = 4, progress: Callable[[int], object] | None = None
) -> TableCount:
    """Scan the table in `segments` parallel segments; `progress(n)` after every n items."""
    item = storage.CensusItem
    wanted = (
        (item.sk == storage.META_SK)
        | (item.sk == _FIRST_VERSION)
        | (item.kind == storage.ProgressCounter)
        | (item.sk == storage.RECEIPT_SK)
    )
    found = TableCount()
    online: set[str] = set()
    states: list[tuple[str, storage.HouseholdState]] = []
    lock = Lock()

    def scan(segment: int) -> None:
        mine_online: list[str] = []
        mine_states: list[tuple[str, storage.HouseholdState]] = []
        mine_counters: dict[str, dict[str, int]] = {}
        read = receipts = 0
        for found_item in item.scan(wanted, segment=segment, total_segments=segments, consistent_read=True):
            read += 1
            if isinstance(found_item, storage.HouseholdState):
                if area is None or found_item.sls_code.startswith(area):
                    mine_states.append((found_item.pk, found_item))
            elif isinstance(found_item, storage.ResponseVersion):
                if found_item.channel == Channel.ONLINE.value:
                    mine_online.append(found_item.pk)
            elif isinstance(found_item, storage.Receipt):
                receipts += 1
            elif isinstance(found_item, storage.ProgressCounter) and (area is None or found_item.sk.startswith(area)):
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

    try:
        with ThreadPoolExecutor(segments) as pool:
            list(pool.map(scan, range(segments)))
    except (PynamoDBException, BotoCoreError) as exc:
        storage._busy_or_raise(exc)
        raise
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


def stored_counters(sls_codes: Iterable[str]) -> dict[str, dict[str, int]]:
    """The counters of these SLSs now (one Query per regency)."""
    wanted = set(sls_codes)
    counters: dict[str, dict[str, int]] = {}
    try:
        for regency in sorted({sls[:4] for sls in wanted}):
            for row in storage.progress_rows(regency):
                if row.sk in wanted:
                    counters[row.sk] = _counter_values(row)
    except (PynamoDBException, BotoCoreError) as exc:
        storage._busy_or_raise(exc)
        raise
    return counters


def overwrite_counters(sls_code: str, expected: dict[str, int] | None, values: dict[str, int]) -> bool:
    """Set an SLS's counters to `values` if they are still `expected` (None: no counter item
    yet); False when they have changed since they were read."""
    counter = storage.ProgressCounter(*storage.progress_key(sls_code))
    model = storage.ProgressCounter
    condition: Any
    if expected is None:
        condition = model.pk.does_not_exist()
    else:
        condition = None
        for name in storage.PROGRESS_FIELDS:
            attribute = getattr(model, name)
            same = attribute == expected.get(name, 0)
            if not expected.get(name, 0):
                same = attribute.does_not_exist() | same
            condition = same if condition is None else condition & same
    actions = [getattr(model, name).set(values.get(name, 0)) for name in storage.PROGRESS_FIELDS]
    try:
        counter.update(actions=[*actions, model.kind.set(model)], condition=condition)
    except UpdateError as exc:
        if storage._condition_failed(exc):
            return False
        storage._busy_or_raise(exc)
        raise
    except (PynamoDBException, BotoCoreError) as exc:
        storage._busy_or_raise(exc)
        raise
    return True
