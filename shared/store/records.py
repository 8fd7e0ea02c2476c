"""What the store hands to the domain and takes from it: frozen records with domain
names (a KK, a visit id, an SLS code), never keys or raw DynamoDB attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.store import schema


@dataclass(frozen=True)
class MemberRecord:
    nik: str
    name: str
    sex: str
    birth_date: str
    relationship: str


@dataclass(frozen=True)
class RegisterRecord:
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


@dataclass(frozen=True)
class HouseholdRecord:
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
    # Idempotency-Keys of recent versions as stored (key digest -> "<version>:<expires>"):
    # read by shared.store.submissions only.
    idempotency: dict[str, str] = field(default_factory=dict, repr=False)

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
            idempotency={}
            if item.idempotency is None
            else {str(k): str(v) for k, v in item.idempotency.as_dict().items()},
        )


@dataclass(frozen=True)
class CredentialRecord:
    password_hash: str
    set_at: str


@dataclass(frozen=True)
class DraftRecord:
    body: str  # the partial response as JSON
    etag: str
    saved_at: str
    expires_at: int  # epoch seconds


@dataclass(frozen=True)
class ReceiptRecord:
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


@dataclass(frozen=True)
class VersionRecord:
    """One stored response version."""

    version: int
    channel: str
    status: str
    submitted_at: str
    review_reasons: list[str]
    members: list[dict[str, Any]]
    departed: list[dict[str, Any]] = field(default_factory=list)

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


@dataclass(frozen=True)
class ReplayRecord:
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


@dataclass(frozen=True)
class VisitRecord:
    """A field visit to a household."""

    visit_id: str
    officer_id: str
    outcome: str
    note: str | None
    visited_at: str
    attempt: int
    status: str
    version: int

    @classmethod
    def of(cls, item: schema.VisitEntry) -> VisitRecord:
        return cls(
            visit_id=schema.visit_id_of(item.sk),
            officer_id=item.officer_id,
            outcome=item.outcome,
            note=item.note,
            visited_at=item.visited_at,
            attempt=int(item.attempt),
            status=item.status,
            version=int(item.version),
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
        )


@dataclass(frozen=True)
class VisitDue:
    """A household on a village's backlog (the needs_visit index)."""

    kk: str
    sls_code: str
    address: str | None = None
    head_name: str | None = None


@dataclass(frozen=True)
class LiveStatus:
    """A household's current status as an officer's worklist shows it."""

    kk: str
    status: str
    visit_attempts: int
    address: str | None = None
    head_name: str | None = None


@dataclass(frozen=True)
class AssignmentRecord:
    """A household on an officer's worklist."""

    kk: str
    sls_code: str
    officer_id: str
    area: str  # the area whose generation made it
    generated_at: str
    address: str | None = None  # copied from the household when the assignment is made
    head_name: str | None = None

    @classmethod
    def of(cls, item: schema.Assignment) -> AssignmentRecord:
        return cls(item.kk, item.sls_code, item.officer_id, item.area, item.generated_at, item.address, item.head_name)

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
            address=self.address,
            head_name=self.head_name,
        )


@dataclass(frozen=True)
class GenerationRecord:
    """An area's last worklist generation and its summary."""

    area: str
    generated_at: str
    generated_by: str
    households: int
    officers: int
    summary: list[dict[str, Any]]


@dataclass(frozen=True)
class RosterRecord:
    officer: str
    role: str
    area: str


@dataclass(frozen=True)
class OfficerRecord:
    officer_id: str
    name: str
    role: str
    areas: tuple[str, ...]


@dataclass(frozen=True)
class ProgressRecord:
    """One SLS's counters (every name in schema.PROGRESS_FIELDS)."""

    sls_code: str
    counts: dict[str, int]


@dataclass(frozen=True)
class HouseholdTally:
    """What one household contributes to its SLS's progress counters (a recount)."""

    sls_code: str
    status: str
    on_worklist: bool  # META carries the needs_visit index keys
    responded_online: bool  # its first version came in online


@dataclass
class TableCount:
    """What one recount Scan of the table found."""

    households: list[HouseholdTally] = field(default_factory=list)
    counters: dict[str, dict[str, int]] = field(default_factory=dict)  # as stored, per SLS
    items_read: int = 0
    responded: int = 0  # households (in the area) with at least one version
    receipts: int = 0  # RECEIPT items (the whole table: a receipt names no area)
