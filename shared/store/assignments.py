"""Moving worklist assignments between officers (an officer fell ill). The worklist route
reads assignments through the `by_officer` index, so a moved assignment is on the new
officer's worklist at their app's next sync."""

from __future__ import annotations

from collections.abc import Sequence

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.store.audit import audit_items, put_audit
from shared.store.client import transaction_connection
from shared.store.faults import cancelled_by_condition, mapped_faults
from shared.store.records import AssignmentRecord, AuditRecord
from shared.store.schema import Assignment, assignment_key

# A transaction takes 100 items: the assignments of a chunk plus its two audit items.
CHUNK = 98


class AssignmentMoved(Exception):
    """An assignment is no longer the officer's it was read as (a generation ran meanwhile)."""


@mapped_faults
def move_assignments(moves: Sequence[AssignmentRecord], to_officer: str, audit: AuditRecord) -> None:
    """Give `moves` (as read) to `to_officer`, each conditional on still being its officer's,
    with the audit record in the same transaction. At most CHUNK (the caller splits)."""
    assert len(moves) + len(audit_items(audit)) <= 100
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            put_audit(tx, audit)
            for a in moves:
                tx.update(
                    Assignment(*assignment_key(a.sls_code, a.kk)),
                    actions=[Assignment.officer_id.set(to_officer)],
                    condition=Assignment.officer_id == a.officer_id,
                )
    except TransactWriteError as exc:
        if cancelled_by_condition(exc):
            raise AssignmentMoved() from None
        raise
