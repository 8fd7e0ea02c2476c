"""Register import: CSV -> one REGISTER and one META item per household, in batch writes.

Idempotent: REGISTER items are rewritten with the same content, META (the household's
status) is created only where it does not exist yet, together with its SLS's progress
counters in one transaction, so a re-import never resets a household that has already
responded nor counts one twice. Resumable: after every batch a checkpoint item
keyed by the file's SHA-256 records the next line, and a rerun starts there.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from census_ops.register import RegisterError, RegisterHousehold, read_register
from census_ops.roster import RosterError, read_roster
from shared import store
from shared.status import Status

BATCH_HOUSEHOLDS = 100  # one BatchGetItem (100 keys) and eight BatchWriteItems (25 items) a batch
WORKERS = 4


@dataclass
class ImportReport:
    households_written: int = 0
    households_skipped: int = 0  # already imported by an earlier, interrupted run
    errors: list[RegisterError] = field(default_factory=list)
    resumed_from_line: int = 0
    already_complete: bool = False


def file_id(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_progress(path: Path) -> str | None:
    """Where an import of this very file stands: "done", "partial" (stopped after its first
    households), or None (never started)."""
    checkpoint = store.get_checkpoint(file_id(path))
    if checkpoint is None:
        return None
    return "done" if checkpoint.done else "partial"


def household_items(
    household: RegisterHousehold, batch_id: str
) -> tuple[store.HouseholdRegister, store.HouseholdState]:
    pk = store.household_pk(household.kk)
    register = store.HouseholdRegister(
        pk,
        store.REGISTER_SK,
        address=household.address,
        sls_code=household.sls_code,
        head_nik=household.head_nik,
        members=[
            store.RegisterMember(
                nik=m.nik,
                name=m.name,
                sex=m.sex,
                birth_date=m.birth_date.isoformat(),
                relationship=m.relationship,
            )
            for m in household.members
        ],
    )
    visit_area, visit_order = store.visit_keys(household.sls_code, household.kk)
    state = store.HouseholdState(
        pk,
        store.META_SK,
        status=Status.PENDING.value,
        version=0,
        sls_code=household.sls_code,
        visit_area=visit_area,
        visit_order=visit_order,
        visit_attempts=0,
        address=household.address,
        head_name=next(m.name for m in household.members if m.nik == household.head_nik),
        import_batch=batch_id,
    )
    return register, state


def _write(batch: list[RegisterHousehold], batch_id: str, fresh_table: bool) -> None:
    # In a table this run created, nothing exists yet: skip the BatchGetItem.
    present = {} if fresh_table else store.households_present(h.kk for h in batch)
    pairs = [household_items(h, batch_id) for h in batch]
    store.write_registers([register for register, _ in pairs])
    store.create_households(
        [state for (_, state), h in zip(pairs, batch, strict=True) if h.kk not in present], batch_id
    )
    # Households this batch created - now, or in a run that crashed before counting them.
    counts: dict[str, int] = {}
    for household in batch:
        if present.get(household.kk, batch_id) == batch_id:
            counts[household.sls_code] = counts.get(household.sls_code, 0) + 1
    store.count_new_households(counts, batch_id)


def import_register(
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
    restart: bool = False,
    workers: int = WORKERS,
    fresh_table: bool = False,
) -> ImportReport:
    """Import `path`; `progress(lines)` is called with the number of file lines done so far.

    Batches are written by `workers` threads, but the checkpoint only ever advances past
    a line once every batch before it is stored, so a resumed import misses nothing.
    """
    import_id = file_id(path)
    checkpoint = None if restart else store.get_checkpoint(import_id)
    report = ImportReport()
    if checkpoint is not None and checkpoint.done:
        report.already_complete = True
        report.households_skipped = int(checkpoint.households)
        return report
    start_line = int(checkpoint.next_line) if checkpoint else 0
    report.resumed_from_line = start_line
    written_before = int(checkpoint.households) if checkpoint else 0
    in_flight: deque[tuple[Future[None], int, int]] = deque()  # (write, households, last line)

    def settle(block: bool) -> None:
        """Record finished batches, oldest first; wait for the oldest when `block`."""
        while in_flight and (block or in_flight[0][0].done()):
            future, count, last = in_flight.popleft()
            future.result()  # re-raises a failed write: the checkpoint stays before it
            report.households_written += count
            store.save_checkpoint(import_id, last + 1, written_before + report.households_written, done=False)
            if progress:
                progress(last)
            block = False if len(in_flight) < 2 * workers else block

    batch: list[RegisterHousehold] = []
    last_line = start_line
    with ThreadPoolExecutor(max_workers=workers) as pool, path.open(newline="", encoding="utf-8") as stream:
        try:
            for item in read_register(stream):
                if isinstance(item, list):
                    report.errors.extend(item)
                    continue
                if item.last_line < start_line:
                    report.households_skipped += 1
                    continue
                batch.append(item)
                last_line = item.last_line
                if len(batch) >= BATCH_HOUSEHOLDS:
                    batch_id = f"{import_id[:16]}:{batch[0].first_line}"
                    in_flight.append((pool.submit(_write, batch, batch_id, fresh_table), len(batch), last_line))
                    batch = []
                    # The file's first households land alone, before any other batch competes
                    # with them: `census serve` answers for them (its printed example) at once.
                    first = report.households_written == 0 and len(in_flight) == 1
                    settle(block=first or len(in_flight) >= 2 * workers)
            if batch:
                batch_id = f"{import_id[:16]}:{batch[0].first_line}"
                in_flight.append((pool.submit(_write, batch, batch_id, fresh_table), len(batch), last_line))
            while in_flight:
                settle(block=True)
        finally:
            for future, _, _ in in_flight:
                future.cancel()
    store.save_checkpoint(import_id, last_line + 1, written_before + report.households_written, done=True)
    return report


# ---------------------------------------------------------------- officer roster


@dataclass
class RosterReport:
    officers_written: int = 0
    errors: list[RosterError] = field(default_factory=list)


def import_roster(path: Path, *, progress: Callable[[int], None] | None = None) -> RosterReport:
    """Officers from CSV: idempotent (profiles and roster entries are overwritten with the
    same content; entries for areas an officer no longer covers are removed)."""
    report = RosterReport()
    batch: list[store.OfficerProfile] = []

    def flush() -> None:
        store.save_officers(batch)
        report.officers_written += len(batch)
        batch.clear()
        if progress:
            progress(report.officers_written)

    with path.open(newline="", encoding="utf-8") as stream:
        for item in read_roster(stream):
            if isinstance(item, RosterError):
                report.errors.append(item)
                continue
            batch.append(
                store.OfficerProfile(
                    store.officer_pk(item.officer_id),
                    "PROFILE",
                    name=item.name,
                    role=item.role,
                    areas=list(item.areas),
                )
            )
            if len(batch) >= 100:
                flush()
    flush()
    return report
