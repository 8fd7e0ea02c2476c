"""The census outputs' items: published population tables (one GetItem for the console)
and the review flags the duplicate check raises, each with the status move it makes, in
one transaction conditional on what the check saw."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.store.client import transaction_connection
from shared.store.faults import mapped_faults
from shared.store.schema import (
    FLAG_PREFIX,
    META_SK,
    CensusItem,
    HouseholdState,
    PublishedTable,
    ReviewFlag,
    flag_sk,
    household_pk,
    kk_of,
    tables_key,
)


@dataclass(frozen=True)
class PublishedTableRecord:
    area: str
    table: str
    body: str  # JSON
    reference_date: str
    published_at: str


@dataclass(frozen=True)
class ReviewFlagRecord:
    kk: str
    reason: str
    other_kk: str
    version: int  # the household version the check saw
    nik: str
    flagged_at: str
    flagged_by: str


@dataclass(frozen=True)
class FlagChange:
    """A flag and the status move it makes (none when `status` == `expected_status`)."""

    flag: ReviewFlagRecord
    sls_code: str
    expected_status: str
    status: str
    visit_keys: tuple[str, str] | None  # set when the household goes onto the worklist


class FlagExists(Exception):
    """This flag (reason, other household, version) was raised before."""


class HouseholdChanged(Exception):
    """META is no longer at the version and status the check saw."""


@mapped_faults
def save_published_tables(tables: Sequence[PublishedTableRecord]) -> None:
    with PublishedTable.batch_write() as batch:
        for t in tables:
            pk, sk = tables_key(t.area, t.table)
            batch.save(
                PublishedTable(pk, sk, body=t.body, reference_date=t.reference_date, published_at=t.published_at)
            )


@mapped_faults
def get_published_table(area: str, table: str) -> PublishedTableRecord | None:
    try:
        item = PublishedTable.get(*tables_key(area, table))
    except PublishedTable.DoesNotExist:
        return None
    return PublishedTableRecord(area, table, item.body, item.reference_date, item.published_at)


@mapped_faults
def save_review_flag(change: FlagChange) -> None:
    """The flag (if new) and, if the household is still at the version and status the check
    saw, its status, receipt and SLS counters: all or nothing."""
    flag = change.flag
    pk = household_pk(flag.kk)
    item = ReviewFlag(
        pk,
        flag_sk(flag.reason, flag.other_kk, flag.version),
        reason=flag.reason,
        other_kk=flag.other_kk,
        version=flag.version,
        nik=flag.nik,
        flagged_at=flag.flagged_at,
        flagged_by=flag.flagged_by,
    )
    meta = HouseholdState(pk, META_SK)
    seen = (HouseholdState.version == flag.version) & (HouseholdState.status == change.expected_status)
    moves = change.status != change.expected_status
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            # PynamoDB sends condition checks, puts, then updates: the reasons come back so.
            if not moves:
                tx.condition_check(HouseholdState, pk, META_SK, condition=seen)
            tx.save(item, condition=ReviewFlag.pk.does_not_exist())
            if moves:
                actions: list[Action] = [HouseholdState.status.set(change.status)]
                if change.visit_keys is not None:
                    actions += [
                        HouseholdState.visit_area.set(change.visit_keys[0]),
                        HouseholdState.visit_order.set(change.visit_keys[1]),
                    ]
                tx.update(meta, actions=actions, condition=seen)
    except TransactWriteError as exc:
        codes = [r.code if r else None for r in exc.cancellation_reasons]
        meta_code, flag_code = (codes[0], codes[1]) if not moves else (codes[1] if len(codes) > 1 else None, codes[0])
        if flag_code == "ConditionalCheckFailed":
            raise FlagExists() from None
        if meta_code == "ConditionalCheckFailed" or "TransactionConflict" in codes:
            raise HouseholdChanged() from None
        raise


@mapped_faults
def list_review_flags(kk: str) -> list[ReviewFlagRecord]:
    return [
        ReviewFlagRecord(
            kk=kk_of(f.pk),
            reason=f.reason,
            other_kk=f.other_kk,
            version=int(f.version),
            nik=f.nik,
            flagged_at=f.flagged_at,
            flagged_by=f.flagged_by,
        )
        for f in CensusItem.query(household_pk(kk), CensusItem.sk.startswith(FLAG_PREFIX), consistent_read=True)
        if isinstance(f, ReviewFlag)
    ]
