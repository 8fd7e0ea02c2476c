"""The table's items (PynamoDB models) and every key format: the one file that knows how
a key string is spelled. Builders make keys from domain values, parsers read domain values
back out of them; nothing outside `shared.store` touches a key (a unit test checks)."""

from __future__ import annotations

import zlib
from typing import Any

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.constants import BINARY, LIST, MAP, STRING
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from shared.areas import village_of
from shared.store.client import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS


class CensusItem(Model):
    """Base of every item in the census table; `kind` tells the item types apart."""

    class Meta:
        table_name = "census"
        region = "ap-southeast-3"
        host: str | None = None
        # Short timeouts: an answer within the API's time, else a clear retryable error.
        # Set by bind() from CONNECT_TIMEOUT_SECONDS / READ_TIMEOUT_SECONDS / RETRIES.
        connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS
        read_timeout_seconds: float = READ_TIMEOUT_SECONDS
        max_retry_attempts = 3  # batch writes' rounds for unprocessed items (client retries: RETRIES)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()


class CompressedTextAttribute(Attribute[str]):
    """Text (JSON) stored as one zlib-compressed binary value: a 5-member draft's body shrinks
    from ~1.3 KB to ~0.4 KB, so its write is 1 unit, not 2 (docs/decisions/0018). Reads the
    plain string written before it too, so stored items need no migration."""

    attr_type = BINARY

    def serialize(self, value: str) -> bytes:
        return zlib.compress(value.encode("utf-8"), 9)

    def get_value(self, value: dict[str, Any]) -> Any:
        return value[STRING] if STRING in value else super().get_value(value)

    def deserialize(self, value: bytes | str) -> str:
        return value if isinstance(value, str) else zlib.decompress(value).decode("utf-8")


class RowsAttribute(Attribute[list[dict[str, Any]]]):
    """A list of dicts of known fields (a version's members, its departed), each stored as ONE
    string of its values in `fields` order, joined by "|": no attribute names repeated per
    element, so a 5-member version is ~0.7 KB instead of ~1.5 KB (one write unit, not two;
    docs/decisions/0018). Still a DynamoDB list, so the analytics SQL (DuckDB and Athena,
    shared/analytics/sql/export) reads it with `split_part` from the table's export. None is
    stored as "", a bool as "1"/"0"; the last field (a name) may hold "|" itself. A dict that
    does not fit (other keys, a "|" or "" in an earlier value) is stored as a map, as every
    element was before: both are read, so stored items need no migration."""

    attr_type = LIST

    def __init__(self, fields: tuple[str, ...], booleans: frozenset[str] = frozenset(), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields, self.booleans = fields, booleans
        self._maps = ListAttribute(of=MapAttribute)

    def _row(self, row: dict[str, Any]) -> str | None:
        if set(row) != set(self.fields):
            return None
        values = []
        for name in self.fields:
            value = row[name]
            if name in self.booleans:
                if not isinstance(value, bool):
                    return None
                values.append("1" if value else "0")
            elif value is None:
                values.append("")
            elif not isinstance(value, str) or value == "" or ("|" in value and name != self.fields[-1]):
                return None
            else:
                values.append(value)
        return "|".join(values)

    def serialize(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stored = []
        for row in value:
            text = self._row(row)
            stored.append({STRING: text} if text is not None else self._maps.serialize([row])[0])
        return stored

    def deserialize(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for element in value:
            if STRING not in element:
                rows.append(dict(self._maps.deserialize([{MAP: element[MAP]}])[0]))
                continue
            parts = element[STRING].split("|", len(self.fields) - 1)
            rows.append(
                {
                    name: (part == "1") if name in self.booleans else (part or None)
                    for name, part in zip(self.fields, parts, strict=True)
                }
            )
        return rows


# The stored order of a member's answers: what the analytics SQL reads by position (the name
# last, never read there). Adding a field: append it before `name` and in the SQL.
MEMBER_ROW = (
    "nik",
    "relationship",
    "sex",
    "birth_date",
    "marital_status",
    "religion",
    "education",
    "citizenship",
    "lives_at_kk_address",
    "current_area_code",
    "added_because",
    "from_register",
    "name",
)
DEPARTED_ROW = ("nik", "reason")


class NeedsVisitIndex(GlobalSecondaryIndex["HouseholdState"]):
    class Meta:
        index_name = "needs_visit"
        # Status and attempts for the worklist page's live status (one range Query), address
        # and head's name for generation to copy onto the assignments.
        projection = IncludeProjection(["kind", "status", "visit_attempts", "address", "head_name"])

    visit_area = UnicodeAttribute(hash_key=True)
    visit_order = UnicodeAttribute(range_key=True)


class ReviewQueueIndex(GlobalSecondaryIndex["HouseholdState"]):
    """Sparse: only households awaiting a supervisor's review carry `review_area` (their
    regency) and `review_order` (`<flagged_at>#<kk>`): the queue, oldest first, is one Query."""

    class Meta:
        index_name = "review_queue"
        projection = IncludeProjection(["kind", "status", "version", "sls_code", "review_reasons"])

    review_area = UnicodeAttribute(hash_key=True)
    review_order = UnicodeAttribute(range_key=True)


class ByOfficerIndex(GlobalSecondaryIndex["Assignment"]):
    class Meta:
        index_name = "by_officer"
        projection = AllProjection()

    officer_id = UnicodeAttribute(hash_key=True)
    worklist_order = UnicodeAttribute(range_key=True)


class HouseholdState(CensusItem, discriminator="household"):
    status = UnicodeAttribute()
    version = NumberAttribute(default=0)
    sls_code = UnicodeAttribute()
    receipt_code = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    first_submitted_at = UnicodeAttribute(null=True)
    last_submitted_at = UnicodeAttribute(null=True)
    member_count = NumberAttribute(null=True)
    visit_area = UnicodeAttribute(null=True)
    visit_order = UnicodeAttribute(null=True)
    visit_attempts = NumberAttribute(default=0)
    # Copied from the register at import: a worklist page shows them without a second read.
    address = UnicodeAttribute(null=True)
    head_name = UnicodeAttribute(null=True)
    import_batch = UnicodeAttribute(null=True)  # the register-import batch that created it
    # Not on the register: enrolled by an officer (from a resident's report, or found in the field).
    enrolled_in_field = BooleanAttribute(null=True)
    # A household found in the field: the digest of the Idempotency-Key that created it, so
    # only a retry of that request may go on to store its first version.
    enrolment_key = UnicodeAttribute(null=True)
    # The Idempotency-Keys of this household's recent versions: key digest -> "<version>:<expires
    # epoch>". Replaces a separate idempotency item (docs/decisions/0012): the version's own
    # conditional write makes concurrent retries collide, and a retry finds its version here.
    idempotency = MapAttribute[str, str](null=True)
    # Failed visits (not home, refused, ...), recorded by one conditional update of META
    # (docs/decisions/0018): visit id -> VisitRecord.compact(), ~80 bytes each. Interviews
    # and visits stored before keep their own `VISIT#` items.
    visits = MapAttribute[str, str](null=True)
    # While the household awaits a supervisor's review (shared/review.py): the sparse
    # review_queue index's keys, and why it was flagged (for filtering the queue).
    review_area = UnicodeAttribute(null=True)
    review_order = UnicodeAttribute(null=True)
    review_reasons = ListAttribute(of=UnicodeAttribute, null=True)
    needs_visit = NeedsVisitIndex()
    review_queue = ReviewQueueIndex()


class RegisterMember(MapAttribute[str, Any]):
    nik = UnicodeAttribute()
    name = UnicodeAttribute()
    sex = UnicodeAttribute()
    birth_date = UnicodeAttribute()
    relationship = UnicodeAttribute()


class HouseholdRegister(CensusItem, discriminator="register"):
    address = UnicodeAttribute()
    sls_code = UnicodeAttribute()
    head_nik = UnicodeAttribute()
    members = ListAttribute(of=RegisterMember)


class ResponseVersion(CensusItem, discriminator="version"):
    version = NumberAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()
    submitted_at = UnicodeAttribute()
    respondent_nik = UnicodeAttribute()
    review_reasons = ListAttribute(of=UnicodeAttribute, default=list)
    members = RowsAttribute(MEMBER_ROW, frozenset({"lives_at_kk_address", "from_register"}))
    departed = RowsAttribute(DEPARTED_ROW, null=True)  # register members left out, with reasons
    idempotency_key = UnicodeAttribute(null=True)
    request_hash = UnicodeAttribute(null=True)  # what the key stood for (a retry with another body: 422)


class Credential(CensusItem, discriminator="credential"):
    password_hash = UnicodeAttribute()
    set_at = UnicodeAttribute()


class Draft(CensusItem, discriminator="draft"):
    body = CompressedTextAttribute()  # the partial response as JSON
    etag = UnicodeAttribute()  # "<household version>.<save>": never reused after a submission
    saved_at = UnicodeAttribute()
    expires_at = NumberAttribute()  # the end of the online phase; the table's TTL attribute


class PasswordReset(CensusItem, discriminator="password_reset"):
    reset_by = UnicodeAttribute()  # officer id
    reset_at = UnicodeAttribute()


class ResetCode(CensusItem, discriminator="reset_code"):
    """A supervisor's pending password reset (`META#RESET`): the one-time code's hash and
    expiry. While it exists the household can be claimed only with the code."""

    code_hash = UnicodeAttribute()
    expires_at_iso = UnicodeAttribute()
    reset_by = UnicodeAttribute()
    reset_at = UnicodeAttribute()


class ReviewDecision(CensusItem, discriminator="review_decision"):
    """A supervisor's decision on a flagged response (`REVIEW#<at>`), with their note: in the
    household's own partition, beside its personal data (the audit record carries no note)."""

    decision = UnicodeAttribute()
    version = NumberAttribute()
    decided_by = UnicodeAttribute()
    decided_at = UnicodeAttribute()
    note = UnicodeAttribute(null=True)


class AuditEntry(CensusItem, discriminator="audit"):
    """One staff action, append-only: identifiers only (officer ids, KK, area codes, counts),
    never a name, NIK, address or free text. Keys: `audit_keys` below."""

    at = UnicodeAttribute()
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    area_code = UnicodeAttribute()
    kk = UnicodeAttribute(null=True)
    details = UnicodeAttribute(default="{}")  # JSON object of identifiers and counts


class ProgressSnapshot(CensusItem, discriminator="snapshot"):
    """An area's progress figures at the end of a day (`SNAP#<area>`, sk the day)."""

    households = NumberAttribute(default=0)
    responded_online = NumberAttribute(default=0)
    clean = NumberAttribute(default=0)
    needs_review = NumberAttribute(default=0)
    interviewed = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    to_visit = NumberAttribute(default=0)
    awaiting_review = NumberAttribute(default=0)
    taken_at = UnicodeAttribute()


class ProgressRollup(CensusItem, discriminator="rollup"):
    """A large area's figures and each child's, summed from the per-SLS counters by a schedule
    every few minutes (`ROLLUP#<area>`, sk `ROLLUP`): opening a regency or a province is one
    GetItem, not a Query of thousands of counters. Figures as JSON objects of
    PROGRESS_FIELDS: one small item (a province's ~40 regencies: a few KB)."""

    as_of = UnicodeAttribute()
    sls = NumberAttribute()  # how many SLS counters were summed
    figures = UnicodeAttribute()  # {"households": n, ...}
    children = UnicodeAttribute()  # {"<child code>": {"households": n, ...}, ...}


class Receipt(CensusItem, discriminator="receipt"):
    kk = UnicodeAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute()
    channel = UnicodeAttribute()
    first_submitted_at = UnicodeAttribute()
    last_submitted_at = UnicodeAttribute()
    member_count = NumberAttribute()


class IdempotencyRecord(CensusItem, discriminator="idempotency"):
    """Before docs/decisions/0012: one item per Idempotency-Key. No longer written; items
    left from before expire by the table's TTL."""

    request_hash = UnicodeAttribute()
    receipt_code = UnicodeAttribute()
    version = NumberAttribute()
    status = UnicodeAttribute()
    submitted_at = UnicodeAttribute()
    created = BooleanAttribute()
    expires_at = NumberAttribute()  # epoch seconds; the table's TTL attribute


class GuessCounter(CensusItem, discriminator="lockout"):
    failures = NumberAttribute(default=0)
    expires_at = NumberAttribute()  # end of the window, epoch seconds; the table's TTL attribute


class VisitEntry(CensusItem, discriminator="visit"):
    officer_id = UnicodeAttribute()
    outcome = UnicodeAttribute()
    note = UnicodeAttribute(null=True)
    visited_at = UnicodeAttribute()
    attempt = NumberAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute()
    # Paradata from the phone: when the officer recorded it, and (with consent) where:
    # {"lat", "lon", "accuracy"}. For supervisors; never logged.
    recorded_at = UnicodeAttribute(null=True)
    position = MapAttribute[str, Any](null=True)


class OfficerProfile(CensusItem, discriminator="officer"):
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    areas = ListAttribute(of=UnicodeAttribute)


class RosterEntry(CensusItem, discriminator="roster"):
    officer = UnicodeAttribute()
    role = UnicodeAttribute()
    area = UnicodeAttribute()


class Assignment(CensusItem, discriminator="assignment"):
    officer_id = UnicodeAttribute()
    worklist_order = UnicodeAttribute()
    kk = UnicodeAttribute()
    sls_code = UnicodeAttribute()
    area = UnicodeAttribute()  # the area whose generation made it
    generated_at = UnicodeAttribute()
    reference = UnicodeAttribute(null=True)  # a field case from a resident's report: its reference
    # Copied from the needs_visit index at generation: the page shows them without reading META.
    address = UnicodeAttribute(null=True)
    head_name = UnicodeAttribute(null=True)
    by_officer = ByOfficerIndex()


class WorklistGeneration(CensusItem, discriminator="generation"):
    generated_at = UnicodeAttribute()
    generated_by = UnicodeAttribute()
    households = NumberAttribute()
    officers = NumberAttribute()
    summary = ListAttribute(of=MapAttribute)


PROGRESS_FIELDS = (
    "households",
    "pending",
    "clean",
    "needs_review",
    "interviewed",
    "not_home",
    "refused",
    "moved",
    "responded_online",
    "to_visit",
    "awaiting_review",
    # Field outcomes at addresses (statuses of register households).
    "address_not_found",
    "not_residential",
    "duplicate",
    # Open reports of households the register missed (a gauge: +1 filed, -1 resolved), and
    # households enrolled in the field (from a report or found on the spot).
    "reported",
    "enrolled",
)


class ProgressCounter(CensusItem, discriminator="progress"):
    households = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    clean = NumberAttribute(default=0)
    needs_review = NumberAttribute(default=0)
    interviewed = NumberAttribute(default=0)
    not_home = NumberAttribute(default=0)
    refused = NumberAttribute(default=0)
    moved = NumberAttribute(default=0)
    responded_online = NumberAttribute(default=0)
    to_visit = NumberAttribute(default=0)
    awaiting_review = NumberAttribute(default=0)  # in the review queue (needs_review, undecided)
    address_not_found = NumberAttribute(default=0)
    not_residential = NumberAttribute(default=0)
    duplicate = NumberAttribute(default=0)
    reported = NumberAttribute(default=0)
    enrolled = NumberAttribute(default=0)
    imports = UnicodeSetAttribute(null=True)  # register-import batches already counted


class AreaMarker(CensusItem, discriminator="area_marker"):
    pass


class AreaName(CensusItem, discriminator="area_name"):
    """One entry of the area master list, in its parent's partition: children are one Query."""

    name = UnicodeAttribute()


class CaseIndex(GlobalSecondaryIndex["MissingReport"]):
    """The needs_visit index, as open report cases use it (their own `CASE#<village>` partitions)."""

    class Meta:
        index_name = "needs_visit"
        projection = IncludeProjection(["kind", "status", "visit_attempts"])

    visit_area = UnicodeAttribute(hash_key=True)
    visit_order = UnicodeAttribute(range_key=True)


class MissingReport(CensusItem, discriminator="report"):
    """A household's report that it is missing from the register (`REPORT#<reference>`).
    Open reports carry the needs_visit keys (`CASE#<village>`, `<sls>#<reference>`)."""

    kk = UnicodeAttribute()  # as printed on the family card: maybe on the register, maybe not
    reporter_nik = UnicodeAttribute()
    head_name = UnicodeAttribute()
    address = UnicodeAttribute()
    sls_code = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    filed_at = UnicodeAttribute()
    status = UnicodeAttribute()  # open | resolved
    resolution = UnicodeAttribute(null=True)  # enrolled | matched | not_found
    resolution_reason = UnicodeAttribute(null=True)
    resolved_kk = UnicodeAttribute(null=True)  # the household enrolled or matched
    resolved_at = UnicodeAttribute(null=True)
    resolved_by = UnicodeAttribute(null=True)
    visit_attempts = NumberAttribute(default=0)
    visit_area = UnicodeAttribute(null=True)
    visit_order = UnicodeAttribute(null=True)
    needs_visit = CaseIndex()


class ReportKey(CensusItem, discriminator="report_key"):
    """A report's Idempotency-Key (`REPORT#KEY#<hash of KK and key>`): retries file once."""

    request_hash = UnicodeAttribute()
    reference = UnicodeAttribute()
    expires_at = NumberAttribute()  # the table's TTL attribute


class RateCounter(CensusItem, discriminator="rate"):
    """Requests in the current window (`RATE#<what>#<whom>`), for the reports' rate limits."""

    requests = NumberAttribute(default=0)
    expires_at = NumberAttribute()  # end of the window; the table's TTL attribute


class ImportCheckpoint(CensusItem, discriminator="import"):
    next_line = NumberAttribute()
    households = NumberAttribute(default=0)
    done = BooleanAttribute(default=False)


class PublishedTable(CensusItem, discriminator="published_table"):
    """A published (suppressed) population table of one area (shared.published_tables)."""

    body = UnicodeAttribute()  # JSON: the area's rows and its child areas'
    reference_date = UnicodeAttribute()
    published_at = UnicodeAttribute()


class ReviewFlag(CensusItem, discriminator="review_flag"):
    """A check's reason to review a household (shared.review_flags): which other household,
    on which version; supervisors see it, no resident route reads it."""

    reason = UnicodeAttribute()
    other_kk = UnicodeAttribute()
    version = NumberAttribute()
    nik = UnicodeAttribute()
    flagged_at = UnicodeAttribute()
    flagged_by = UnicodeAttribute()


MODELS: tuple[type[CensusItem], ...] = (
    CensusItem,
    HouseholdState,
    HouseholdRegister,
    ResponseVersion,
    Credential,
    Draft,
    PasswordReset,
    ResetCode,
    ReviewDecision,
    AuditEntry,
    ProgressSnapshot,
    ProgressRollup,
    Receipt,
    IdempotencyRecord,
    GuessCounter,
    VisitEntry,
    OfficerProfile,
    RosterEntry,
    Assignment,
    WorklistGeneration,
    ProgressCounter,
    AreaMarker,
    ImportCheckpoint,
    AreaName,
    MissingReport,
    ReportKey,
    RateCounter,
    PublishedTable,
    ReviewFlag,
)


# ---------------------------------------------------------------- keys

META_SK, REGISTER_SK, RECEIPT_SK = "META", "REGISTER", "RECEIPT"
CREDENTIAL_SK, DRAFT_SK, RESET_CODE_SK = "META#CREDENTIAL", "META#DRAFT", "META#RESET"
LOCK_SK, PROFILE_SK, WORKLISTS_SK, IMPORT_SK = "LOCK", "PROFILE", "WORKLISTS", "IMPORT"
_HOUSEHOLD, _RECEIPT, _OFFICER = "HH#", "RECEIPT#", "OFFICER#"
VERSION_PREFIX, VISIT_PREFIX, RESET_PREFIX = "V#", "VISIT#", "RESET#"


TABLES_PREFIX, FLAG_PREFIX = "TABLES#", "FLAG#"


def tables_key(area: str, table: str) -> tuple[str, str]:
    """A published table: the area's partition ("" is the whole country), the table's name."""
    return f"{TABLES_PREFIX}{area or 'NATIONAL'}", table


def flag_sk(reason: str, other_kk: str, version: int) -> str:
    """Sorts before META: outside the Query that proves a household."""
    return f"{FLAG_PREFIX}{reason}#{other_kk}#v{version:010d}"


def household_pk(kk: str) -> str:
    return f"{_HOUSEHOLD}{kk}"


def kk_of(pk: str) -> str:
    """The KK of a household partition key (`HH#<kk>`)."""
    return pk.removeprefix(_HOUSEHOLD)


def receipt_pk(code: str) -> str:
    return f"{_RECEIPT}{code}"


def receipt_code_of(pk: str) -> str:
    return pk.removeprefix(_RECEIPT)


def version_sk(version: int) -> str:
    return f"{VERSION_PREFIX}{version:010d}"


def lock_pk(kk: str) -> str:
    return f"LOCK#{kk}"


def visit_sk(visit_id: str) -> str:
    return f"{VISIT_PREFIX}{visit_id}"


def visit_id_of(sk: str) -> str:
    return sk.removeprefix(VISIT_PREFIX)


def reset_sk(reset_at: str) -> str:
    return f"{RESET_PREFIX}{reset_at}"


def visit_keys(sls_code: str, kk: str) -> tuple[str, str]:
    """The sparse `needs_visit` index keys: partitioned by village, sorted by SLS then KK,
    so a worklist reads one village's backlog in SLS order."""
    return village_of(sls_code), worklist_order(sls_code, kk)


def worklist_order(sls_code: str, kk: str) -> str:
    """`<sls>#<kk>`: the sort key of the needs_visit index, of assignments and of by_officer."""
    return f"{sls_code}#{kk}"


def parse_worklist_order(order: str) -> tuple[str, str]:
    """(sls_code, kk) back out of `worklist_order`."""
    sls_code, kk = order.split("#", 1)
    return sls_code, kk


def officer_pk(officer_id: str) -> str:
    return f"{_OFFICER}{officer_id}"


def officer_id_of(pk: str) -> str:
    return pk.removeprefix(_OFFICER)


def roster_pk(area: str) -> str:
    return f"ROSTER#{area[:4]}"


def roster_sk(area: str, officer_id: str) -> str:
    return f"{area}#{officer_id}"


ASSIGNMENT_PREFIX = "ASSIGN#"


def assignment_key(sls_code: str, kk: str) -> tuple[str, str]:
    return f"{ASSIGNMENT_PREFIX}{village_of(sls_code)}", worklist_order(sls_code, kk)


def assignments_pk(village: str) -> str:
    return f"{ASSIGNMENT_PREFIX}{village}"


def generation_key(area: str) -> tuple[str, str]:
    return f"AREA#{area}", WORKLISTS_SK


def progress_pk(area: str) -> str:
    """`PROGRESS#<regency>` holds its SLS counters; `PROGRESS#<province>` its regencies' markers."""
    return f"PROGRESS#{area}"


def progress_key(sls_code: str) -> tuple[str, str]:
    """Counters live per SLS in their regency's partition: one area's Query reads them,
    and one SLS (~100 households) never sees enough concurrent writes to contend."""
    return progress_pk(sls_code[:4]), sls_code


def regency_marker_key(sls_code: str) -> tuple[str, str]:
    """The marker saying the SLS's regency has counters, in its province's partition."""
    return progress_pk(sls_code[:2]), sls_code[:4]


def import_key(import_id: str) -> tuple[str, str]:
    return f"IMPORT#{import_id}", IMPORT_SK


# ---------------------------------------------------------------- the supervisors' console

REVIEW_PREFIX, AUDIT_PREFIX, SNAPSHOT_PREFIX = "REVIEW#", "AUDIT#", "SNAP#"


def review_queue_keys(sls_code: str, kk: str, flagged_at: str) -> tuple[str, str]:
    """The sparse `review_queue` index keys: partitioned by regency, sorted by flag time, so a
    city's queue is one Query, oldest first. (A regency's flags arrive at a few a second at the
    national peak; an index partition takes 1,000 writes a second.)"""
    return sls_code[:4], f"{flagged_at}#{kk}"


def flagged_at_of(review_order: str) -> str:
    return review_order.split("#", 1)[0]


def review_decision_sk(decided_at: str, unique: str) -> str:
    return f"{REVIEW_PREFIX}{decided_at}#{unique}"


def household_audit_pk(kk: str) -> str:
    """One household's audit trail: `AUDIT#HH#<kk>`, sk `<at>#<id>`."""
    return f"{AUDIT_PREFIX}HH#{kk}"


def area_audit_pk(area: str, day: str) -> str:
    """Every action by area: one partition per regency and day, sk `<area>#<at>#<id>`."""
    return f"{AUDIT_PREFIX}{area[:4]}#{day}"


def area_audit_sk(area: str, at: str, record_id: str) -> str:
    return f"{area}#{at}#{record_id}"


def audit_id_of(sk: str) -> str:
    return sk.rsplit("#", 1)[-1]


def snapshot_pk(area: str) -> str:
    return f"{SNAPSHOT_PREFIX}{area}"


ROLLUP_PREFIX, ROLLUP_SK = "ROLLUP#", "ROLLUP"


def rollup_key(area: str) -> tuple[str, str]:
    """A regency's or province's rolled-up figures: `ROLLUP#<area>`, sk `ROLLUP`."""
    return f"{ROLLUP_PREFIX}{area}", ROLLUP_SK


# ---------------------------------------------------------------- areas by name, reports

AREAS_ROOT = "ROOT"  # the parent of the provinces
REPORT_SK, RATE_SK = "REPORT", "RATE"
_CASE = "CASE#"


def areas_pk(parent: str | None) -> str:
    """`AREAS#<parent>` holds the parent's children, sort key the child's code."""
    return f"AREAS#{parent or AREAS_ROOT}"


def report_pk(reference: str) -> str:
    return f"REPORT#{reference}"


def report_key_pk(digest: str) -> str:
    """An Idempotency-Key record of a report; `digest` is hex, never a reference's shape."""
    return f"REPORT#KEY#{digest}"


def rate_pk(scope: str, subject: str) -> str:
    """A rate counter: `RATE#<scope>#<subject>` (scope e.g. `REPORT-KK`, `REPORT-CLIENT`)."""
    return f"RATE#{scope}#{subject}"


def case_visit_keys(sls_code: str, reference: str) -> tuple[str, str]:
    """The needs_visit keys of an open report case: its village's own `CASE#` partition
    (households' backlog queries never read cases), sorted by SLS then reference."""
    return f"{_CASE}{village_of(sls_code)}", worklist_order(sls_code, reference)


def case_area(village: str) -> str:
    return f"{_CASE}{village}"
