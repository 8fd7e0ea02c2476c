"""The error catalogue: every error the API answers with, each carrying its HTTP status,
its stable machine-readable code and its message, so handlers map them in one place and
never invent codes. `CATALOGUE` lists them; `FIELD_PROBLEMS` lists the codes of the
problems a 422 (and a 400 on a path parameter) names field by field. The OpenAPI document
and the docs' error tables are checked against these (tests/unit/test_error_catalogue.py).

The store's own control-flow exceptions (VersionConflict, VisitReplay, ConditionFailed
...) are not here: they never reach a client, the domain turns them into one of these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field (`members[2].nik`)."""

    code: str
    message: str
    field: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class CensusError(Exception):
    """Base of every error the API turns into a JSON answer."""

    status: int = 500
    code: str = "internal_error"
    message: str = "The service failed to handle the request."

    def __init__(self, message: str | None = None, *, field: str | None = None, code: str | None = None):
        self.message = message or type(self).message
        self.field = field
        if code:
            self.code = code
        self.headers: dict[str, str] = {}
        super().__init__(self.message)

    def body(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message, "field": self.field}
        return {"error": error}


class MalformedRequest(CensusError):
    status = 400
    code = "malformed_json"
    message = "The request body is not valid JSON."


class InvalidCredentials(CensusError):
    """Same answer for an unknown KK and a NIK not on it: the API never tells which exist."""

    status = 401
    code = "invalid_credentials"
    message = "The KK number and NIK do not match a household on the register."


class OnlinePhaseClosed(CensusError):
    status = 403
    code = "online_phase_closed"
    message = "The online phase of the census is not open."


class NotFound(CensusError):
    status = 404
    code = "not_found"
    message = "No such resource."


class PayloadTooLarge(CensusError):
    status = 413
    code = "payload_too_large"
    message = "The request body is larger than the service accepts."


class UnsupportedMediaType(CensusError):
    status = 415
    code = "unsupported_media_type"
    message = "Send the request body as application/json."


class ValidationFailed(CensusError):
    """422: the input is well-formed JSON but breaks a rule; lists every problem found."""

    status = 422
    code = "validation_error"
    message = "The request breaks a validation rule."

    def __init__(self, problems: list[FieldProblem]):
        if not problems:
            raise ValueError("ValidationFailed needs at least one problem")
        first = problems[0]
        super().__init__(first.message, field=first.field, code=first.code)
        self.problems = problems

    def body(self) -> dict[str, object]:
        body = super().body()
        error = body["error"]
        assert isinstance(error, dict)
        error["details"] = [p.as_dict() for p in self.problems]
        return body


class IdempotencyKeyReused(CensusError):
    status = 422
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for a different request body."


class TooManyAttempts(CensusError):
    """429: this KK is locked after repeated failed KK/NIK attempts, whoever asks."""

    status = 429
    code = "too_many_attempts"
    message = "Too many failed attempts for this KK number; try again after the Retry-After delay."

    def __init__(self, retry_after: int):
        super().__init__()
        self.headers = {"Retry-After": str(max(1, retry_after))}


class RetryableError(CensusError):
    """Overload or contention that a client should simply retry after `retry_after` seconds."""

    status = 503
    code = "service_busy"
    message = "The service is busy; retry after the delay in the Retry-After header."

    def __init__(self, message: str | None = None, *, retry_after: int = 1, code: str | None = None):
        super().__init__(message, code=code)
        self.headers = {"Retry-After": str(retry_after)}


class PasswordRequired(CensusError):
    """The household has set a password: KK + NIK alone no longer prove it."""

    status = 401
    code = "password_required"
    message = "This household has set a password; give it with the KK number and NIK."


class PasswordSetupRequired(CensusError):
    """First sign-in of a household: it must choose its password (`new_password`)."""

    status = 401
    code = "password_setup_required"
    message = "This household has no password yet; choose one in new_password."


class SessionError(CensusError):
    status = 401
    code = "session_invalid"
    message = "The session token is not valid; sign in again."


class SessionRequired(SessionError):
    code = "session_required"
    message = "Sign in first: send the session token as 'Authorization: Bearer <token>'."


class SessionExpired(SessionError):
    code = "session_expired"
    message = "The session has expired; sign in again."


class SessionWrongHousehold(CensusError):
    status = 403
    code = "session_wrong_household"
    message = "The session belongs to another household."


class PreconditionRequired(CensusError):
    status = 428
    code = "precondition_required"
    message = "A draft exists: send its ETag in If-Match so no one's changes are overwritten."


class DraftChanged(CensusError):
    status = 412
    code = "draft_changed"
    message = "The draft was changed by someone else since you loaded it; load it again."


class PasswordNotSet(CensusError):
    status = 409
    code = "password_not_set"
    message = "This household has no password to reset."


class StoreBusy(RetryableError):
    """DynamoDB throttled, failed or timed out after the client's retries (shared.store.faults)."""

    code = "service_busy"
    message = "The database is busy; retry after the delay in the Retry-After header."


class WriteConflict(RetryableError):
    """Too many writers raced for one household: every attempt lost."""

    code = "write_conflict"
    message = "Too many simultaneous changes to this household; retry shortly."


class RouteNotFound(NotFound):
    code = "route_not_found"
    message = "No such route."


class InvalidReceiptCode(CensusError):
    status = 400
    code = "invalid_receipt_code"
    message = "That is not a receipt code: 13 characters, for example 7K3M-9QXT-2WAB-1."


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
    message = "No response has this receipt code."


class TableNotPublished(NotFound):
    code = "table_not_published"
    message = "This table has not been published for this area yet."


class InvalidTransition(CensusError):
    status = 409
    code = "invalid_status_transition"
    message = "The household's current status does not allow this change."


class VisitAttemptsExhausted(CensusError):
    status = 409
    code = "visit_attempts_exhausted"
    message = "This household's failed visits are used up; only an interview can still be recorded."


class Unauthorized(CensusError):
    status = 401
    code = "unauthorized"
    message = "Sign in as an officer or supervisor."


class Forbidden(CensusError):
    status = 403
    code = "forbidden"
    message = "This is outside the areas assigned to you."


class NotOnRoster(Forbidden):
    code = "not_on_roster"
    message = "You are not on the officer roster."


class SupervisorOnly(Forbidden):
    code = "supervisor_only"
    message = "Only a supervisor may do this."


class NoOfficers(CensusError):
    status = 409
    code = "no_officers"
    message = "No officer on the roster covers this area."


class SessionsUnavailable(CensusError):
    status = 503
    code = "sessions_unavailable"
    message = "Signing in is not available right now."


class InvalidReportReference(CensusError):
    status = 400
    code = "invalid_report_reference"
    message = "That is not a report reference: 13 characters, for example 7K3M-9QXT-2WAB-1."


class ReportNotFound(NotFound):
    code = "report_not_found"
    message = "No report has this reference."


class ReportClosed(CensusError):
    status = 409
    code = "report_already_resolved"
    message = "This report has already been resolved."


class HouseholdExists(CensusError):
    status = 409
    code = "household_exists"
    message = "This KK already has a household; resolve the report as matched to it."


class TooManyReports(CensusError):
    """429: too many reports for this KK number, or from this client, in the window."""

    status = 429
    code = "too_many_reports"
    message = "Too many reports; try again after the Retry-After delay."

    def __init__(self, retry_after: int):
        super().__init__()
        self.headers = {"Retry-After": str(max(1, retry_after))}


# Every error the API answers with (NotFound and RetryableError are only their bases).
class ResetCodeRequired(CensusError):
    """A supervisor reset the household's password: only KK + NIK + the one-time code they
    gave the family can set a new one."""

    status = 401
    code = "reset_code_required"
    message = "This household's password was reset; give the reset code from the supervisor with a new password."


class ResetCodeExpired(CensusError):
    status = 401
    code = "reset_code_expired"
    message = "This reset code has expired; ask the supervisor for a new one."


class ReviewNotPending(CensusError):
    status = 409
    code = "review_not_pending"
    message = "This household is not awaiting review (already decided, or not flagged)."


class ReviewVersionChanged(CensusError):
    status = 409
    code = "review_version_changed"
    message = "The household sent a correction since you opened it; the decision was not saved. Review the new version."


class NothingToReassign(CensusError):
    status = 409
    code = "nothing_to_reassign"
    message = "No worklist assignment matches: nothing was moved."


class WorklistsChanged(CensusError):
    status = 409
    code = "worklists_changed"
    message = "The worklists changed meanwhile (a generation ran); reload and try again."


CATALOGUE: tuple[type[CensusError], ...] = (
    CensusError,
    ResetCodeRequired,
    ResetCodeExpired,
    ReviewNotPending,
    ReviewVersionChanged,
    NothingToReassign,
    WorklistsChanged,
    MalformedRequest,
    InvalidReceiptCode,
    InvalidReportReference,
    InvalidCredentials,
    PasswordRequired,
    PasswordSetupRequired,
    SessionError,
    SessionRequired,
    SessionExpired,
    Unauthorized,
    OnlinePhaseClosed,
    SessionWrongHousehold,
    Forbidden,
    NotOnRoster,
    SupervisorOnly,
    RouteNotFound,
    ReceiptNotFound,
    ReportNotFound,
    TableNotPublished,
    InvalidTransition,
    ReportClosed,
    HouseholdExists,
    VisitAttemptsExhausted,
    NoOfficers,
    PasswordNotSet,
    DraftChanged,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    IdempotencyKeyReused,
    PreconditionRequired,
    TooManyAttempts,
    TooManyReports,
    StoreBusy,
    WriteConflict,
    SessionsUnavailable,
)

# The codes of the problems a ValidationFailed lists in `details` (its own `code` is the
# first problem's), and when each is answered.
FIELD_PROBLEMS: dict[str, str] = {
    "missing_field": "a required field is absent",
    "unknown_field": "a field the request does not take",
    "invalid_type": "a field of the wrong JSON type",
    "invalid_choice": "a value outside the field's choices",
    "invalid_value": "any other value the field does not take",
    "invalid_date": "not a date (YYYY-MM-DD), or before 1900",
    "future_date": "a date in the future (UTC+9)",
    "invalid_length": "a text too long or too short",
    "invalid_name": "a name with characters a name does not have",
    "member_count": "a list (the members) with too few or too many entries",
    "head_count": "not exactly one head of household",
    "invalid_nik": "a NIK that is not 16 digits of a valid structure",
    "nik_sex_mismatch": "a NIK whose birth day does not match the member's sex",
    "nik_birth_date_mismatch": "a NIK whose birth date is not the member's",
    "duplicate_nik": "the same NIK twice in one household",
    "invalid_kk": "a KK number that is not 16 digits of a valid structure",
    "invalid_area_code": "an area code of no known level",
    "missing_current_area_code": "current_area_code missing for a member living elsewhere",
    "unexpected_current_area_code": "current_area_code for a member living at the KK address",
    "departed_not_on_register": "a departed member who is not on the register",
    "departed_and_present": "a member both departed and present",
    "added_because_for_register_member": "added_because for a member already on the register",
    "respondent_mismatch": "respondent_nik is not the signed-in member",
    "invalid_idempotency_key": "an Idempotency-Key of other characters or length",
    "invalid_password": "a password with characters that cannot be used",
    "password_too_short": "a new password shorter than the minimum",
    "password_too_long": "a new password longer than the maximum",
    "password_too_common": "a new password on the list of common ones",
    "password_contains_identifier": "a new password containing the KK or a member's NIK",
    "area_too_large": "worklists asked for a province (the schedule generates those)",
    "invalid_cursor": "a worklist cursor not from the caller's own worklist",
    "invalid_limit": "a page size that is not a whole number from 1 to 200",
    "invalid_reset_code": "a password-reset code that is not 8 letters and digits",
    "unknown_officer": "a receiving officer not on the roster of the area",
    "invalid_day": "a day that is not a date (YYYY-MM-DD)",
    "invalid_format": "a format other than json or csv",
    "unknown_area": "an area code that is not on the area master list",
    "invalid_phone": "a phone number that is not 8 to 15 digits (a leading + allowed)",
    "unknown_household": "a KK that has no household (to match a report to)",
    "invalid_table": "a population table name that is not published (pyramid, household_size, ...)",
}


def codes() -> set[str]:
    """Every code the API can answer with: the catalogue's and its field problems'."""
    return {error.code for error in CATALOGUE} | set(FIELD_PROBLEMS)
