"""Bulk writes of the register import: households, registers, their SLS counters (once
per import batch), and the checkpoint an interrupted import resumes from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pynamodb.exceptions import UpdateError

from shared.store.faults import condition_failed, mapped_faults
from shared.store.progress import progress_actions, progress_item
from shared.store.schema import (
    META_SK,
    AreaMarker,
    HouseholdRegister,
    HouseholdState,
    ImportCheckpoint,
    ProgressCounter,
    household_pk,
    import_key,
    kk_of,
    regency_marker_key,
)


@mapped_faults
def get_checkpoint(import_id: str) -> ImportCheckpoint | None:
    try:
        return ImportCheckpoint.get(*import_key(import_id), consistent_read=True)
    except ImportCheckpoint.DoesNotExist:
        return None


@mapped_faults
def save_checkpoint(import_id: str, next_line: int, households: int, done: bool) -> None:
    ImportCheckpoint(*import_key(import_id), next_line=next_line, households=households, done=done).save()


@mapped_faults
def households_present(kks: Iterable[str]) -> dict[str, str | None]:
    """For each KK whose META exists: the import batch that created it (BatchGetItem)."""
    keys = [(household_pk(kk), META_SK) for kk in kks]
    found = HouseholdState.batch_get(keys, attributes_to_get=["pk", "import_batch"])
    return {kk_of(item.pk): item.import_batch for item in found}


@mapped_faults
def create_households(states: Sequence[HouseholdState], batch_id: str) -> None:
    """New households' META (BatchWriteItem) and their SLS counters, crash-safe without
    transactions: every META carries `import_batch`, and each SLS counter records the
    batches it has counted, adding a batch's households only once. A rerun of a batch
    (after a crash) counts the households that batch created, never twice; additions
    commute with the submissions' own counter changes, so racing them is harmless."""
    with HouseholdState.batch_write() as batch:
        for state in states:
            batch.save(state)
    markers = {regency_marker_key(s.sls_code) for s in states}
    with AreaMarker.batch_write() as batch:
        for pk, sk in sorted(markers):
            batch.save(AreaMarker(pk, sk))


@mapped_faults
def count_new_households(counts: dict[str, int], batch_id: str) -> None:
    """Add `counts[sls]` new pending households to each SLS, once per import batch."""
    for sls, n in sorted(counts.items()):
        actions = [
            *progress_actions({"households": n, "pending": n, "to_visit": n}),
            ProgressCounter.imports.add({batch_id}),
        ]
        try:
            progress_item(sls).update(
                actions=actions,
                condition=ProgressCounter.imports.does_not_exist() | ~ProgressCounter.imports.contains(batch_id),
            )
        except UpdateError as exc:
            if not condition_failed(exc):
                raise


@mapped_faults
def write_registers(registers: Sequence[HouseholdRegister]) -> None:
    with HouseholdRegister.batch_write() as batch:
        for item in registers:
            batch.save(item)
