"""The table's items (PynamoDB models) and every key format: the one file that knows how
a key string is spelled. Builders make keys from domain values, parsers read domain values
back out of them; nothing outside `shared.store` touches a key (a unit test checks)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
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


class NeedsVisitIndex(GlobalSecondaryIndex["HouseholdState"]):
    class Meta:
        index_name = "needs_visit"
        # Status and attempts for the worklist page's live status (one range Query), address
        # and head's name for generation to copy onto the assignments.
        projection = IncludeProjection(["kind", "status", "visit_attempts", "address", "head_name"])

    visit_area = UnicodeAttribute(hash_key=True)
    visit_order = UnicodeAttribute(range_key=True)


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
    # The Idempotency-Keys of this household's recent versions: key digest -> "<version>:<expires
    # epoch>". Replaces a separate idempotency item (docs/decisions/0012): the version's own
    # conditional write makes concurrent retries collide, and a retry finds its version here.
    idempotency = MapAttribute[str, str](null=True)
    needs_visit = NeedsVisitIndex()


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
    members = ListAttribute(of=MapAttribute)
    departed = ListAttribute(of=MapAttribute, null=True)  # register members left out, with reasons
    idempotency_key = UnicodeAttribute(null=True)
    request_hash = UnicodeAttribute(null=True)  # what the key stood for (a retry with another body: 422)


class Credential(CensusItem, discriminator="credential"):
    password_hash = UnicodeAttribute()
    set_at = UnicodeAttribute()


class Draft(CensusItem, discriminator="draft"):
    body = UnicodeAttribute()  # the partial response as JSON
    etag = UnicodeAttribute()  # "<household version>.<save>": never reused after a submission
    saved_at = UnicodeAttribute()
    expires_at = NumberAttribute()  # the end of the online phase; the table's TTL attribute


class PasswordReset(CensusItem, discriminator="password_reset"):
    reset_by = UnicodeAttribute()  # officer id
    reset_at = UnicodeAttribute()


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
    imports = UnicodeSetAttribute(null=True)  # register-import batches already counted


class AreaMarker(CensusItem, discriminator="area_marker"):
    pass


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
    PublishedTable,
    ReviewFlag,
)


# ---------------------------------------------------------------- keys

META_SK, REGISTER_SK, RECEIPT_SK = "META", "REGISTER", "RECEIPT"
CREDENTIAL_SK, DRAFT_SK = "META#CREDENTIAL", "META#DRAFT"
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


def idempotency_sk(key: str) -> str:
    return f"IDEM#{key}"


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
