"""The audit trail's items: every staff action as an append-only record, identifiers only.

Keys (the audit partitions start with `AUDIT#`, so IAM can refuse updates and deletes
of them to every function: template.yaml, `AuditAppendOnly`):

    pk=AUDIT#HH#<kk>         sk=<at>#<id>           one household's trail (a household action)
    pk=AUDIT#<reg>#<day>     sk=<area>#<at>#<id>    every action by area: one partition per
                                                    regency and day, sorted by area code then
                                                    time, so an area's day is one Query
                                                    (begins_with the area's code) and no
                                                    partition grows for ever or runs hot (a
                                                    regency's staff make a few writes a second
                                                    at most; one partition takes 1,000)

A household action writes both items, an area action (a worklist generation) the area item
only, always in the same transaction as the action itself and conditional on absence, so
an action never happens unaudited and a record is never overwritten."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared import storage
from shared.storage import AuditEntry, CensusItem

AUDIT_PREFIX = "AUDIT#"


@dataclass(frozen=True)
class AuditRecord:
    at: str  # ISO 8601 UTC, milliseconds
    action: str
    actor: str  # officer id, or "schedule"
    area_code: str  # the SLS of a household action, the area of an area action
    kk: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # identifiers and counts only
    record_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "action": self.action,
            "actor": self.actor,
            "area_code": self.area_code,
            "kk": self.kk,
            "details": dict(self.details),
            "id": self.record_id,
        }


def household_audit_pk(kk: str) -> str:
    return f"{AUDIT_PREFIX}HH#{kk}"


def area_audit_pk(area: str, day: str) -> str:
    return f"{AUDIT_PREFIX}{area[:4]}#{day}"


def audit_items(record: AuditRecord) -> tuple[AuditEntry, ...]:
    """The items that record one action: the area's, and the household's if it is one's."""
    attributes: dict[str, Any] = {
        "at": record.at,
        "action": record.action,
        "actor": record.actor,
        "area_code": record.area_code,
        "kk": record.kk,
        "details": json.dumps(record.details, sort_keys=True, separators=(",", ":")),
    }
    items = [
        AuditEntry(
            area_audit_pk(record.area_code, record.at[:10]),
            f"{record.area_code}#{record.at}#{record.record_id}",
            **attributes,
        )
    ]
    if record.kk is not None:
        items.append(AuditEntry(household_audit_pk(record.kk), f"{record.at}#{record.record_id}", **attributes))
    return tuple(items)


def write_with_audit(puts: Sequence[CensusItem], record: AuditRecord) -> None:
    """Items (put unconditionally) and the action's audit record, in one transaction."""
    try:
        with TransactWrite(connection=storage._transaction_connection()) as tx:
            for item in puts:
                tx.save(item)
            for audit in audit_items(record):
                tx.save(audit, condition=CensusItem.pk.does_not_exist())
    except (TransactWriteError, BotoCoreError) as exc:
        storage._busy_or_raise(exc)


def _record(item: AuditEntry) -> AuditRecord:
    return AuditRecord(
        at=item.at,
        action=item.action,
        actor=item.actor,
        area_code=item.area_code,
        kk=item.kk,
        details=json.loads(item.details or "{}"),
        record_id=item.sk.rsplit("#", 1)[-1],
    )


def household_trail(kk: str, limit: int = 1000) -> list[AuditRecord]:
    """A household's records, oldest first."""
    try:
        items = AuditEntry.query(household_audit_pk(kk), limit=limit)
        return [_record(i) for i in items if isinstance(i, AuditEntry)]
    except (PynamoDBException, BotoCoreError) as exc:
        storage._busy_or_raise(exc)
        raise


def area_trail(
    area: str, day: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[AuditRecord], dict[str, Any] | None]:
    """One page of an area's records on `day` (by area code, then time), and where to resume."""
    try:
        pages = AuditEntry.query(
            area_audit_pk(area, day),
            AuditEntry.sk.startswith(area),
            limit=limit,
            page_size=limit,
            last_evaluated_key=start,
        )
        records = [_record(i) for i in pages if isinstance(i, AuditEntry)]
        return records, pages.last_evaluated_key
    except (PynamoDBException, BotoCoreError) as exc:
        storage._busy_or_raise(exc)
        raise
