"""Domain errors: each carries the HTTP status and the stable machine-readable code
the API answers with, so handlers map them in one place and never invent codes."""

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
