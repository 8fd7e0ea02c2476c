"""Rolled-up progress figures of the large areas (regencies and provinces): one item per area
(`ROLLUP#<area>`) holding its own figures and each child area's, summed from the per-SLS
counters by a schedule every few minutes (shared/rollups.py). Opening a regency of 10,000 SLS
is then one GetItem instead of a Query of 10,000 counters; nothing is added to the
submission's transaction (docs/decisions/0015-progress-rollups-of-large-areas.md)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pynamodb.exceptions import PutError

from shared.store.faults import condition_failed, mapped_faults
from shared.store.records import RollupRecord
from shared.store.schema import ProgressRollup, rollup_key


@mapped_faults
def save_rollups(rollups: Sequence[RollupRecord]) -> int:
    """Put each area's item unless the table already holds one as of the same time or later
    (a slower, older refresh, a retried invocation or `census rollup` beside the schedule
    landing last must not put back older figures): one conditional PutItem per area. A
    refused put is skipped, not an error. Returns how many were skipped."""
    skipped = 0
    for rollup in rollups:
        item = ProgressRollup(
            *rollup_key(rollup.area_code),
            as_of=rollup.as_of,
            sls=rollup.sls,
            figures=json.dumps(rollup.figures, sort_keys=True, separators=(",", ":")),
            children=json.dumps(rollup.children, sort_keys=True, separators=(",", ":")),
        )
        try:
            item.save(condition=ProgressRollup.as_of.does_not_exist() | (ProgressRollup.as_of < rollup.as_of))
        except PutError as exc:
            if not condition_failed(exc):
                raise
            skipped += 1
    return skipped


@mapped_faults
def get_rollup(area: str) -> RollupRecord | None:
    """The area's last rollup, or None if no refresh has written one."""
    try:
        item = ProgressRollup.get(*rollup_key(area))
    except ProgressRollup.DoesNotExist:
        return None
    return RollupRecord(area, item.as_of, int(item.sls), json.loads(item.figures), json.loads(item.children))
