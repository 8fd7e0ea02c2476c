"""The store: all DynamoDB access, and the single-table layout it writes.

One table, keys `pk`/`sk` (see `template.yaml`). A household's partition holds
everything about it, so one Query reads what intake needs and no national peak
funnels onto a shared key:

    pk=HH#<kk>        sk=META                 mutable state: status, version, receipt code,
                                              the Idempotency-Keys of recent versions
    pk=HH#<kk>        sk=META#CREDENTIAL      the household's password hash, once it set one
    pk=HH#<kk>        sk=META#DRAFT           the resident's saved draft (ETag, TTL at the
                                              end of the online phase)
    pk=HH#<kk>        sk=REGISTER             the register extract (address, SLS, members)
    pk=HH#<kk>        sk=V#<version:010d>     each stored response version, kept forever,
                                              with its Idempotency-Key and request hash
    pk=RECEIPT#<code> sk=RECEIPT              status by receipt: no personal data, one GetItem
    pk=LOCK#<kk>      sk=LOCK                 failed KK/NIK attempts in the current window
                                              (TTL); its own partition so that read-only
                                              functions may be granted writes to LOCK#* only
    pk=HH#<kk>        sk=VISIT#<id>           a field visit (outcome, note, officer)
    pk=HH#<kk>        sk=RESET#<time>         a supervisor's password reset (who, when)
    pk=HH#<kk>        sk=META#RESET           the pending reset's one-time code (hash, expiry)
    pk=HH#<kk>        sk=REVIEW#<time>#<id>   a supervisor's review decision, with its note
    pk=AUDIT#HH#<kk>  sk=<time>#<id>          audit trail of one household (append-only)
    pk=AUDIT#<reg>#<day> sk=<area>#<time>#<id> audit trail by area, one partition per regency
                                              and day (append-only; store/audit.py)
    pk=SNAP#<area>    sk=<day>                the area's progress figures at the end of a day
    pk=ROLLUP#<area>  sk=ROLLUP               a regency's or province's figures and its
                                              children's, refreshed every few minutes
    pk=OFFICER#<id>   sk=PROFILE              roster entry: role and covered areas
    pk=ROSTER#<reg>   sk=<area>#<officer>     who covers what, by regency (or province)
    pk=ASSIGN#<vill>  sk=<sls>#<kk>           worklist assignment; `officer_id` feeds the
                                              sparse `by_officer` index
    pk=AREA#<area>    sk=WORKLISTS            the area's last generation and its summary
    pk=PROGRESS#<reg> sk=<sls>                counters per SLS: creations (import, enrolment,
                                              reports) in their transaction, every later
                                              status change from the table's stream
                                              (stream_apply.py: `seen#<kk>` checkpoints)
    pk=PROGRESS#<prov> sk=<regency>           which regencies have counters
    pk=IMPORT#<id>    sk=IMPORT               register-import checkpoint (resume)
    pk=AREAS#<parent> sk=<code>               the area master list by name (ROOT: provinces)
    pk=REPORT#<ref>   sk=REPORT               a household's report that the register missed it;
                                              while open it carries the needs_visit keys
                                              (`CASE#<village>`, `<sls>#<ref>`): a field case
    pk=REPORT#KEY#<h> sk=REPORT               a report's Idempotency-Key (TTL)
    pk=RATE#<scope>#<who> sk=RATE             report rate counters per KK and per client (TTL)
    pk=TABLES#<area>  sk=<table>              a published population table (suppressed)
    pk=HH#<kk>        sk=FLAG#<reason>#<other kk>#v<version>
                                              a check's review flag (people counted twice)

META, META#CREDENTIAL, META#DRAFT, META#RESET and REGISTER sort together, so the one Query that
proves a household also reads its password hash and draft (and nothing else: RESET#,
V#, VISIT# sort after REGISTER).

META carries `visit_area`/`visit_order` only while the household needs a field visit,
which makes the `needs_visit` index sparse; `review_area`/`review_order` only while it
awaits a supervisor's review (the sparse `review_queue` index).

Where to look: `schema` (the items and every key format), `client` (bind(), retries,
timeouts), `faults` (DynamoDB faults -> the retryable 503), `records` (what the domain
gets back), then one module per concern: `households`, `submissions`, `guesses`,
`credentials`, `fieldwork`, `progress`, `imports`; for the supervisors' console `review`, `audit`,
`assignments`, `snapshots`. Domain code imports from here.
`credentials`, `fieldwork`, `progress`, `imports`, `outputs`. Domain code imports from here.
"""

from shared.store.areas import area_children, area_names, get_area, save_areas
from shared.store.assignments import CHUNK, AssignmentMoved, move_assignments
from shared.store.audit import area_trail, area_trail_start, household_trail, write_with_audit
from shared.store.client import RETRIES, bind, pynamodb_retries
from shared.store.credentials import (
    AlreadyExists,
    DraftConflict,
    claim_with_reset_code,
    list_password_resets,
    reset_password,
    save_draft,
    set_password,
)
from shared.store.faults import ConditionFailed, store_busy
from shared.store.fieldwork import (
    VisitChange,
    area_assignments,
    get_assignment,
    get_officer,
    get_visit,
    households_needing_visit,
    last_generation,
    list_visits,
    officer_worklist_page,
    replace_assignments,
    roster_within,
    save_generation,
    save_officers,
    save_visit,
    visit_backlog,
    worklist_live_status,
    worklist_start,
)
from shared.store.guesses import Guesses, clear_failed_guesses, get_guesses, record_failed_guess
from shared.store.households import (
    HouseholdSnapshot,
    get_receipt,
    household_states,
    latest_version,
    list_versions,
    load_household,
)
from shared.store.imports import (
    count_new_households,
    create_households,
    get_checkpoint,
    households_present,
    save_checkpoint,
    write_registers,
)
from shared.store.outputs import (
    FlagChange,
    FlagExists,
    HouseholdChanged,
    PublishedTableRecord,
    ReviewFlagRecord,
    get_published_table,
    list_review_flags,
    save_published_tables,
    save_review_flag,
)
from shared.store.progress import progress_counts, progress_rows, regencies_with_households
from shared.store.records import (
    AreaRecord,
    AssignmentRecord,
    AuditRecord,
    CredentialRecord,
    DecisionRecord,
    DraftRecord,
    GenerationRecord,
    HouseholdRecord,
    HouseholdTally,
    LiveStatus,
    MemberRecord,
    OfficerRecord,
    ProgressRecord,
    QueueEntry,
    ReceiptRecord,
    RegisterRecord,
    ReplayRecord,
    ReportRecord,
    ResetCodeRecord,
    RollupRecord,
    RosterRecord,
    VersionRecord,
    VisitDue,
    VisitRecord,
)
from shared.store.reports import (
    EnrolledHousehold,
    HouseholdExists,
    NewReport,
    ReferenceTaken,
    ReportAlreadyResolved,
    ReportReplay,
    Resolution,
    ResolveConflict,
    case_backlog,
    file_report,
    get_report,
    get_report_key,
    get_reports,
    resolve,
    sls_assignment,
    take_rate,
)
from shared.store.review import DecisionConflict, ReviewChange, decisions_of, queue_page, queue_start, save_decision
from shared.store.rollups import get_rollup, save_rollups
from shared.store.schema import (
    META_SK,
    PROGRESS_FIELDS,
    REGISTER_SK,
    CensusItem,
    GuessCounter,
    HouseholdRegister,
    HouseholdState,
    IdempotencyRecord,
    OfficerProfile,
    RegisterMember,
    ResponseVersion,
    WorklistGeneration,
    household_pk,
    officer_pk,
    version_sk,
    visit_keys,
)
from shared.store.snapshots import FIGURES as SNAPSHOT_FIGURES
from shared.store.snapshots import history as snapshot_history
from shared.store.snapshots import save_snapshots
from shared.store.stream_apply import (
    CountedChange,
    CounterResult,
    HouseholdImage,
    StreamRecordView,
    count_changes,
    household_modification,
    refresh_receipt,
)
from shared.store.submissions import (
    NewVersion,
    VersionConflict,
    VisitReplay,
    created_by,
    find_replay,
    save_version,
)

__all__ = [
    "CHUNK",
    "META_SK",
    "PROGRESS_FIELDS",
    "REGISTER_SK",
    "RETRIES",
    "SNAPSHOT_FIGURES",
    "AlreadyExists",
    "AreaRecord",
    "AssignmentMoved",
    "AssignmentRecord",
    "AuditRecord",
    "CensusItem",
    "ConditionFailed",
    "CountedChange",
    "CounterResult",
    "CredentialRecord",
    "DecisionConflict",
    "DecisionRecord",
    "DraftConflict",
    "DraftRecord",
    "EnrolledHousehold",
    "FlagChange",
    "FlagExists",
    "GenerationRecord",
    "GuessCounter",
    "Guesses",
    "HouseholdChanged",
    "HouseholdExists",
    "HouseholdImage",
    "HouseholdRecord",
    "HouseholdRegister",
    "HouseholdSnapshot",
    "HouseholdState",
    "HouseholdTally",
    "IdempotencyRecord",
    "LiveStatus",
    "MemberRecord",
    "NewReport",
    "NewVersion",
    "OfficerProfile",
    "OfficerRecord",
    "ProgressRecord",
    "PublishedTableRecord",
    "QueueEntry",
    "ReceiptRecord",
    "ReferenceTaken",
    "RegisterMember",
    "RegisterRecord",
    "ReplayRecord",
    "ReportAlreadyResolved",
    "ReportRecord",
    "ReportReplay",
    "ResetCodeRecord",
    "Resolution",
    "ResolveConflict",
    "ResponseVersion",
    "ReviewChange",
    "ReviewFlagRecord",
    "RollupRecord",
    "RosterRecord",
    "StreamRecordView",
    "VersionConflict",
    "VersionRecord",
    "VisitChange",
    "VisitDue",
    "VisitRecord",
    "VisitReplay",
    "WorklistGeneration",
    "area_assignments",
    "area_children",
    "area_names",
    "area_trail",
    "area_trail_start",
    "bind",
    "case_backlog",
    "claim_with_reset_code",
    "clear_failed_guesses",
    "count_changes",
    "count_new_households",
    "create_households",
    "created_by",
    "decisions_of",
    "file_report",
    "find_replay",
    "get_area",
    "get_assignment",
    "get_checkpoint",
    "get_guesses",
    "get_officer",
    "get_published_table",
    "get_receipt",
    "get_report",
    "get_report_key",
    "get_reports",
    "get_rollup",
    "get_visit",
    "household_modification",
    "household_pk",
    "household_states",
    "household_trail",
    "households_needing_visit",
    "households_present",
    "last_generation",
    "latest_version",
    "list_password_resets",
    "list_review_flags",
    "list_versions",
    "list_visits",
    "load_household",
    "move_assignments",
    "officer_pk",
    "officer_worklist_page",
    "progress_counts",
    "progress_rows",
    "pynamodb_retries",
    "queue_page",
    "queue_start",
    "record_failed_guess",
    "refresh_receipt",
    "regencies_with_households",
    "replace_assignments",
    "reset_password",
    "resolve",
    "roster_within",
    "save_areas",
    "save_checkpoint",
    "save_decision",
    "save_draft",
    "save_generation",
    "save_officers",
    "save_published_tables",
    "save_review_flag",
    "save_rollups",
    "save_snapshots",
    "save_version",
    "save_visit",
    "set_password",
    "sls_assignment",
    "snapshot_history",
    "store_busy",
    "take_rate",
    "version_sk",
    "visit_backlog",
    "visit_keys",
    "worklist_live_status",
    "worklist_start",
    "write_registers",
    "write_with_audit",
]
