"""Reports of households the register missed (`REPORT#<reference>`), their Idempotency-Keys
(`REPORT#KEY#<digest>`), the rate counters that bound them (`RATE#...`), and what resolving
one writes: the report closed, the SLS counters moved, and for an enrolment the new
household (META + REGISTER) created - all in one conditional transaction, so a report is
resolved once and a household is created once however many officers try at the same time.

Filing a report reads and writes only these partitions, the SLS's assignments and its
counters, never a household's: its cost and timing cannot depend on which KKs exist."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.store.audit import put_audit
from shared.store.client import transaction_connection
from shared.store.faults import mapped_faults
from shared.store.progress import progress_actions, progress_item
from shared.store.records import AssignmentRecord, AuditRecord, MemberRecord, ReportRecord, VisitDue
from shared.store.schema import (
    META_SK,
    RATE_SK,
    REGISTER_SK,
    REPORT_SK,
    Assignment,
    CaseIndex,
    HouseholdRegister,
    HouseholdState,
    MissingReport,
    RateCounter,
    RegisterMember,
    ReportKey,
    assignments_pk,
    case_area,
    case_visit_keys,
    household_pk,
    parse_worklist_order,
    rate_pk,
    report_key_pk,
    report_pk,
)
from shared.store.submissions import key_digest
from shared.store.windows import count_in_window


class ReportReplay(Exception):
    """The Idempotency-Key was used before: its record is the answer."""

    def __init__(self, request_hash: str, reference: str):
        super().__init__("report idempotency key already used")
        self.request_hash, self.reference = request_hash, reference


class ReferenceTaken(Exception):
    """A freshly drawn reference collided with an existing one (60 random bits: rare)."""


class ReportAlreadyResolved(Exception):
    """Another resolution of the report won (or it was resolved earlier)."""


class HouseholdExists(Exception):
    """The KK to enrol already has a household (on the register, or enrolled before)."""


class ResolveConflict(Exception):
    """Another transaction was writing the same items at that instant: read again, retry."""


# ---------------------------------------------------------------- rate limits


@mapped_faults
def take_rate(scope: str, subject: str, now: int, window_seconds: int, limit: int) -> int | None:
    """Count one request of `subject` in its current window, if the window has room:
    None when counted, else the seconds until the window ends (nothing counted). Atomic:
    a burst of parallel requests never gets more than `limit` through, also at the moment
    a window ends (shared/store/windows.py)."""
    counter = RateCounter(rate_pk(scope, subject), RATE_SK)
    if count_in_window(counter, "requests", now, window_seconds, limit) is not None:
        return None
    try:
        current = RateCounter.get(rate_pk(scope, subject), RATE_SK, consistent_read=True)
    except RateCounter.DoesNotExist:
        return window_seconds
    return max(1, int(current.expires_at) - now)


# ---------------------------------------------------------------- filing and reading


@dataclass(frozen=True)
class NewReport:
    report: ReportRecord  # as filed (status open)
    key_digest: str | None  # the Idempotency-Key's record, if the request had one
    request_hash: str
    key_expires_at: int
    now_epoch: int
    assignment: AssignmentRecord | None  # the case on the SLS officer's worklist at once


@mapped_faults
def get_report_key(digest: str) -> tuple[str, str] | None:
    """(request hash, reference) of a used Idempotency-Key."""
    try:
        item = ReportKey.get(report_key_pk(digest), REPORT_SK, consistent_read=True)
    except ReportKey.DoesNotExist:
        return None
    return item.request_hash, item.reference


@mapped_faults
def sls_assignment(sls_code: str) -> AssignmentRecord | None:
    """One of the SLS's current assignments (its officer), if it has any."""
    for item in Assignment.query(
        assignments_pk(sls_code[:10]), Assignment.sk.startswith(f"{sls_code}#"), limit=1, consistent_read=True
    ):
        if isinstance(item, Assignment):
            return AssignmentRecord.of(item)
    return None


@mapped_faults
def file_report(new: NewReport) -> None:
    """The report, its key record, the SLS's `reported` counter and (when the SLS is
    already assigned) the case's assignment: one transaction."""
    filed = new.report
    visit_area, visit_order = case_visit_keys(filed.sls_code, filed.reference)
    report = MissingReport(
        report_pk(filed.reference),
        REPORT_SK,
        kk=filed.kk,
        reporter_nik=filed.reporter_nik,
        head_name=filed.head_name,
        address=filed.address,
        sls_code=filed.sls_code,
        phone=filed.phone,
        filed_at=filed.filed_at,
        status=filed.status,
        visit_attempts=0,
        visit_area=visit_area,
        visit_order=visit_order,
    )
    items = ["report", *(["key"] if new.key_digest else []), *(["assignment"] if new.assignment else []), "progress"]
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(report, condition=MissingReport.pk.does_not_exist())
            if new.key_digest is not None:
                tx.save(
                    ReportKey(
                        report_key_pk(new.key_digest),
                        REPORT_SK,
                        request_hash=new.request_hash,
                        reference=filed.reference,
                        expires_at=new.key_expires_at,
                    ),
                    condition=ReportKey.pk.does_not_exist() | (ReportKey.expires_at < new.now_epoch),
                    return_values="ALL_OLD",
                )
            if new.assignment is not None:
                tx.save(new.assignment.item())
            tx.update(progress_item(filed.sls_code), actions=progress_actions({"reported": 1}))
    except TransactWriteError as exc:
        reasons = dict(zip(items, exc.cancellation_reasons, strict=False))
        key = reasons.get("key")
        if key is not None and key.code == "ConditionalCheckFailed":
            if key.raw_item:
                stored = ReportKey.from_raw_data(key.raw_item)
                raise ReportReplay(stored.request_hash, stored.reference) from None
            found = get_report_key(new.key_digest or "")
            if found is not None:
                raise ReportReplay(*found) from None
        report_reason = reasons.get("report")
        if report_reason is not None and report_reason.code == "ConditionalCheckFailed":
            raise ReferenceTaken() from None
        raise


@mapped_faults
def get_report(reference: str) -> ReportRecord | None:
    try:
        return ReportRecord.of(MissingReport.get(report_pk(reference), REPORT_SK, consistent_read=True))
    except MissingReport.DoesNotExist:
        return None


@mapped_faults
def get_reports(references: Sequence[str]) -> dict[str, ReportRecord]:
    """Many reports at once (BatchGetItem): a worklist shows its cases' live state."""
    found = MissingReport.batch_get([(report_pk(r), REPORT_SK) for r in references])
    records = [ReportRecord.of(item) for item in found if isinstance(item, MissingReport)]
    return {r.reference: r for r in records}


@mapped_faults
def case_backlog(village: str, within: str | None = None) -> list[VisitDue]:
    """The village's open report cases (their own needs_visit partition)."""
    condition = CaseIndex.visit_order.startswith(within) if within else None
    items = MissingReport.needs_visit.query(case_area(village), condition)
    due = [parse_worklist_order(item.visit_order) for item in items]
    return [VisitDue(kk=reference, sls_code=sls_code, reference=reference) for sls_code, reference in due]


# ---------------------------------------------------------------- resolving


@dataclass(frozen=True)
class Resolution:
    """How the field closed a report."""

    reference: str
    sls_code: str
    resolution: str  # enrolled | matched | not_found
    reason: str | None
    resolved_kk: str | None
    resolved_at: str
    resolved_by: str


@dataclass(frozen=True)
class EnrolledHousehold:
    """A household the register did not have, created from the officer's interview."""

    kk: str
    sls_code: str
    address: str
    head_nik: str
    head_name: str
    members: tuple[MemberRecord, ...]
    progress: dict[str, int] = field(default_factory=dict)
    key: str | None = None  # found in the field: the creating request's Idempotency-Key


def _report_update(resolution: Resolution) -> tuple[MissingReport, list[Action], Any]:
    actions: list[Action] = [
        MissingReport.status.set("resolved"),
        MissingReport.resolution.set(resolution.resolution),
        MissingReport.resolved_at.set(resolution.resolved_at),
        MissingReport.resolved_by.set(resolution.resolved_by),
        MissingReport.visit_attempts.add(1),
        MissingReport.visit_area.remove(),
        MissingReport.visit_order.remove(),
    ]
    if resolution.reason:
        actions.append(MissingReport.resolution_reason.set(resolution.reason))
    if resolution.resolved_kk:
        actions.append(MissingReport.resolved_kk.set(resolution.resolved_kk))
    return MissingReport(report_pk(resolution.reference), REPORT_SK), actions, MissingReport.status == "open"


@mapped_faults
def resolve(
    resolution: Resolution | None, household: EnrolledHousehold | None = None, audit: AuditRecord | None = None
) -> None:
    """Close the report (conditional on it being open) and/or create the enrolled household
    (conditional on its KK having none), moving the SLS counters and writing the officer's
    audit record: all or nothing, so the action is audited exactly once."""
    progress: dict[str, dict[str, int]] = {}
    if resolution is not None:
        progress.setdefault(resolution.sls_code, {})["reported"] = -1
    if household is not None:
        counts = progress.setdefault(household.sls_code, {})
        for name, value in household.progress.items():
            counts[name] = counts.get(name, 0) + value
    items: list[str] = []
    try:
        with TransactWrite(connection=transaction_connection()) as tx:
            # PynamoDB sends puts before updates: name the items in that order.
            if household is not None:
                pk = household_pk(household.kk)
                tx.save(
                    HouseholdState(
                        pk,
                        META_SK,
                        status="pending",
                        version=0,
                        sls_code=household.sls_code,
                        visit_attempts=0,
                        address=household.address,
                        head_name=household.head_name,
                        enrolled_in_field=True,
                        enrolment_key=None if household.key is None else key_digest(household.key),
                    ),
                    condition=HouseholdState.pk.does_not_exist(),
                )
                tx.save(
                    HouseholdRegister(
                        pk,
                        REGISTER_SK,
                        address=household.address,
                        sls_code=household.sls_code,
                        head_nik=household.head_nik,
                        members=[
                            RegisterMember(
                                nik=m.nik, name=m.name, sex=m.sex, birth_date=m.birth_date, relationship=m.relationship
                            )
                            for m in household.members
                        ],
                    ),
                    condition=HouseholdRegister.pk.does_not_exist(),
                )
                items += ["meta", "register"]
            items += ["audit"] * put_audit(tx, audit)
            if resolution is not None:
                report, actions, condition = _report_update(resolution)
                tx.update(report, actions=actions, condition=condition)
                items.append("report")
            for sls_code, delta in sorted(progress.items()):
                actions = progress_actions(delta)
                if actions:
                    tx.update(progress_item(sls_code), actions=actions)
                    items.append("progress")
    except TransactWriteError as exc:
        codes = {name: (r.code if r else None) for name, r in zip(items, exc.cancellation_reasons, strict=False)}
        if codes.get("report") == "ConditionalCheckFailed":
            raise ReportAlreadyResolved() from None
        if "ConditionalCheckFailed" in (codes.get("meta"), codes.get("register")):
            raise HouseholdExists() from None
        if "TransactionConflict" in codes.values():
            raise ResolveConflict() from None
        raise
