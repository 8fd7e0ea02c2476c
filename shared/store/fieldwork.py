"""The field phase's items: the officer roster, worklists (the needs_visit backlog,
assignments, generations) and visits to households."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.areas import ancestors, village_of
from shared.store.audit import audit_items, put_audit
from shared.store.client import transaction_connection
from shared.store.faults import ConditionFailed, conditional, mapped_faults
from shared.store.records import (
    AssignmentRecord,
    AuditRecord,
    GenerationRecord,
    LiveStatus,
    OfficerRecord,
    RosterRecord,
    VisitDue,
    VisitRecord,
)
from shared.store.schema import (
    ASSIGNMENT_PREFIX,
    META_SK,
    PROFILE_SK,
    VISIT_PREFIX,
    Assignment,
    CensusItem,
    HouseholdState,
    NeedsVisitIndex,
    OfficerProfile,
    RosterEntry,
    VisitEntry,
    WorklistGeneration,
    assignment_key,
    assignments_pk,
    generation_key,
    household_pk,
    kk_of,
    officer_id_of,
    officer_pk,
    parse_worklist_order,
    roster_pk,
    roster_sk,
    visit_sk,
    worklist_order,
)
from shared.store.submissions import VersionConflict, VisitReplay, classify_cancellation, review_queue_actions

# ---------------------------------------------------------------- roster


@mapped_faults
def get_officer(officer_id: str) -> OfficerRecord | None:
    try:
        profile = OfficerProfile.get(officer_pk(officer_id), PROFILE_SK)
    except OfficerProfile.DoesNotExist:
        return None
    return OfficerRecord(officer_id, profile.name, profile.role, tuple(str(a) for a in profile.areas))


@mapped_faults
def save_officers(profiles: Sequence[OfficerProfile]) -> None:
    """Profiles and their roster entries; entries for areas an officer no longer covers go."""
    old = {p.pk: p for p in OfficerProfile.batch_get([(p.pk, PROFILE_SK) for p in profiles])}
    with CensusItem.batch_write() as batch:
        for profile in profiles:
            officer_id = officer_id_of(profile.pk)
            previous = old.get(profile.pk)
            for area in {str(a) for a in (previous.areas if previous else [])} - {str(a) for a in profile.areas}:
                batch.delete(RosterEntry(roster_pk(area), roster_sk(area, officer_id)))
            batch.save(profile)
            for area in map(str, profile.areas):
                batch.save(
                    RosterEntry(
                        roster_pk(area), roster_sk(area, officer_id), officer=officer_id, role=profile.role, area=area
                    )
                )


@mapped_faults
def roster_within(area: str) -> list[RosterRecord]:
    """Roster entries for `area`, everything inside it, and its enclosing areas (an officer
    covering the whole district covers each of its villages)."""
    partition = roster_pk(area)
    entries = [e for e in RosterEntry.query(partition, RosterEntry.sk.startswith(area)) if isinstance(e, RosterEntry)]
    for parent in ancestors(area):
        if len(parent) >= 4:
            entries += [
                e
                for e in RosterEntry.query(partition, RosterEntry.sk.startswith(roster_sk(parent, "")))
                if isinstance(e, RosterEntry)
            ]
    return [RosterRecord(e.officer, e.role, e.area) for e in entries]


# ---------------------------------------------------------------- worklists


@mapped_faults
def households_needing_visit(village: str, within: str | None = None) -> list[HouseholdState]:
    """The village's backlog from the sparse index, as stored: reads grow with the backlog only."""
    condition = NeedsVisitIndex.visit_order.startswith(within) if within else None
    return list(HouseholdState.needs_visit.query(village, condition))


@mapped_faults
def visit_backlog(village: str, within: str | None = None) -> list[VisitDue]:
    """The households of `village` (within the SLS or sub-SLS `within`) that need a visit."""
    due = []
    for item in households_needing_visit(village, within):
        sls_code, kk = parse_worklist_order(item.visit_order)
        due.append(VisitDue(kk=kk, sls_code=sls_code, address=item.address, head_name=item.head_name))
    return due


@mapped_faults
def area_assignments(village: str) -> list[AssignmentRecord]:
    return [AssignmentRecord.of(a) for a in Assignment.query(assignments_pk(village)) if isinstance(a, Assignment)]


@mapped_faults
def replace_assignments(old: Sequence[AssignmentRecord], new: Sequence[AssignmentRecord]) -> None:
    """Put the new generation, delete what it no longer holds. Visits live on the
    household, not on assignments, so none is lost."""
    keep = {assignment_key(a.sls_code, a.kk) for a in new}
    with CensusItem.batch_write() as batch:
        for record in old:
            if assignment_key(record.sls_code, record.kk) not in keep:
                batch.delete(record.item())
        for record in new:
            batch.save(record.item())


@mapped_faults
def save_generation(generation: GenerationRecord, audit: AuditRecord | None = None) -> None:
    """The generation's summary, with its audit record in the same transaction (the
    assignments themselves are a batch: too many for one transaction)."""
    item = WorklistGeneration(
        *generation_key(generation.area),
        generated_at=generation.generated_at,
        generated_by=generation.generated_by,
        households=generation.households,
        officers=generation.officers,
        summary=generation.summary,
    )
    if audit is None:
        item.save()
        return
    with TransactWrite(connection=transaction_connection()) as tx:
        tx.save(item)
        put_audit(tx, audit)


@mapped_faults
def last_generation(area: str) -> GenerationRecord | None:
    try:
        item = WorklistGeneration.get(*generation_key(area))
    except WorklistGeneration.DoesNotExist:
        return None
    summary = [dict(s) if not hasattr(s, "as_dict") else s.as_dict() for s in item.summary]
    return GenerationRecord(
        area, item.generated_at, item.generated_by, int(item.households), int(item.officers), summary
    )


@mapped_faults
def get_assignment(sls_code: str, kk: str) -> AssignmentRecord | None:
    try:
        return AssignmentRecord.of(Assignment.get(*assignment_key(sls_code, kk)))
    except Assignment.DoesNotExist:
        return None


def worklist_start(key: Any, officer_id: str) -> dict[str, Any] | None:
    """`key` if it is exactly a by_officer index key on `officer_id`'s own partition (a
    cursor a client sent back), else None: anything else would reach DynamoDB as a
    malformed or foreign start key."""
    names = {"pk", "sk", "officer_id", "worklist_order"}
    if not isinstance(key, dict) or set(key) != names:
        return None
    if not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values()):
        return None
    if key["officer_id"]["S"] != officer_id or not key["pk"]["S"].startswith(ASSIGNMENT_PREFIX):
        return None
    return dict(key)


@mapped_faults
def officer_worklist_page(
    officer_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[AssignmentRecord], dict[str, Any] | None]:
    """One page of the officer's assignments (by_officer index) and the key to resume from."""
    pages = Assignment.by_officer.query(officer_id, limit=limit, last_evaluated_key=start, page_size=limit)
    items = [AssignmentRecord.of(a) for a in pages if isinstance(a, Assignment)]
    return items, pages.last_evaluated_key


@mapped_faults
def worklist_live_status(assignments: Sequence[AssignmentRecord]) -> dict[str, LiveStatus]:
    """The current status of a page of assignments: per village on the page, ONE range Query
    of the needs_visit index from the page's first to its last household (the index projects
    status and attempts); only households that left the index since (responded, done) are
    then read from META, by BatchGetItem. Eventually consistent, like the index itself."""
    by_village: dict[str, list[AssignmentRecord]] = {}
    for record in assignments:
        by_village.setdefault(village_of(record.sls_code), []).append(record)
    found: dict[str, LiveStatus] = {}
    for village, records in by_village.items():
        orders = sorted(worklist_order(r.sls_code, r.kk) for r in records)
        wanted = {r.kk for r in records}
        between = NeedsVisitIndex.visit_order.between(orders[0], orders[-1])
        for item in HouseholdState.needs_visit.query(village, between):
            kk = parse_worklist_order(item.visit_order)[1]
            if kk in wanted:
                found[kk] = LiveStatus(kk, item.status, int(item.visit_attempts or 0), item.address, item.head_name)
    left = [r.kk for r in assignments if r.kk not in found]
    if left:
        metas = HouseholdState.batch_get(
            [(household_pk(kk), META_SK) for kk in left],
            attributes_to_get=["pk", "sk", "kind", "status", "visit_attempts", "address", "head_name"],
        )
        for meta in metas:
            kk = kk_of(meta.pk)
            found[kk] = LiveStatus(kk, meta.status, int(meta.visit_attempts or 0), meta.address, meta.head_name)
    return found


# ---------------------------------------------------------------- visits


@dataclass(frozen=True)
class VisitChange:
    """A failed visit (not_home, refused, moved, ...): no response version. Recorded on META
    itself (`visits`, keyed by the visit id): one conditional UpdateItem, or a transaction when
    other items must move with it (docs/decisions/0018)."""

    kk: str
    sls_code: str
    expected_version: int
    expected_status: str
    # A failed visit leaves version and status as they were: the attempt count it read is
    # what tells concurrent visits apart (each gets its own attempt number).
    expected_attempts: int
    status: str
    visit: VisitRecord
    stays_on_worklist: bool
    audit: AuditRecord | None = None  # the visit's audit record, in the same transaction
    meta_holds_visits: bool = False  # META, as read, already has its `visits` map


def _meta_visit_update(change: VisitChange) -> tuple[list[Action], Condition]:
    """The update of META that records a failed visit: the visit into META's `visits` map,
    attempts + 1, the new status, off the worklist (the index) after the last allowed attempt,
    out of the review queue; conditional on the version, status and attempts that were read
    and on the visit's id being absent (a replay fails the condition)."""
    entry = change.visit.compact()
    actions: list[Action] = [
        HouseholdState.status.set(change.status),
        HouseholdState.visit_attempts.add(1),
        Path(HouseholdState.visits)[change.visit.visit_id].set(entry)
        if change.meta_holds_visits
        else HouseholdState.visits.set({change.visit.visit_id: entry}),
    ]
    if not change.stays_on_worklist:
        actions += [HouseholdState.visit_area.remove(), HouseholdState.visit_order.remove()]
    actions += review_queue_actions(None, ())  # a visit's outcome takes it out of the review queue
    attempts = HouseholdState.visit_attempts == change.expected_attempts
    if change.expected_attempts == 0:
        attempts |= HouseholdState.visit_attempts.does_not_exist()
    absent = (
        Path(HouseholdState.visits)[change.visit.visit_id].does_not_exist()
        if change.meta_holds_visits
        else HouseholdState.visits.does_not_exist()
    )
    condition = (
        (HouseholdState.version == change.expected_version)
        & (HouseholdState.status == change.expected_status)
        & attempts
        & absent
    )
    return actions, condition


@mapped_faults
def save_visit(change: VisitChange) -> None:
    """META's update alone (one UpdateItem) when nothing else moves with it; otherwise one
    transaction with the visit's audit record. The SLS counter and a responded household's
    receipt follow from the table's stream (docs/decisions/0019).
    `VisitReplay` if the visit is already recorded, `VersionConflict` if the household moved."""
    try:
        _write_visit(change)
    except VersionConflict:
        if get_visit(change.kk, change.visit.visit_id) is not None:
            raise VisitReplay() from None
        raise


def _write_visit(change: VisitChange) -> None:
    meta = HouseholdState(household_pk(change.kk), META_SK)
    actions, condition = _meta_visit_update(change)
    if change.audit is None:
        try:
            conditional(lambda: meta.update(actions=actions, condition=condition))
        except ConditionFailed:
            raise VersionConflict() from None
        return
    audited = 0 if change.audit is None else len(audit_items(change.audit))
    items = [
        *(["audit"] * audited),
        "meta",
    ]
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            put_audit(tx, change.audit)
            tx.update(meta, actions=actions, condition=condition)
    except TransactWriteError as exc:
        classify_cancellation(exc, items)


@mapped_faults
def get_visit(kk: str, visit_id: str) -> VisitRecord | None:
    """A visit by its id: on META (failed visits), else its own item (interviews, and visits
    recorded before decision 0018)."""
    pk = household_pk(kk)
    try:
        meta = HouseholdState.get(pk, META_SK, consistent_read=True, attributes_to_get=["pk", "sk", "kind", "visits"])
    except HouseholdState.DoesNotExist:
        return None
    if meta.visits is not None and visit_id in meta.visits.as_dict():
        return VisitRecord.of_compact(visit_id, str(meta.visits.as_dict()[visit_id]))
    try:
        return VisitRecord.of(VisitEntry.get(pk, visit_sk(visit_id), consistent_read=True))
    except VisitEntry.DoesNotExist:
        return None


@mapped_faults
def list_visits(kk: str) -> list[VisitRecord]:
    """Every visit to the household, by attempt: META's map and the `VISIT#` items."""
    pk = household_pk(kk)
    items = list(CensusItem.query(pk, CensusItem.sk.startswith(VISIT_PREFIX), consistent_read=True))
    visits = [VisitRecord.of(v) for v in items if isinstance(v, VisitEntry)]
    try:
        meta = HouseholdState.get(pk, META_SK, consistent_read=True, attributes_to_get=["pk", "sk", "kind", "visits"])
    except HouseholdState.DoesNotExist:
        return visits
    stored = {} if meta.visits is None else meta.visits.as_dict()
    visits += [VisitRecord.of_compact(str(visit_id), str(text)) for visit_id, text in stored.items()]
    return sorted(visits, key=lambda v: (v.attempt, v.visited_at))
