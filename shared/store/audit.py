"""The audit trail's items: every staff action as an append-only record, identifiers only.

Keys (schema.py; the audit partitions start with `AUDIT#`, so IAM can refuse updates and
deletes of them to every function: template.yaml, `AuditRecordsAreAppendOnly`):

    pk=AUDIT#HH#<kk>         sk=<at>#<id>           one household's trail (a household action)
    pk=AUDIT#<reg>#<day>     sk=<area>#<at>#<id>    every action by area: one partition per
                                                    regency and day, sorted by area code then
                                                    time, so an area's day is one Query
                                                    (begins_with the area's code) and no
                                                    partition grows for ever or runs hot (a
                                                    regency's staff make a few writes a second
                                                    at most; one partition takes 1,000)

A household action writes both items, an area action (a worklist generation) the area item
only, always in the same transaction as the action itself (`put_audit` inside the action's
TransactWrite) and conditional on absence, so an action never happens unaudited and a
record is never overwritten."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pynamodb.transactions import TransactWrite

from shared.store.client import transaction_connection
from shared.store.faults import mapped_faults
from shared.store.records import AuditRecord
from shared.store.schema import (
    AuditEntry,
    CensusItem,
    area_audit_pk,
    area_audit_sk,
    audit_id_of,
    household_audit_pk,
)


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
            area_audit_sk(record.area_code, record.at, record.record_id),
            **attributes,
        )
    ]
    if record.kk is not None:
        items.append(AuditEntry(household_audit_pk(record.kk), f"{record.at}#{record.record_id}", **attributes))
    return tuple(items)


def put_audit(tx: TransactWrite, record: AuditRecord | None) -> int:
    """Add the action's audit items to its transaction (conditional on absence); how many."""
    if record is None:
        return 0
    items = audit_items(record)
    for item in items:
        tx.save(item, condition=CensusItem.pk.does_not_exist())
    return len(items)


@mapped_faults
def write_with_audit(puts: Sequence[CensusItem], record: AuditRecord) -> None:
    """Items (put unconditionally) and the action's audit record, in one transaction."""
    with TransactWrite(connection=transaction_connection()) as tx:
        for item in puts:
            tx.save(item)
        put_audit(tx, record)


def _record(item: AuditEntry) -> AuditRecord:
    return AuditRecord(
        at=item.at,
        action=item.action,
        actor=item.actor,
        area_code=item.area_code,
        kk=item.kk,
        details=json.loads(item.details or "{}"),
        record_id=audit_id_of(item.sk),
    )


@mapped_faults
def household_trail(kk: str, limit: int = 1000) -> list[AuditRecord]:
    """A household's records, oldest first."""
    return [_record(i) for i in AuditEntry.query(household_audit_pk(kk), limit=limit) if isinstance(i, AuditEntry)]


def area_trail_start(key: Any, area: str, day: str) -> dict[str, Any] | None:
    """`key` if it is exactly a key of this area's partition for `day` (a cursor a client sent
    back), else None."""
    if not isinstance(key, dict) or set(key) != {"pk", "sk"}:
        return None
    if not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values()):
        return None
    if key["pk"]["S"] != area_audit_pk(area, day) or not key["sk"]["S"].startswith(area):
        return None
    return dict(key)


@mapped_faults
def area_trail(
    area: str, day: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[AuditRecord], dict[str, Any] | None]:
    """One page of an area's records on `day` (by area code, then time), and where to resume."""
    pages = AuditEntry.query(
        area_audit_pk(area, day),
        AuditEntry.sk.startswith(area),
        limit=limit,
        page_size=limit,
        last_evaluated_key=start,
    )
    records = [_record(i) for i in pages if isinstance(i, AuditEntry)]
    return records, pages.last_evaluated_key
