"""Register import: CSV -> one REGISTER and one META item per household, in batch writes.

Idempotent: REGISTER items are rewritten with the same content, META (the household's
status) is created only where it does not exist yet, so a re-import never resets a
household that has already responded. Resumable: after every batch a checkpoint item
keyed by the file's SHA-256 records the next line, and a rerun starts there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shared import storage
from shared.register import RegisterError, RegisterHousehold, read_register
from shared.status import Status

BATCH_HOUSEHOLDS = 100  # one BatchGetItem (100 keys) and eight BatchWriteItems (25 items) a batch


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


def _items(household: RegisterHousehold) -> tuple[storage.HouseholdRegister, storage.HouseholdState]:
    pk = storage.household_pk(household.kk)
    register = storage.HouseholdRegister(
        pk,
        storage.REGISTER_SK,
        address=household.address,
        sls_code=household.sls_code,
        head_nik=household.head_nik,
        members=[
            storage.RegisterMember(
                nik=m.nik,
                name=m.name,
                sex=m.sex,
                birth_date=m.birth_date.isoformat(),
                relationship=m.relationship,
            )
            for m in household.members
        ],
    )
    visit_area, visit_order = storage.visit_keys(household.sls_code, household.kk)
    state = storage.HouseholdState(
        pk,
        storage.META_SK,
        status=Status.PENDING.value,
        version=0,
        sls_code=household.sls_code,
        visit_area=visit_area,
        visit_order=visit_order,
        visit_attempts=0,
    )
    return register, state


def import_register(
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
    restart: bool = False,
) -> ImportReport:
    """Import `path`; `progress(lines)` is called with the number of file lines done so far."""
    import_id = file_id(path)
    checkpoint = None if restart else storage.get_checkpoint(import_id)
    report = ImportReport()
    if checkpoint is not None and checkpoint.done:
        report.already_complete = True
        report.households_skipped = int(checkpoint.households)
        return report
    start_line = int(checkpoint.next_line) if checkpoint else 0
    report.resumed_from_line = start_line
    written_before = int(checkpoint.households) if checkpoint else 0

    pending: list[RegisterHousehold] = []
    last_line = 0

    def flush() -> None:
        if pending:
            existing = storage.existing_household_keys(h.kk for h in pending)
            pairs = [_items(h) for h in pending]
            storage.write_register_batch(
                [register for register, _ in pairs],
                [state for (_, state), h in zip(pairs, pending, strict=True) if h.kk not in existing],
            )
            report.households_written += len(pending)
            pending.clear()
        storage.save_checkpoint(
            import_id, last_line + 1, written_before + report.households_written, done=False
        )
        if progress:
            progress(last_line)

    with path.open(newline="", encoding="utf-8") as stream:
        for item in read_register(stream):
            if isinstance(item, list):
                report.errors.extend(item)
                last_line = max(last_line, max(e.kk_line_range[1] for e in item))
                continue
            if item.last_line < start_line:
                report.households_skipped += 1
                continue
            pending.append(item)
            last_line = item.last_line
            if len(pending) >= BATCH_HOUSEHOLDS:
                flush()
    flush()
    storage.save_checkpoint(import_id, last_line + 1, written_before + report.households_written, done=True)
    return report
