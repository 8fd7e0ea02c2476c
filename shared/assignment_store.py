"""Moving worklist assignments between officers (an officer fell ill), and reading an area's
last generation. The worklist route reads assignments through the `by_officer` index, so
a moved assignment is on the new officer's worklist at their app's next sync."""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared import storage
from shared.storage import Assignment, CensusItem, WorklistGeneration

# A transaction takes 100 items: the assignments of a chunk plus its two audit items.
CHUNK = 98


class AssignmentMoved(Exception):
    """An assignment is no longer the officer's it was read as (a generation ran meanwhile)."""


def move_assignments(moves: Sequence[Assignment], to_officer: str, audit: Sequence[CensusItem]) -> None:
    """Give `moves` (as read) to `to_officer`, each conditional on still being its officer's,
    with `audit` in the same transaction. At most CHUNK assignments (the caller splits)."""
    assert len(moves) <= CHUNK
    try:
        with TransactWrite(connection=storage._transaction_connection()) as tx:
            for item in audit:
                tx.save(item, condition=CensusItem.pk.does_not_exist())
            for a in moves:
                tx.update(
                    Assignment(a.pk, a.sk),
                    actions=[Assignment.officer_id.set(to_officer)],
                    condition=Assignment.officer_id == a.officer_id,
                )
    except TransactWriteError as exc:
        if any(
            r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict")
            for r in exc.cancellation_reasons
        ):
            raise AssignmentMoved() from None
        storage._busy_or_raise(exc)
    except BotoCoreError as exc:
        storage._busy_or_raise(exc)


def last_generation(area: str) -> WorklistGeneration | None:
    try:
        return WorklistGeneration.get(f"AREA#{area}", "WORKLISTS")
    except WorklistGeneration.DoesNotExist:
        return None
    except (PynamoDBException, BotoCoreError) as exc:
        storage._busy_or_raise(exc)
        raise
