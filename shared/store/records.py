"""What the store hands to the domain and takes from it: frozen records with domain
names (a KK, a visit id, an SLS code), never keys or raw DynamoDB attributes."""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec

from shared.store import schema


class MemberRecord(msgspec.Struct, frozen=True):
    nik: str
    name: str
    sex: str
    birth_date: str
    relationship: str


class RegisterRecord(msgspec.Struct, frozen=True):
    """The register extract of one household (REGISTER)."""

    kk: str
    address: str
    sls_code: str
    head_nik: str
    members: tuple[MemberRecord, ...]

    @classmethod
    def of(cls, item: schema.HouseholdRegister) -> RegisterRecord:
        members = tuple(
            MemberRecord(str(m.nik), str(m.name), str(m.sex), str(m.birth_date), str(m.relationship))
            for m in item.members
        )
        return cls(schema.kk_of(item.pk), item.address, item.sls_code, item.head_nik, members)


class HouseholdRecord(msgspec.Struct, frozen=True):
    """A household's mutable state (META)."""

    kk: str
    status: str
    version: int
    sls_code: str
    receipt_code: str | None = None
    channel: str | None = None
    first_submitted_at: str | None = None
    last_submitted_at: str | None = None
    member_count: int | None = None
    visit_attempts: int = 0
    on_worklist: bool = False  # needs a field visit (it is in the needs_visit index)
    address: str | None = None
    head_name: str | None = None
    # Awaiting a supervisor's review (in the review_queue index): since when, and why.
    in_review: bool = False
    flagged_at: str | None = None
    review_reasons: tuple[str, ...] = ()
    enrolled_in_field: bool = False
    # Found in the field: the digest of the creating request's Idempotency-Key (shared.store only).
    enrolment_key: str | None = None
    # Idempotency-Keys of recent versions as stored (key digest -> "<version>:<expires>"):
    # read by shared.store.submissions only.
    idempotency: dict[str, str] = msgspec.field(default_factory=dict)
    # The ids of the failed visits recorded on META itself (docs/decisions/0018).
    visit_ids: frozenset[str] = msgspec.field(default_factory=frozenset)

    # Never in a repr (a stray log line or traceback): request keys and their digests, and the
    # address and head's name (personal data).
    _UNPRINTED = frozenset({"enrolment_key", "idempotency", "visit_ids", "address", "head_name"})

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self.__struct_fields__ if name not in self._UNPRINTED
        )
        return f"HouseholdRecord({shown})"

    @classmethod
    def of(cls, item: schema.HouseholdState) -> HouseholdRecord:
        return cls(
            kk=schema.kk_of(item.pk),
            status=item.status,
            version=int(item.version),
            sls_code=item.sls_code,
            receipt_code=item.receipt_code,
            channel=item.channel,
            first_submitted_at=item.first_submitted_at,
            last_submitted_at=item.last_submitted_at,
            member_count=None if item.member_count is None else int(item.member_count),
            visit_attempts=int(item.visit_attempts or 0),
            on_worklist=item.visit_area is not None,
            address=item.address,
            head_name=item.head_name,
            in_review=item.review_area is not None,
            flagged_at=None if item.review_order is None else schema.flagged_at_of(item.review_order),
            review_reasons=tuple(str(r) for r in item.review_reasons or ()),
            enrolled_in_field=bool(item.enrolled_in_field),
            enrolment_key=item.enrolment_key,
            idempotency={}
            if item.idempotency is None
            else {str(k): str(v) for k, v in item.idempotency.as_dict().items()},
            visit_ids=frozenset() if item.visits is None else frozenset(str(k) for k in item.visits.as_dict()),
        )


class CredentialRecord(msgspec.Struct, frozen=True):
    password_hash: str
    set_at: str


class ResetCodeRecord(msgspec.Struct, frozen=True):
    """A supervisor's pending password reset: the one-time code's hash and expiry."""

    code_hash: str
    expires_at: str
    reset_by: str
    reset_at: str


class DraftRecord(msgspec.Struct, frozen=True):
    body: str  # the partial response as JSON
    etag: str
    saved_at: str
    expires_at: int  # epoch seconds


class ReceiptRecord(msgspec.Struct, frozen=True):
    """The status-lookup item: no personal data but the KK."""

    code: str
    kk: str
    status: str
    version: int
    channel: str
    first_submitted_at: str
    last_submitted_at: str
    member_count: int

    @classmethod
    def of(cls, item: schema.Receipt) -> ReceiptRecord:
        return cls(
            code=schema.receipt_code_of(item.pk),
            kk=item.kk,
            status=item.status,
            version=int(item.version),
            channel=item.channel,
            first_submitted_at=item.first_submitted_at,
            last_submitted_at=item.last_submitted_at,
            member_count=int(item.member_count),
        )


class VersionRecord(msgspec.Struct, frozen=True):
    """One stored response version."""

    version: int
    channel: str
    status: str
    submitted_at: str
    review_reasons: list[str]
    members: list[dict[str, Any]]
    departed: list[dict[str, Any]] = msgspec.field(default_factory=list)

    @classmethod
    def of(cls, item: schema.ResponseVersion) -> VersionRecord:
        return cls(
            version=int(item.version),
            channel=item.channel,
            status=item.status,
            submitted_at=item.submitted_at,
            review_reasons=[str(r) for r in item.review_reasons or []],
            members=[dict(m) for m in item.members],
            departed=[dict(d) for d in item.departed or []],
        )


class ReplayRecord(msgspec.Struct, frozen=True):
    """What an Idempotency-Key's first request stored: the answer to give its retries."""

    request_hash: str
    receipt_code: str
    version: int
    status: str
    submitted_at: str
    created: bool

    @classmethod
    def of(cls, item: schema.ResponseVersion, receipt_code: str) -> ReplayRecord:
        """From the version the key stored: the household's first version issued the receipt
        (a 201), any later one is a correction (200)."""
        return cls(
            request_hash=item.request_hash or "",
            receipt_code=receipt_code,
            version=int(item.version),
            status=item.status,
            submitted_at=item.submitted_at,
            created=int(item.version) == 1,
        )


_POSITION = ("lat", "lon", "accuracy")


class VisitRecord(msgspec.Struct, frozen=True):
    """A field visit to a household."""

    visit_id: str
    officer_id: str
    outcome: str
    note: str | None
    visited_at: str
    attempt: int
    status: str
    version: int
    recorded_at: str | None = None  # the phone's time of recording
    position: dict[str, float] | None = None  # {"lat", "lon", "accuracy"}, with the officer's consent

    @classmethod
    def of(cls, item: schema.VisitEntry) -> VisitRecord:
        position = item.position.as_dict() if item.position is not None else None
        return cls(
            visit_id=schema.visit_id_of(item.sk),
            officer_id=item.officer_id,
            outcome=item.outcome,
            note=item.note,
            visited_at=item.visited_at,
            attempt=int(item.attempt),
            status=item.status,
            version=int(item.version),
            recorded_at=item.recorded_at,
            position={name: float(value) for name, value in position.items()} if position else None,
        )

    def compact(self) -> str:
        """The visit as META's `visits` map holds it (the id is the map's key): one JSON array,
        [officer, outcome, visited_at, attempt, status, version, recorded_at, note, [lat, lon,
        accuracy]], trailing nulls left out: ~80 bytes without note or position."""
        position = None if self.position is None else [self.position[k] for k in _POSITION]
        values: list[Any] = [
            self.officer_id,
            self.outcome,
            self.visited_at,
            self.attempt,
            self.status,
            self.version,
            self.recorded_at,
            self.note,
            position,
        ]
        while values[-1] is None:
            values.pop()
        return json.dumps(values, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def of_compact(cls, visit_id: str, text: str) -> VisitRecord:
        values = json.loads(text)
        officer_id, outcome, visited_at, attempt, status, version, *rest = values
        recorded_at, note, position = [*rest, None, None, None][:3]
        return cls(
            visit_id=visit_id,
            officer_id=officer_id,
            outcome=outcome,
            note=note,
            visited_at=visited_at,
            attempt=int(attempt),
            status=status,
            version=int(version),
            recorded_at=recorded_at,
            position=None if position is None else {k: float(v) for k, v in zip(_POSITION, position, strict=True)},
        )

    def item(self, kk: str) -> schema.VisitEntry:
        return schema.VisitEntry(
            schema.household_pk(kk),
            schema.visit_sk(self.visit_id),
            officer_id=self.officer_id,
            outcome=self.outcome,
            note=self.note,
            visited_at=self.visited_at,
            attempt=self.attempt,
            status=self.status,
            version=self.version,
            recorded_at=self.recorded_at,
            position=self.position,
        )


class VisitDue(msgspec.Struct, frozen=True):
    """A household (or an open report's case) on a village's backlog (the needs_visit index)."""

    kk: str  # for a case: its reference
    sls_code: str
    reference: str | None = None
    address: str | None = None
    head_name: str | None = None


class LiveStatus(msgspec.Struct, frozen=True):
    """A household's current status as an officer's worklist shows it."""

    kk: str
    status: str
    visit_attempts: int
    address: str | None = None
    head_name: str | None = None


class AssignmentRecord(msgspec.Struct, frozen=True):
    """A household on an officer's worklist."""

    kk: str
    sls_code: str
    officer_id: str
    area: str  # the area whose generation made it
    generated_at: str
    address: str | None = None  # copied from the household when the assignment is made
    head_name: str | None = None
    reference: str | None = None  # a report's field case (then `kk` is the reference too)

    @classmethod
    def of(cls, item: schema.Assignment) -> AssignmentRecord:
        return cls(
            item.kk,
            item.sls_code,
            item.officer_id,
            item.area,
            item.generated_at,
            item.address,
            item.head_name,
            item.reference,
        )

    def item(self) -> schema.Assignment:
        pk, sk = schema.assignment_key(self.sls_code, self.kk)
        return schema.Assignment(
            pk,
            sk,
            officer_id=self.officer_id,
            worklist_order=schema.worklist_order(self.sls_code, self.kk),
            kk=self.kk,
            sls_code=self.sls_code,
            area=self.area,
            generated_at=self.generated_at,
            reference=self.reference,
            address=self.address,
            head_name=self.head_name,
        )


class GenerationRecord(msgspec.Struct, frozen=True):
    """An area's last worklist generation and its summary."""

    area: str
    generated_at: str
    generated_by: str
    households: int
    officers: int
    summary: list[dict[str, Any]]


class RosterRecord(msgspec.Struct, frozen=True):
    officer: str
    role: str
    area: str


class OfficerRecord(msgspec.Struct, frozen=True):
    officer_id: str
    name: str
    role: str
    areas: tuple[str, ...]


class ProgressRecord(msgspec.Struct, frozen=True):
    """One SLS's counters (every name in schema.PROGRESS_FIELDS)."""

    sls_code: str
    counts: dict[str, int]


class RollupRecord(msgspec.Struct, frozen=True):
    """An area's figures and its children's (PROGRESS_FIELDS each), as summed at `as_of`."""

    area_code: str
    as_of: str
    sls: int
    figures: dict[str, int]
    children: dict[str, dict[str, int]]


class AreaRecord(msgspec.Struct, frozen=True):
    """An entry of the area master list."""

    code: str
    name: str
    parent: str | None


class ReportRecord(msgspec.Struct, frozen=True):
    """A household's report that the register missed it, and how the field resolved it."""

    reference: str
    kk: str
    reporter_nik: str
    head_name: str
    address: str
    sls_code: str
    phone: str | None
    filed_at: str
    status: str  # open | resolved
    resolution: str | None = None
    resolution_reason: str | None = None
    resolved_kk: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = None
    visit_attempts: int = 0

    @classmethod
    def of(cls, item: schema.MissingReport) -> ReportRecord:
        return cls(
            reference=item.pk.removeprefix(schema.report_pk("")),
            kk=item.kk,
            reporter_nik=item.reporter_nik,
            head_name=item.head_name,
            address=item.address,
            sls_code=item.sls_code,
            phone=item.phone,
            filed_at=item.filed_at,
            status=item.status,
            resolution=item.resolution,
            resolution_reason=item.resolution_reason,
            resolved_kk=item.resolved_kk,
            resolved_at=item.resolved_at,
            resolved_by=item.resolved_by,
            visit_attempts=int(item.visit_attempts or 0),
        )


class HouseholdTally(msgspec.Struct, frozen=True):
    """What one household contributes to its SLS's progress counters (a recount)."""

    sls_code: str
    status: str
    on_worklist: bool  # META carries the needs_visit index keys
    responded_online: bool  # its first version came in online
    in_review: bool = False  # META carries the review_queue index keys


class TableCount(msgspec.Struct):
    """What one recount Scan of the table found."""

    households: list[HouseholdTally] = msgspec.field(default_factory=list)
    counters: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)  # as stored, per SLS
    items_read: int = 0
    responded: int = 0  # households (in the area) with at least one version
    receipts: int = 0  # RECEIPT items (the whole table: a receipt names no area)


class AuditRecord(msgspec.Struct, frozen=True):
    """One staff action: identifiers and counts only (shared/audit.py builds them)."""

    at: str  # ISO 8601 UTC, milliseconds
    action: str
    actor: str  # officer id, or "schedule"
    area_code: str  # the SLS of a household action, the area of an area action
    kk: str | None = None
    details: dict[str, Any] = msgspec.field(default_factory=dict)
    record_id: str = msgspec.field(default_factory=lambda: uuid.uuid4().hex[:12])

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


class QueueEntry(msgspec.Struct, frozen=True):
    """A household awaiting review, as the review_queue index has it."""

    kk: str
    sls_code: str
    flagged_at: str
    version: int
    status: str
    reasons: tuple[str, ...]


class DecisionRecord(msgspec.Struct, frozen=True):
    decision: str
    version: int
    decided_by: str
    decided_at: str
    note: str | None
