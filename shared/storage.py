"""All DynamoDB access, and the single-table layout it writes.

One table, keys `pk`/`sk` (see `template.yaml`). A household's partition holds
everything about it, so one Query reads what intake needs and no national peak
funnels onto a shared key:

    pk=HH#<kk>        sk=META                 mutable state: status, version, receipt code
    pk=HH#<kk>        sk=META#CREDENTIAL      the household's password hash, once it set one
    pk=HH#<kk>        sk=META#DRAFT           the resident's saved draft (ETag, TTL at the
                                              end of the online phase)
    pk=HH#<kk>        sk=REGISTER             the register extract (address, SLS, members)
    pk=HH#<kk>        sk=V#<version:010d>     each stored response version, kept forever
    pk=HH#<kk>        sk=IDEM#<key>           idempotency record, written in the version's
                                              transaction, expires (TTL `expires_at`)
    pk=RECEIPT#<code> sk=RECEIPT              status by receipt: no personal data, one GetItem
    pk=LOCK#<kk>      sk=LOCK                 failed KK/NIK attempts in the current window
                                              (TTL); its own partition so that read-only
                                              functions may be granted writes to LOCK#* only
    pk=HH#<kk>        sk=VISIT#<id>           a field visit (outcome, note, officer)
    pk=HH#<kk>        sk=RESET#<time>         a supervisor's password reset (who, when)
    pk=HH#<kk>        sk=META#RESET           the pending reset's one-time code (hash, expiry)
    pk=HH#<kk>        sk=REVIEW#<time>        a supervisor's review decision, with its note
    pk=AUDIT#HH#<kk>  sk=<time>#<id>          audit trail of one household (append-only)
    pk=AUDIT#<reg>#<day> sk=<area>#<time>#<id> audit trail by area, one partition per regency
                                              and day (append-only; shared/audit_store.py)
    pk=SNAP#<area>    sk=<day>                the area's progress figures at the end of a day
    pk=OFFICER#<id>   sk=PROFILE              roster entry: role and covered areas
    pk=ROSTER#<reg>   sk=<area>#<officer>     who covers what, by regency (or province)
    pk=ASSIGN#<vill>  sk=<sls>#<kk>           worklist assignment; `officer_id` feeds the
                                              sparse `by_officer` index
    pk=AREA#<area>    sk=WORKLISTS            the area's last generation and its summary
    pk=PROGRESS#<reg> sk=<sls>                counters per SLS, updated in the same
                                              transaction as every status change
    pk=PROGRESS#<prov> sk=<regency>           which regencies have counters
    pk=IMPORT#<id>    sk=IMPORT               register-import checkpoint (resume)

META, META#CREDENTIAL, META#DRAFT, META#RESET and REGISTER sort together, so the one Query that
proves a household also reads its password hash and draft (and nothing else: RESET#,
V#, VISIT# sort after REGISTER, IDEM# before META).

META carries `visit_area`/`visit_order` only while the household needs a field visit,
which makes the `needs_visit` index sparse; `review_area`/`review_order` only while it
awaits a supervisor's review (the sparse `review_queue` index).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.session import get_session
from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.areas import village_of
from shared.errors import RetryableError
from shared.settings import Settings

_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
    # Transient on DynamoDB's side; botocore retried them already (see RETRIES).
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "RequestTimeout",
    "RequestTimeoutException",
}
# A TransactWriteItems cancelled for capacity, not for a condition: retry later.
_THROTTLED_CANCELLATIONS = {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"}

# Every DynamoDB client's settings (docs/security.md, "Retries and timeouts"). Standard
# mode, not adaptive: a Lambda container serves one request at a time, so adaptive's
# client-side rate limiter learns from too few calls and only adds sleeps; overload is
# shed by answering 503 + Retry-After instead. Three attempts with botocore's jittered
# backoff (at most 1 s, then 2 s) and the retry quota, which stops retrying when
# failures pile up. Worst case for one failing call: 3 x 2 s read timeout + 3 s of
# backoff = 9 s, inside the functions' 10 s timeout, so the client gets our 503, not a 502.
RETRIES: dict[str, Any] = {"mode": "standard", "total_max_attempts": 3}
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0


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
        projection = IncludeProjection(["kind", "status", "visit_attempts"])

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
    members = ListAttribute(of=MapAttribute)
    departed = ListAttribute(of=MapAttribute, null=True)  # register members left out, with reasons
    idempotency_key = UnicodeAttribute(null=True)


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
    never a name, NIK, address or free text. See shared/audit_store.py for the keys."""

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


class Receipt(CensusItem, discriminator="receipt"):
    kk = UnicodeAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute()
    channel = UnicodeAttribute()
    first_submitted_at = UnicodeAttribute()
    last_submitted_at = UnicodeAttribute()
    member_count = NumberAttribute()


class IdempotencyRecord(CensusItem, discriminator="idempotency"):
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
    imports = UnicodeSetAttribute(null=True)  # register-import batches already counted


class AreaMarker(CensusItem, discriminator="area_marker"):
    pass


class ImportCheckpoint(CensusItem, discriminator="import"):
    next_line = NumberAttribute()
    households = NumberAttribute(default=0)
    done = BooleanAttribute(default=False)


_MODELS: tuple[type[CensusItem], ...] = (
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
)


def household_pk(kk: str) -> str:
    return f"HH#{kk}"


def receipt_pk(code: str) -> str:
    return f"RECEIPT#{code}"


def version_sk(version: int) -> str:
    return f"V#{version:010d}"


def lock_pk(kk: str) -> str:
    return f"LOCK#{kk}"


def idempotency_sk(key: str) -> str:
    return f"IDEM#{key}"


META_SK, REGISTER_SK, RECEIPT_SK = "META", "REGISTER", "RECEIPT"
CREDENTIAL_SK, DRAFT_SK, RESET_CODE_SK = "META#CREDENTIAL", "META#DRAFT", "META#RESET"


def visit_keys(sls_code: str, kk: str) -> tuple[str, str]:
    """The sparse `needs_visit` index keys: partitioned by village, sorted by SLS then KK,
    so a worklist reads one village's backlog in SLS order."""
    return village_of(sls_code), f"{sls_code}#{kk}"


# ---------------------------------------------------------------- connection


_connection: Connection | None = None


def bind(
    settings: Settings,
    *,
    connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS,
    read_timeout_seconds: float = READ_TIMEOUT_SECONDS,
    retries: dict[str, Any] | None = None,
) -> None:
    """Point every model at the configured table and endpoint (AWS, DynamoDB Local or moto),
    with the client settings above (fault tests shorten the timeouts)."""
    global _connection
    import pynamodb.settings

    CensusItem.Meta.table_name = settings.table_name
    CensusItem.Meta.region = settings.region
    CensusItem.Meta.host = settings.dynamodb_endpoint_url
    CensusItem.Meta.connect_timeout_seconds = connect_timeout_seconds
    CensusItem.Meta.read_timeout_seconds = read_timeout_seconds
    # PynamoDB passes `retry_configuration` straight to botocore's Config(retries=...);
    # its model connections read it only from its settings.
    pynamodb.settings.default_settings_dict["retry_configuration"] = dict(retries or RETRIES)  # type: ignore[assignment]
    # One botocore session for every model's connection (PynamoDB gives each its own): the
    # first request then loads DynamoDB's service model once, not once per model used
    # (449 ms of CPU before, ~100 ms after; docs/performance.md). Other threads still get
    # sessions of their own, as PynamoDB intends (botocore's client creation is not thread-safe).
    session = get_session()
    for model in _MODELS:
        model._connection = None
        model._get_connection().connection._local.session = session
    _connection = None
    _transaction_connection()._local.session = session


def _transaction_connection() -> Connection:
    global _connection
    if _connection is None:
        meta = CensusItem.Meta
        _connection = Connection(
            region=meta.region,
            host=meta.host,
            connect_timeout_seconds=meta.connect_timeout_seconds,
            read_timeout_seconds=meta.read_timeout_seconds,
            max_retry_attempts=meta.max_retry_attempts,
            retry_configuration=pynamodb_retries(),
        )
    return _connection


def pynamodb_retries() -> Any:
    """The botocore retry settings bind() chose (also for connections made outside the models)."""
    import pynamodb.settings

    return pynamodb.settings.default_settings_dict["retry_configuration"]


class StoreBusy(RetryableError):
    code = "service_busy"
    message = "The database is busy; retry after the delay in the Retry-After header."


def store_busy(exc: BaseException) -> StoreBusy | None:
    """The retryable 503 for a DynamoDB fault - throttling, capacity, a transaction
    cancelled for throttling, DynamoDB's own 5xx, a connect or read timeout, a dropped
    connection - after botocore's retries; None for anything else (a bug: 500).
    Looks through `__cause__`, so a fault wrapped on its way up is still found."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, BotoCoreError):  # ReadTimeoutError, ConnectTimeoutError, EndpointConnectionError...
            return StoreBusy(retry_after=1)
        if isinstance(seen, ClientError) and seen.response.get("Error", {}).get("Code") in _THROTTLING:
            return StoreBusy(retry_after=2)
        if isinstance(seen, PynamoDBException):
            if isinstance(seen.cause, BotoCoreError):  # (cause_response_code fails on these)
                return StoreBusy(retry_after=1)
            if isinstance(seen.cause, ClientError) and seen.cause_response_code in _THROTTLING:
                return StoreBusy(retry_after=2)
            if isinstance(seen, TransactWriteError) and any(
                reason is not None and reason.code in _THROTTLED_CANCELLATIONS for reason in seen.cancellation_reasons
            ):
                return StoreBusy(retry_after=2)
        seen = seen.__cause__
    return None


def _condition_failed(exc: PynamoDBException) -> bool:
    """A failed ConditionExpression. (PynamoDB's cause_response_code itself raises when the
    cause is a timeout, whose `response` is None: check the cause's type first.)"""
    return isinstance(exc.cause, ClientError) and exc.cause_response_code == "ConditionalCheckFailedException"


def _busy_or_raise(exc: Exception) -> None:
    """Throttling and network faults become a retryable 503; anything else propagates."""
    busy = store_busy(exc)
    if busy is not None:
        raise busy from exc
    raise exc


# ---------------------------------------------------------------- reads


@dataclass(frozen=True)
class HouseholdSnapshot:
    state: HouseholdState
    register: HouseholdRegister
    credential: Credential | None = None
    draft: Draft | None = None
    reset: ResetCode | None = None  # a supervisor's pending reset: claimed only with its code


def load_household(kk: str) -> HouseholdSnapshot | None:
    """META, REGISTER and (when present) the password hash and draft in one strongly
    consistent Query (one request, one read unit for a household of typical size)."""
    try:
        items = list(
            CensusItem.query(
                household_pk(kk),
                CensusItem.sk.between(META_SK, REGISTER_SK),
                consistent_read=True,
            )
        )
    except (PynamoDBException, BotoCoreError) as exc:
        _busy_or_raise(exc)
        raise
    state = next((i for i in items if isinstance(i, HouseholdState)), None)
    register = next((i for i in items if isinstance(i, HouseholdRegister)), None)
    if state is None or register is None:
        return None
    credential = next((i for i in items if isinstance(i, Credential)), None)
    draft = next((i for i in items if isinstance(i, Draft)), None)
    reset = next((i for i in items if isinstance(i, ResetCode)), None)
    return HouseholdSnapshot(state, register, credential, draft, reset)


def get_idempotency_record(kk: str, key: str) -> IdempotencyRecord | None:
    try:
        return IdempotencyRecord.get(household_pk(kk), idempotency_sk(key), consistent_read=True)
    except IdempotencyRecord.DoesNotExist:
        return None
    except (PynamoDBException, BotoCoreError) as exc:
        _busy_or_raise(exc)
        raise


def get_receipt(code: str) -> Receipt | None:
    """The status-lookup item: one strongly consistent GetItem (1 read unit: it is < 4 KB),
    so a resident checking right after submitting never sees a stale answer."""
    try:
        return Receipt.get(receipt_pk(code), RECEIPT_SK, consistent_read=True)
    except Receipt.DoesNotExist:
        return None
    except (PynamoDBException, BotoCoreError) as exc:
        _busy_or_raise(exc)
        raise


# ---------------------------------------------------------------- guessing protection


@dataclass(frozen=True)
class Guesses:
    failures: int
    window_ends: int  # epoch seconds


def get_guesses(kk: str) -> Guesses | None:
    try:
        item = GuessCounter.get(lock_pk(kk), "LOCK", consistent_read=True)
    except GuessCounter.DoesNotExist:
        return None
    except (PynamoDBException, BotoCoreError) as exc:
        _busy_or_raise(exc)
        raise
    return Guesses(int(item.failures), int(item.expires_at))


def record_failed_guess(kk: str, now: int, window_seconds: int, *, below: int | None = None) -> Guesses | None:
    """Count one failure in the current window (atomic ADD), or open a new window. With
    `below`, only while the window has fewer failures than that: None when it has not, so
    a burst of parallel attempts cannot all pass a check made before any was counted."""
    counter = GuessCounter(lock_pk(kk), "LOCK")
    in_window = GuessCounter.expires_at > now
    if below is not None:
        in_window &= GuessCounter.failures < below
    try:
        try:
            counter.update(
                actions=[
                    GuessCounter.failures.add(1),
                    GuessCounter.expires_at.set(GuessCounter.expires_at | (now + window_seconds)),
                    GuessCounter.kind.set(GuessCounter),
                ],
                condition=GuessCounter.pk.does_not_exist() | in_window,
            )
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise
            current = get_guesses(kk)
            if below is not None and current is not None and current.window_ends > now:
                return None  # the window is full
            # The previous window is over: start a new one with this failure.
            counter = GuessCounter(lock_pk(kk), "LOCK", failures=1, expires_at=now + window_seconds)
            counter.save()
    except (PynamoDBException, BotoCoreError) as exc:
        _busy_or_raise(exc)
        raise
    return Guesses(int(counter.failures), int(counter.expires_at))


def clear_failed_guesses(kk: str) -> None:
    try:
        GuessCounter(lock_pk(kk), "LOCK").update(actions=[GuessCounter.failures.set(0)])
    except (PynamoDBException, BotoCoreError) as exc:
        _busy_or_raise(exc)
        raise


def list_versions(kk: str) -> list[ResponseVersion]:
    return [
        i
        for i in CensusItem.query(household_pk(kk), CensusItem.sk.startswith("V#"), consistent_read=True)
        if isinstance(i, ResponseVersion)
    ]


# ---------------------------------------------------------------- the submission transaction


class VersionConflict(Exception):
    """Another writer moved the household on since it was read: read again and retry."""


class IdempotentReplay(Exception):
    """The Idempotency-Key was already used: the stored record is the answer."""

    def __init__(self, record: IdempotencyRecord):
        super().__init__("idempotency key already used")
        self.record = record


class VisitReplay(Exception):
    """The visit (same Idempotency-Key) is already recorded."""


@dataclass(frozen=True)
class NewVersion:
    kk: str
    expected_version: int
    expected_status: str
    version: int
    status: str
    channel: str
    submitted_at: str
    first_submitted_at: str
    receipt_code: str
    receipt_is_new: bool
    respondent_nik: str
    members: list[dict[str, Any]]
    review_reasons: list[str]
    visit_keys: tuple[str, str] | None  # (visit_area, visit_order) while it needs a field visit
    idempotency_key: str | None
    request_hash: str
    created: bool
    idempotency_expires_at: int
    now_epoch: int
    sls_code: str = ""
    progress: dict[str, int] = field(default_factory=dict)  # counter deltas for the SLS
    visit: VisitEntry | None = None  # an interview also records the visit
    departed: list[dict[str, Any]] | None = None
    delete_draft: bool = False  # the household's draft is filed with this version
    # (review_area, review_order) while the version awaits a supervisor's review, and why.
    review_keys: tuple[str, str] | None = None
    # Audit records written in the same transaction (shared/audit_store.py).
    audit: tuple[CensusItem, ...] = ()


def save_version(new: NewVersion) -> None:
    """Store a response version and move the household, all or nothing.

    One transaction: the version item, META (conditional on the version and status that
    were read, so concurrent corrections cannot both win), the receipt item, and the
    idempotency record (conditional on absence, so concurrent retries store one version).
    """
    pk = household_pk(new.kk)
    version_item = ResponseVersion(
        pk,
        version_sk(new.version),
        version=new.version,
        channel=new.channel,
        status=new.status,
        submitted_at=new.submitted_at,
        respondent_nik=new.respondent_nik,
        review_reasons=new.review_reasons,
        members=new.members,
        departed=new.departed,
        idempotency_key=new.idempotency_key,
    )
    receipt = Receipt(
        receipt_pk(new.receipt_code),
        RECEIPT_SK,
        kk=new.kk,
        status=new.status,
        version=new.version,
        channel=new.channel,
        first_submitted_at=new.first_submitted_at,
        last_submitted_at=new.submitted_at,
        member_count=len(new.members),
    )
    meta = HouseholdState(pk, META_SK)
    meta_actions: list[Action] = [
        HouseholdState.status.set(new.status),
        HouseholdState.version.set(new.version),
        HouseholdState.receipt_code.set(new.receipt_code),
        HouseholdState.channel.set(new.channel),
        HouseholdState.first_submitted_at.set(new.first_submitted_at),
        HouseholdState.last_submitted_at.set(new.submitted_at),
        HouseholdState.member_count.set(len(new.members)),
    ]
    if new.visit is not None:
        meta_actions.append(HouseholdState.visit_attempts.add(1))
    if new.visit_keys is None:
        meta_actions += [HouseholdState.visit_area.remove(), HouseholdState.visit_order.remove()]
    else:
        meta_actions += [
            HouseholdState.visit_area.set(new.visit_keys[0]),
            HouseholdState.visit_order.set(new.visit_keys[1]),
        ]
    meta_actions += review_queue_actions(new.review_keys, new.review_reasons)
    meta_condition = (HouseholdState.version == new.expected_version) & (HouseholdState.status == new.expected_status)
    receipt_condition = Receipt.pk.does_not_exist() if new.receipt_is_new else (Receipt.kk == new.kk)

    record = None
    if new.idempotency_key is not None:
        record = IdempotencyRecord(
            pk,
            idempotency_sk(new.idempotency_key),
            request_hash=new.request_hash,
            receipt_code=new.receipt_code,
            version=new.version,
            status=new.status,
            submitted_at=new.submitted_at,
            created=new.created,
            expires_at=new.idempotency_expires_at,
        )
    # PynamoDB sends condition checks, deletes, puts, then updates; cancellation reasons
    # come back in that order, so this list names them.
    progress = _progress_actions(new.progress)
    items = [
        *(["draft"] if new.delete_draft else []),
        "version",
        "receipt",
        *(["idempotency"] if record else []),
        *(["visit"] if new.visit else []),
        *(["audit"] * len(new.audit)),
        "meta",
        *(["progress"] if progress else []),
    ]
    try:
        with TransactWrite(connection=_transaction_connection()) as tx:
            if new.delete_draft:
                tx.delete(Draft(pk, DRAFT_SK))
            tx.save(version_item, condition=ResponseVersion.pk.does_not_exist())
            tx.save(receipt, condition=receipt_condition)
            if record is not None:
                # An expired record counts as absent: TTL deletion can lag by days.
                tx.save(
                    record,
                    condition=IdempotencyRecord.pk.does_not_exist() | (IdempotencyRecord.expires_at < new.now_epoch),
                    return_values="ALL_OLD",
                )
            if new.visit is not None:
                tx.save(new.visit, condition=VisitEntry.pk.does_not_exist())
            for audit in new.audit:
                tx.save(audit, condition=CensusItem.pk.does_not_exist())
            tx.update(meta, actions=meta_actions, condition=meta_condition)
            if progress:
                tx.update(_progress_item(new.sls_code), actions=progress)
    except TransactWriteError as exc:
        _classify_cancellation(exc, items, new.idempotency_key, new.kk)
        raise  # pragma: no cover - _classify_cancellation always raises


def review_queue_actions(keys: tuple[str, str] | None, reasons: Sequence[str]) -> list[Action]:
    """META's review-queue attributes: set while it awaits review, removed otherwise."""
    if keys is None:
        return [
            HouseholdState.review_area.remove(),
            HouseholdState.review_order.remove(),
            HouseholdState.review_reasons.remove(),
        ]
    return [
        HouseholdState.review_area.set(keys[0]),
        HouseholdState.review_order.set(keys[1]),
        HouseholdState.review_reasons.set(list(reasons)),  # type: ignore[arg-type]
    ]


def _classify_cancellation(exc: TransactWriteError, items: Sequence[str], key: str | None, kk: str) -> None:
    reasons = exc.cancellation_reasons
    by_item = {name: (reasons[i] if i < len(reasons) else None) for i, name in enumerate(items)}
    codes = {name: (r.code if r else None) for name, r in by_item.items()}
    idem = by_item.get("idempotency")
    if idem is not None and idem.code == "ConditionalCheckFailed":
        stored = None
        if idem.raw_item:
            stored = IdempotencyRecord.from_raw_data(idem.raw_item)
        elif key is not None:
            stored = get_idempotency_record(kk, key)
        if stored is not None:
            raise IdempotentReplay(stored) from None
    if codes.get("meta") == "ConditionalCheckFailed" or codes.get("version") == "ConditionalCheckFailed":
        raise VersionConflict() from None
    if any(code == "TransactionConflict" for code in codes.values()):
        raise VersionConflict() from None
    if codes.get("visit") == "ConditionalCheckFailed":
        raise VisitReplay() from None
    if codes.get("receipt") == "ConditionalCheckFailed":
        # A freshly drawn receipt code collided (60 random bits: astronomically rare).
        raise VersionConflict() from None
    _busy_or_raise(exc)


# ---------------------------------------------------------------- password and draft


class ConditionFailed(Exception):
    """A conditional write's condition did not hold."""


class AlreadyExists(Exception):
    """A conditional create found the item there (a password set by someone else first)."""


class DraftConflict(Exception):
    """The draft's ETag is not the one the writer read."""


def _write(action: Any) -> None:
    """One conditional write: a failed condition becomes `ConditionFailed`, throttling a 503."""
    try:
        action()
    except PynamoDBException as exc:
        if _condition_failed(exc):
            raise ConditionFailed() from None
        _busy_or_raise(exc)
    except BotoCoreError as exc:
        _busy_or_raise(exc)


def set_password(kk: str, password_hash: str, set_at: str) -> None:
    """Claim the household: only the first password set wins (a concurrent second gets
    `AlreadyExists` and must sign in with the first one)."""
    credential = Credential(household_pk(kk), CREDENTIAL_SK, password_hash=password_hash, set_at=set_at)
    try:
        _write(lambda: credential.save(condition=Credential.pk.does_not_exist()))
    except ConditionFailed:
        raise AlreadyExists() from None


def save_draft(kk: str, body: str, *, expected_etag: str | None, new_etag: str, saved_at: str, expires_at: int) -> None:
    """Store the draft as `new_etag`, only if the stored one is still `expected_etag`
    (None: only if there is none)."""
    draft = Draft(household_pk(kk), DRAFT_SK, body=body, etag=new_etag, saved_at=saved_at, expires_at=expires_at)
    condition = Draft.pk.does_not_exist() if expected_etag is None else (Draft.etag == expected_etag)
    try:
        _write(lambda: draft.save(condition=condition))
    except ConditionFailed:
        raise DraftConflict() from None


def reset_password(
    kk: str,
    *,
    reset_by: str,
    reset_at: str,
    code: ResetCode,
    credential_set_at: str | None,
    replaced_code_hash: str | None,
    audit: Sequence[CensusItem] = (),
) -> None:
    """Remove the password (conditional on the one read, `credential_set_at`) or replace a
    pending reset's code (conditional on the code read), store the new code's hash, and
    record who did it, at once; `ConditionFailed` if the household changed meanwhile."""
    pk = household_pk(kk)
    record = PasswordReset(pk, f"RESET#{reset_at}", reset_by=reset_by, reset_at=reset_at)
    try:
        with TransactWrite(connection=_transaction_connection()) as tx:
            if credential_set_at is not None:
                tx.delete(Credential(pk, CREDENTIAL_SK), condition=Credential.set_at == credential_set_at)
            tx.save(record, condition=PasswordReset.pk.does_not_exist())
            if replaced_code_hash is not None:
                tx.save(code, condition=ResetCode.code_hash == replaced_code_hash)
            else:
                tx.save(code, condition=ResetCode.pk.does_not_exist())
            for item in audit:
                tx.save(item, condition=CensusItem.pk.does_not_exist())
    except TransactWriteError as exc:
        if any(
            r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict")
            for r in exc.cancellation_reasons
        ):
            raise ConditionFailed() from None
        _busy_or_raise(exc)


def claim_with_reset_code(kk: str, password_hash: str, set_at: str, code_hash: str) -> None:
    """Set the new password and use up the reset code, at once: the code works once (a
    concurrent second claim gets `AlreadyExists`)."""
    pk = household_pk(kk)
    try:
        with TransactWrite(connection=_transaction_connection()) as tx:
            tx.delete(ResetCode(pk, RESET_CODE_SK), condition=ResetCode.code_hash == code_hash)
            tx.save(
                Credential(pk, CREDENTIAL_SK, password_hash=password_hash, set_at=set_at),
                condition=Credential.pk.does_not_exist(),
            )
    except TransactWriteError as exc:
        if any(
            r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict")
            for r in exc.cancellation_reasons
        ):
            raise AlreadyExists() from None
        _busy_or_raise(exc)


def list_password_resets(kk: str) -> list[PasswordReset]:
    return [
        i
        for i in CensusItem.query(household_pk(kk), CensusItem.sk.startswith("RESET#"), consistent_read=True)
        if isinstance(i, PasswordReset)
    ]


# ---------------------------------------------------------------- register import


def get_checkpoint(import_id: str) -> ImportCheckpoint | None:
    try:
        return ImportCheckpoint.get(f"IMPORT#{import_id}", "IMPORT", consistent_read=True)
    except ImportCheckpoint.DoesNotExist:
        return None


def save_checkpoint(import_id: str, next_line: int, households: int, done: bool) -> None:
    ImportCheckpoint(f"IMPORT#{import_id}", "IMPORT", next_line=next_line, households=households, done=done).save()


# ---------------------------------------------------------------- progress counters


def progress_key(sls_code: str) -> tuple[str, str]:
    """Counters live per SLS in their regency's partition: one area's Query reads them,
    and one SLS (~100 households) never sees enough concurrent writes to contend."""
    return f"PROGRESS#{sls_code[:4]}", sls_code


def _progress_item(sls_code: str) -> ProgressCounter:
    return ProgressCounter(*progress_key(sls_code))


def _progress_actions(delta: dict[str, int]) -> list[Action]:
    """ADDs for the non-zero deltas, and the item type: the first ADD creates the item."""
    adds: list[Action] = [getattr(ProgressCounter, name).add(value) for name, value in sorted(delta.items()) if value]
    return [*adds, ProgressCounter.kind.set(ProgressCounter)] if adds else []


def regencies_with_households(provinces: Iterable[str]) -> list[str]:
    """Regencies the register import has put households in (the `PROGRESS#<province>` markers)."""
    return sorted({m.sk for province in provinces for m in AreaMarker.query(f"PROGRESS#{province}")})


def progress_rows(area: str) -> list[ProgressCounter]:
    """Every SLS counter within `area` (province: via its regency markers)."""
    if len(area) == 2:
        return [row for regency in regencies_with_households([area]) for row in progress_rows(regency)]
    rows = ProgressCounter.query(f"PROGRESS#{area[:4]}", ProgressCounter.sk.startswith(area))
    return [r for r in rows if isinstance(r, ProgressCounter)]


# ---------------------------------------------------------------- household creation (import)


def households_present(kks: Iterable[str]) -> dict[str, str | None]:
    """For each KK whose META exists: the import batch that created it (BatchGetItem)."""
    keys = [(household_pk(kk), META_SK) for kk in kks]
    found = HouseholdState.batch_get(keys, attributes_to_get=["pk", "import_batch"])
    return {item.pk.removeprefix("HH#"): item.import_batch for item in found}


def create_households(states: Sequence[HouseholdState], batch_id: str) -> None:
    """New households' META (BatchWriteItem) and their SLS counters, crash-safe without
    transactions: every META carries `import_batch`, and each SLS counter records the
    batches it has counted, adding a batch's households only once. A rerun of a batch
    (after a crash) counts the households that batch created, never twice; additions
    commute with the submissions' own counter changes, so racing them is harmless."""
    with HouseholdState.batch_write() as batch:
        for state in states:
            batch.save(state)
    markers = {(f"PROGRESS#{s.sls_code[:2]}", s.sls_code[:4]) for s in states}
    with AreaMarker.batch_write() as batch:
        for pk, sk in sorted(markers):
            batch.save(AreaMarker(pk, sk))


def count_new_households(counts: dict[str, int], batch_id: str) -> None:
    """Add `counts[sls]` new pending households to each SLS, once per import batch."""
    for sls, n in sorted(counts.items()):
        actions = [
            *_progress_actions({"households": n, "pending": n, "to_visit": n}),
            ProgressCounter.imports.add({batch_id}),
        ]
        try:
            _progress_item(sls).update(
                actions=actions,
                condition=ProgressCounter.imports.does_not_exist() | ~ProgressCounter.imports.contains(batch_id),
            )
        except UpdateError as exc:
            if not _condition_failed(exc):
                _busy_or_raise(exc)
                raise


def write_registers(registers: Sequence[HouseholdRegister]) -> None:
    with HouseholdRegister.batch_write() as batch:
        for item in registers:
            batch.save(item)


# ---------------------------------------------------------------- roster


def officer_pk(officer_id: str) -> str:
    return f"OFFICER#{officer_id}"


def roster_pk(area: str) -> str:
    return f"ROSTER#{area[:4]}"


def get_officer(officer_id: str) -> OfficerProfile | None:
    try:
        return OfficerProfile.get(officer_pk(officer_id), "PROFILE")
    except OfficerProfile.DoesNotExist:
        return None
    except (PynamoDBException, BotoCoreError) as exc:
        _busy_or_raise(exc)
        raise


def save_officers(profiles: Sequence[OfficerProfile]) -> None:
    """Profiles and their roster entries; entries for areas an officer no longer covers go."""
    old = {p.pk: p for p in OfficerProfile.batch_get([(p.pk, "PROFILE") for p in profiles])}
    with CensusItem.batch_write() as batch:
        for profile in profiles:
            officer_id = profile.pk.removeprefix("OFFICER#")
            previous = old.get(profile.pk)
            for area in {str(a) for a in (previous.areas if previous else [])} - {str(a) for a in profile.areas}:
                batch.delete(RosterEntry(roster_pk(area), f"{area}#{officer_id}"))
            batch.save(profile)
            for area in map(str, profile.areas):
                batch.save(
                    RosterEntry(
                        roster_pk(area), f"{area}#{officer_id}", officer=officer_id, role=profile.role, area=area
                    )
                )


def roster_within(area: str) -> list[RosterEntry]:
    """Roster entries for `area`, everything inside it, and its enclosing areas (an officer
    covering the whole district covers each of its villages)."""
    from shared.areas import ancestors

    partition = roster_pk(area)
    entries = [e for e in RosterEntry.query(partition, RosterEntry.sk.startswith(area)) if isinstance(e, RosterEntry)]
    for parent in ancestors(area):
        if len(parent) >= 4:
            entries += [
                e
                for e in RosterEntry.query(partition, RosterEntry.sk.startswith(f"{parent}#"))
                if isinstance(e, RosterEntry)
            ]
    return entries


# ---------------------------------------------------------------- worklists


def households_needing_visit(village: str, within: str | None = None) -> list[HouseholdState]:
    """The village's backlog from the sparse index: reads grow with the backlog only."""
    condition = NeedsVisitIndex.visit_order.startswith(within) if within else None
    return list(HouseholdState.needs_visit.query(village, condition))


def area_assignments(village: str) -> list[Assignment]:
    return [a for a in Assignment.query(f"ASSIGN#{village}") if isinstance(a, Assignment)]


def replace_assignments(old: Sequence[Assignment], new: Sequence[Assignment]) -> None:
    """Put the new generation, delete what it no longer holds. Visits live on the
    household, not on assignments, so none is lost."""
    keep = {(a.pk, a.sk) for a in new}
    with CensusItem.batch_write() as batch:
        for item in old:
            if (item.pk, item.sk) not in keep:
                batch.delete(item)
        for item in new:
            batch.save(item)


def get_assignment(sls_code: str, kk: str) -> Assignment | None:
    from shared.areas import village_of

    try:
        return Assignment.get(f"ASSIGN#{village_of(sls_code)}", f"{sls_code}#{kk}")
    except Assignment.DoesNotExist:
        return None


def officer_worklist_page(
    officer_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[Assignment], dict[str, Any] | None]:
    """One page of the officer's assignments (by_officer index) and the key to resume from."""
    pages = Assignment.by_officer.query(officer_id, limit=limit, last_evaluated_key=start, page_size=limit)
    items = [a for a in pages if isinstance(a, Assignment)]
    return items, pages.last_evaluated_key


def household_states(kks: Sequence[str]) -> dict[str, HouseholdState]:
    """Current META of many households (BatchGetItem): a worklist shows live status."""
    found = HouseholdState.batch_get([(household_pk(kk), META_SK) for kk in kks])
    return {item.pk.removeprefix("HH#"): item for item in found if isinstance(item, HouseholdState)}


def latest_version(kk: str) -> ResponseVersion | None:
    items = CensusItem.query(
        household_pk(kk), CensusItem.sk.startswith("V#"), scan_index_forward=False, limit=1, consistent_read=True
    )
    return next((i for i in items if isinstance(i, ResponseVersion)), None)


# ---------------------------------------------------------------- visits


@dataclass(frozen=True)
class VisitChange:
    """A failed visit (not_home, refused, moved): no response version, one transaction."""

    kk: str
    sls_code: str
    expected_version: int
    expected_status: str
    # A failed visit leaves version and status as they were: the attempt count it read is
    # what tells concurrent visits apart (each gets its own attempt number).
    expected_attempts: int
    status: str
    visit: VisitEntry
    visit_keys: tuple[str, str] | None
    receipt_code: str | None
    progress: dict[str, int]
    audit: tuple[CensusItem, ...] = ()  # audit records written in the same transaction


def save_visit(change: VisitChange) -> None:
    meta_actions: list[Action] = [
        HouseholdState.status.set(change.status),
        HouseholdState.visit_attempts.add(1),
    ]
    if change.visit_keys is None:
        meta_actions += [HouseholdState.visit_area.remove(), HouseholdState.visit_order.remove()]
    meta_actions += review_queue_actions(None, ())  # a visit's outcome takes it out of the review queue
    progress = _progress_actions(change.progress)
    items = [
        "visit",
        *(["audit"] * len(change.audit)),
        "meta",
        *(["receipt"] if change.receipt_code else []),
        *(["progress"] if progress else []),
    ]
    attempts_condition = HouseholdState.visit_attempts == change.expected_attempts
    if change.expected_attempts == 0:
        attempts_condition |= HouseholdState.visit_attempts.does_not_exist()
    try:
        with TransactWrite(connection=_transaction_connection()) as tx:
            tx.save(change.visit, condition=VisitEntry.pk.does_not_exist())
            for audit in change.audit:
                tx.save(audit, condition=CensusItem.pk.does_not_exist())
            tx.update(
                HouseholdState(household_pk(change.kk), META_SK),
                actions=meta_actions,
                condition=(HouseholdState.version == change.expected_version)
                & (HouseholdState.status == change.expected_status)
                & attempts_condition,
            )
            if change.receipt_code:
                tx.update(
                    Receipt(receipt_pk(change.receipt_code), RECEIPT_SK), actions=[Receipt.status.set(change.status)]
                )
            if progress:
                tx.update(_progress_item(change.sls_code), actions=progress)
    except TransactWriteError as exc:
        _classify_cancellation(exc, items, None, change.kk)


def get_visit(kk: str, visit_id: str) -> VisitEntry | None:
    try:
        return VisitEntry.get(household_pk(kk), f"VISIT#{visit_id}", consistent_read=True)
    except VisitEntry.DoesNotExist:
        return None


def list_visits(kk: str) -> list[VisitEntry]:
    return [
        v for v in CensusItem.query(household_pk(kk), CensusItem.sk.startswith("VISIT#")) if isinstance(v, VisitEntry)
    ]
