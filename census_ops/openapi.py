"""The API's OpenAPI document, generated - never written by hand - from what defines the API:
the template's Api events (paths, methods, which routes need a token), the msgspec structs
the handlers decode request bodies into, the one error shape of shared/http.py, and each
route's error answers (status, codes) from the catalogue in shared/errors.py.

`census openapi` prints it; docs/openapi.json is its committed copy (a test keeps the two
equal), and tests/integration/test_schemathesis.py sends every operation generated and
malformed requests from it. Not on any Lambda's import path: the handlers decode with
msgspec directly (docs/decisions/0017).

A route the template gains without an entry in REQUEST_BODIES fails `build_document` (and
its test) by name, so the document can never silently miss an operation or a body.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from census_ops.template import REPO_ROOT, ApiRoute, api_routes
from shared.errors import (
    CensusError,
    DraftChanged,
    Forbidden,
    HouseholdExists,
    IdempotencyKeyReused,
    InvalidCredentials,
    InvalidReceiptCode,
    InvalidReportReference,
    InvalidTransition,
    MalformedRequest,
    NoOfficers,
    NothingToReassign,
    NotOnRoster,
    OnlinePhaseClosed,
    PasswordNotSet,
    PasswordRequired,
    PasswordSetupRequired,
    PayloadTooLarge,
    PreconditionRequired,
    ReceiptNotFound,
    ReportClosed,
    ReportNotFound,
    ResetCodeExpired,
    ResetCodeRequired,
    RetryableError,
    ReviewNotPending,
    ReviewVersionChanged,
    SessionError,
    SessionExpired,
    SessionRequired,
    SessionsUnavailable,
    SessionWrongHousehold,
    StoreBusy,
    SupervisorOnly,
    TableNotPublished,
    TooManyAttempts,
    TooManyReports,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
    VisitAttemptsExhausted,
    WorklistsChanged,
    WriteConflict,
)

OPENAPI_VERSION = "3.1.0"
DOCUMENT_PATH = REPO_ROOT / "docs" / "openapi.json"
_REF = "#/components/schemas/{name}"

NO_BODY = None
EMPTY_OBJECT = "{}"  # a body of `{}` (or nothing at all): the route takes no fields

Errors = tuple[type[CensusError], ...]
# Errors every route may answer; those of every route that reads a body; of a resident's
# session; of an officer route (the caller identified from the roster).
_ANY_ROUTE: Errors = (StoreBusy,)
_BODY: Errors = (MalformedRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed)
_SESSION: Errors = (SessionRequired, SessionError, SessionExpired, SessionsUnavailable)
_OPTIONAL_SESSION: Errors = (SessionError, SessionExpired, SessionWrongHousehold, SessionsUnavailable)
_OFFICER: Errors = (Unauthorized, NotOnRoster, Forbidden)


@dataclass(frozen=True)
class Operation:
    """What the template cannot say about a route: its body, answers and extra parameters."""

    body: str | None  # "module:Model", EMPTY_OBJECT or NO_BODY
    success: tuple[int, ...]
    answer: str | None  # a schema name in _ANSWERS, or None for "a JSON object"
    summary: str
    headers: tuple[str, ...] = ()  # request headers beyond Authorization (see _HEADERS)
    query: tuple[str, ...] = ()  # query parameters (see _QUERY)
    lockout: bool = False  # takes KK + NIK: may answer 429 too_many_attempts with Retry-After
    pdf: bool = False
    session: bool = False  # needs a resident's session token (checked by the function, not API Gateway)
    errors: Errors = ()  # what the route answers besides _ANY_ROUTE, _BODY (with a body) and 429 (lockout)
    csv: bool = False  # ?format=csv answers text/csv


# (METHOD, path) -> the operation. Every route of the template must be here.
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "/v1/households/{kk}/responses"): Operation(
        "shared.responses:Submission",
        (200, 201),
        "SubmissionReceipt",
        "Submit or correct a household's response (201 first version, 200 a correction)",
        headers=("Idempotency-Key",),
        lockout=True,
        errors=(
            InvalidCredentials,
            PasswordRequired,
            ResetCodeRequired,
            *_OPTIONAL_SESSION,
            OnlinePhaseClosed,
            InvalidTransition,
            IdempotencyKeyReused,
            WriteConflict,
        ),
    ),
    ("GET", "/v1/receipts/{receipt_code}"): Operation(
        NO_BODY,
        (200,),
        "ReceiptStatus",
        "Status by receipt code (no personal data)",
        errors=(InvalidReceiptCode, ReceiptNotFound),
    ),
    ("POST", "/v1/households/{kk}/status"): Operation(
        "shared.status_lookup:StatusRequest",
        (200,),
        "HouseholdStatus",
        "Status by KK + a member's NIK, for a lost receipt",
        lockout=True,
        errors=(InvalidCredentials, PasswordRequired, ResetCodeRequired, *_OPTIONAL_SESSION),
    ),
    ("GET", "/v1/receipts/{receipt_code}/proof"): Operation(
        NO_BODY,
        (200,),
        None,
        "The printable proof of filling (A5 PDF)",
        pdf=True,
        errors=(InvalidReceiptCode, ReceiptNotFound),
    ),
    ("POST", "/v1/areas/{area_code}/worklists"): Operation(
        NO_BODY,
        (201,),
        "WorklistGeneration",
        "Generate an area's worklists (supervisor of the area)",
        errors=(*_OFFICER, SupervisorOnly, NoOfficers, ValidationFailed),
    ),
    ("GET", "/v1/officers/me/worklist"): Operation(
        NO_BODY,
        (200,),
        "WorklistPage",
        "The calling officer's worklist, a page at a time",
        query=("limit", "cursor"),
        errors=(*_OFFICER, ValidationFailed),
    ),
    ("GET", "/v1/households/{kk}"): Operation(
        NO_BODY,
        (200,),
        "HouseholdForInterview",
        "Register members and latest response (assigned officer)",
        errors=(*_OFFICER, ValidationFailed),
    ),
    ("POST", "/v1/households/{kk}/visits"): Operation(
        "shared.fieldwork:VisitRequest",
        (200, 201),
        "VisitAnswer",
        "Record a visit: an interview, or not home / refused / moved",
        headers=("Idempotency-Key",),
        errors=(*_OFFICER, InvalidTransition, VisitAttemptsExhausted, IdempotencyKeyReused, WriteConflict),
    ),
    ("GET", "/v1/areas/{area_code}/progress"): Operation(
        NO_BODY,
        (200,),
        "AreaProgress",
        "Progress figures of an area and each child area (supervisor): a province or regency as of "
        "its rollup (refreshed every 5 minutes), smaller areas live",
        errors=(*_OFFICER, SupervisorOnly, ValidationFailed),
    ),
    ("GET", "/v1/areas/{area_code}/tables/{table}"): Operation(
        NO_BODY,
        (200,),
        "AreaTable",
        "A published population table (small cells suppressed) of an area and its child areas (supervisor)",
        errors=(*_OFFICER, SupervisorOnly, TableNotPublished, ValidationFailed),
    ),
    ("POST", "/v1/sessions"): Operation(
        "shared.residents:SignInRequest",
        (201,),
        "SessionToken",
        "A resident signs in with KK + a member's NIK + the household password (the first sign-in sets it)",
        lockout=True,
        errors=(
            InvalidCredentials,
            PasswordRequired,
            PasswordSetupRequired,
            ResetCodeRequired,
            ResetCodeExpired,
            SessionsUnavailable,
        ),
    ),
    ("GET", "/v1/session/household"): Operation(
        NO_BODY,
        (200,),
        "SessionHousehold",
        "The signed-in household: register, draft, latest response",
        session=True,
        errors=_SESSION,
    ),
    ("PUT", "/v1/session/household/draft"): Operation(
        "shared.drafts:DraftBody",
        (200,),
        "DraftSaved",
        "Save the household's draft (If-Match: the ETag once a draft exists)",
        headers=("If-Match",),
        session=True,
        errors=(*_SESSION, OnlinePhaseClosed, PreconditionRequired, DraftChanged),
    ),
    ("POST", "/v1/households/{kk}/password-reset"): Operation(
        EMPTY_OBJECT,
        (200,),
        "PasswordReset",
        "Clear a household's password and get a one-time reset code for the family (supervisor of its area)",
        errors=(*_OFFICER, SupervisorOnly, PasswordNotSet, WriteConflict),
    ),
    ("GET", "/v1/staff/me"): Operation(
        NO_BODY, (200,), "StaffMe", "The signed-in supervisor and their areas", errors=(*_OFFICER, SupervisorOnly)
    ),
    ("GET", "/v1/areas/{area_code}/progress/history"): Operation(
        NO_BODY,
        (200,),
        "ProgressHistory",
        "An area's figures by day: daily snapshots, then today's (supervisor)",
        errors=(*_OFFICER, SupervisorOnly, ValidationFailed),
    ),
    ("GET", "/v1/areas/{area_code}/worklists/preview"): Operation(
        NO_BODY,
        (200,),
        "WorklistGeneration",
        "The split a generation would make now, without writing (supervisor)",
        errors=(*_OFFICER, SupervisorOnly, NoOfficers, ValidationFailed),
    ),
    ("GET", "/v1/areas/{area_code}/worklists"): Operation(
        NO_BODY,
        (200,),
        "OfficerLoads",
        "Each officer's load in the area and how much is done (supervisor)",
        errors=(*_OFFICER, SupervisorOnly, ValidationFailed),
    ),
    ("POST", "/v1/areas/{area_code}/worklists/reassign"): Operation(
        "shared.worklist_admin:ReassignRequest",
        (200,),
        "Reassigned",
        "Move an SLS's or a household's assignments to another officer (supervisor of the area)",
        errors=(*_OFFICER, SupervisorOnly, NothingToReassign, WorklistsChanged),
    ),
    ("GET", "/v1/areas/{area_code}/review"): Operation(
        NO_BODY,
        (200,),
        "ReviewQueue",
        "Households awaiting review, oldest flag first, by area and reason (supervisor)",
        query=("reason", "limit", "cursor"),
        errors=(*_OFFICER, SupervisorOnly, ValidationFailed),
    ),
    ("POST", "/v1/areas/{area_code}/review/decisions"): Operation(
        "shared.review:BulkDecisionRequest",
        (200,),
        "BulkDecision",
        "The same decision for many households, each conditional on the version seen (supervisor)",
        errors=(*_OFFICER, SupervisorOnly),
    ),
    ("GET", "/v1/households/{kk}/review"): Operation(
        NO_BODY,
        (200,),
        "HouseholdReview",
        "The response beside the register, and every version (supervisor)",
        errors=(*_OFFICER, SupervisorOnly, ValidationFailed),
    ),
    ("POST", "/v1/households/{kk}/review"): Operation(
        "shared.review:DecisionRequest",
        (200,),
        "Decision",
        "Accept as clean or send to the field; refused (409) if a correction arrived (supervisor)",
        errors=(*_OFFICER, SupervisorOnly, ReviewNotPending, ReviewVersionChanged),
    ),
    ("GET", "/v1/households/{kk}/audit"): Operation(
        NO_BODY,
        (200,),
        "AuditTrail",
        "A household's audit trail (supervisor of its area)",
        query=("format",),
        csv=True,
        errors=(*_OFFICER, SupervisorOnly, ValidationFailed),
    ),
    ("GET", "/v1/areas/{area_code}/audit"): Operation(
        NO_BODY,
        (200,),
        "AuditTrail",
        "An area's audit trail on one day (supervisor of the area)",
        query=("day", "format", "limit", "cursor"),
        csv=True,
        errors=(*_OFFICER, SupervisorOnly, ValidationFailed),
    ),
    ("POST", "/v1/reports"): Operation(
        "shared.reports:ReportRequest",
        (202,),
        "ReportFiled",
        "A household missing from the register reports itself (the same answer whether or not the KK exists)",
        headers=("Idempotency-Key",),
        errors=(IdempotencyKeyReused, TooManyReports, WriteConflict),
    ),
    ("GET", "/v1/reports/{reference}"): Operation(
        NO_BODY,
        (200,),
        "ReportStatus",
        "Where a report stands, by its reference (no personal data)",
        errors=(InvalidReportReference, ReportNotFound),
    ),
    ("GET", "/v1/areas"): Operation(
        NO_BODY, (200,), "AreaChildren", "The provinces of the area master list, by name (cacheable)"
    ),
    ("GET", "/v1/areas/{area_code}/children"): Operation(
        NO_BODY,
        (200,),
        "AreaChildren",
        "The named areas directly inside an area, for the report form's lists (cacheable)",
        errors=(ValidationFailed,),
    ),
    ("POST", "/v1/reports/{reference}/resolution"): Operation(
        "shared.field_cases:ResolutionRequest",
        (200, 201),
        "ReportResolved",
        "An officer resolves a report: enrolled (from the interview), matched to a register household, or not found",
        headers=("Idempotency-Key",),
        errors=(
            *_OFFICER,
            InvalidReportReference,
            ReportClosed,
            HouseholdExists,
            InvalidTransition,
            IdempotencyKeyReused,
            WriteConflict,
        ),
    ),
    ("POST", "/v1/households"): Operation(
        "shared.field_cases:NewHouseholdRequest",
        (200, 201),
        "HouseholdEnrolled",
        "An officer enrols a household found on no list, from the interview",
        headers=("Idempotency-Key",),
        errors=(*_OFFICER, HouseholdExists, InvalidTransition, IdempotencyKeyReused, WriteConflict),
    ),
}

_PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "kk": {"type": "string", "pattern": "^[0-9]{16}$", "description": "The KK (family card) number."},
    "receipt_code": {
        "type": "string",
        "pattern": "^[0-9A-Za-z -]{13,64}$",
        "description": "13 Crockford base32 characters; any case, hyphens and spaces ignored.",
    },
    "reference": {
        "type": "string",
        "pattern": "^[0-9A-Za-z -]{13,64}$",
        "description": "A report's reference: 13 Crockford base32 characters; any case, hyphens ignored.",
    },
    "area_code": {
        "type": "string",
        "pattern": "^[0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3}([0-9]{4}([0-9]{2})?)?)?)?)?$",
        "description": "Province 2, regency 4, district 7, village 10, SLS 14 or sub-SLS 16 digits.",
    },
    "table": {
        "type": "string",
        "enum": ["pyramid", "household_size", "relationship", "response_channel"],
        "description": "A published population table (docs/analytics.md).",
    },
}
_HEADERS: dict[str, dict[str, Any]] = {
    "Idempotency-Key": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Makes retries safe: the same key and body answer the first result again.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$"},
    },
    "If-Match": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "The draft's ETag (required once a draft exists; 412 when stale).",
        "schema": {"type": "string"},
    },
}
_QUERY: dict[str, dict[str, Any]] = {
    "limit": {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
    "cursor": {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "next_cursor of the previous page, as given.",
        "schema": {"type": "string", "maxLength": 2048},
    },
}

_QUERY["reason"] = {
    "name": "reason",
    "in": "query",
    "required": False,
    "description": "Only households flagged for this review reason.",
    "schema": {"type": "string", "maxLength": 64},
}
_QUERY["day"] = {
    "name": "day",
    "in": "query",
    "required": False,
    "description": "A day (UTC), YYYY-MM-DD; today by default.",
    "schema": {"type": "string", "maxLength": 32},
}
_QUERY["format"] = {
    "name": "format",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
}

_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_NULLABLE_INT = {"type": ["integer", "null"]}
# {code: name} of the areas an answer shows, as the area master list names them (codes it does
# not name are left out: the console shows the bare code).
_AREA_NAMES = {"type": "object", "additionalProperties": {"type": "string"}}


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """Answers may gain fields (clients ignore unknown ones), so extra properties are allowed."""
    return {"type": "object", "required": sorted(required), "properties": {**required, **(optional or {})}}


# Success answers: the fields clients rely on.
_ANSWERS: dict[str, dict[str, Any]] = {
    "SubmissionReceipt": _object(
        {"receipt_code": _STRING, "kk": _STRING, "version": _INT, "status": _STRING, "submitted_at": _STRING}
    ),
    "ReceiptStatus": _object(
        {
            "receipt_code": _STRING,
            "status": _STRING,
            "version": _INT,
            "channel": _STRING,
            "first_submitted_at": _STRING,
            "last_submitted_at": _STRING,
            "member_count": _INT,
        }
    ),
    "HouseholdStatus": _object(
        {
            "receipt_code": _NULLABLE_STRING,
            "status": _STRING,
            "version": _INT,
            "channel": _NULLABLE_STRING,
            "first_submitted_at": _NULLABLE_STRING,
            "last_submitted_at": _NULLABLE_STRING,
            "member_count": _NULLABLE_INT,
        }
    ),
    "WorklistGeneration": _object(
        {"area_code": _STRING, "households": _INT, "officers": _INT, "per_officer": {"type": "array"}},
        {"area_names": _AREA_NAMES},  # the preview's
    ),
    "WorklistPage": _object(
        {
            "officer_id": _STRING,
            "households": {"type": "array", "items": {"type": "object"}},
            "next_cursor": _NULLABLE_STRING,
        }
    ),
    "HouseholdForInterview": _object(
        {
            "kk": _STRING,
            "sls_code": _STRING,
            "status": _STRING,
            "version": _INT,
            "register_members": {"type": "array", "items": {"type": "object"}},
            "latest_response": {"type": ["object", "null"]},
        }
    ),
    "VisitAnswer": _object({"kk": _STRING, "outcome": _STRING, "status": _STRING, "version": _INT}),
    "AreaProgress": _object(
        {
            "area_code": _STRING,
            "households": _INT,
            "children": {"type": "array"},
            # A province or regency from its rollup (refreshed every refresh_seconds), the rest
            # live from the SLS counters; as_of: when the figures were summed.
            "source": {"type": "string", "enum": ["rollup", "live"]},
            "as_of": _STRING,
            "refresh_seconds": _NULLABLE_INT,
            "area_names": _AREA_NAMES,
        }
    ),
    "AreaTable": _object(
        {
            "area_code": _STRING,
            "table": _STRING,
            "reference_date": _STRING,
            "published_at": _STRING,
            "rows": {"type": "array"},
            "children": {"type": "array"},
        }
    ),
    "SessionToken": _object(
        {
            "token": _STRING,
            "token_type": {"const": "Bearer"},
            "expires_at": _STRING,
            "expires_in": _INT,
            "kk": _STRING,
            "password_set": {"type": "boolean"},
            # The household as GET /v1/session/household answers it: the page needs no second request.
            "household": {"$ref": "#/components/schemas/SessionHousehold"},
        }
    ),
    "SessionHousehold": _object(
        {
            "kk": _STRING,
            "register": {"type": "object"},
            "draft": {"type": ["object", "null"]},
            "latest": {"type": ["object", "null"]},
        }
    ),
    "DraftSaved": _object({"etag": _STRING, "saved_at": _STRING, "expires_at": _NULLABLE_STRING}),
    "PasswordReset": _object(
        {"kk": _STRING, "reset_at": _STRING, "reset_by": _STRING, "reset_code": _STRING, "expires_at": _STRING}
    ),
    "StaffMe": _object({"officer_id": _STRING, "roles": {"type": "array"}, "areas": {"type": "array"}}),
    "ProgressHistory": _object({"area_code": _STRING, "days": {"type": "array", "items": {"type": "object"}}}),
    "OfficerLoads": _object(
        {"area_code": _STRING, "households": _INT, "done": _INT, "officers": {"type": "array"}},
        {"generated_at": _NULLABLE_STRING, "generated_by": _NULLABLE_STRING, "area_names": _AREA_NAMES},
    ),
    "Reassigned": _object(
        {"area_code": _STRING, "to_officer": _STRING, "moved": _INT, "households": {"type": "array"}}
    ),
    "ReviewQueue": _object(
        {
            "area_code": _STRING,
            "households": {"type": "array", "items": {"type": "object"}},
            "next_cursor": _NULLABLE_STRING,
        },
        {"area_names": _AREA_NAMES},
    ),
    "HouseholdReview": _object(
        {
            "kk": _STRING,
            "status": _STRING,
            "version": _INT,
            "comparison": {"type": "array"},
            "versions": {"type": "array"},
        },
        {"area_names": _AREA_NAMES},
    ),
    "Decision": _object({"kk": _STRING, "decision": _STRING, "status": _STRING, "version": _INT}),
    "BulkDecision": _object({"decided": {"type": "array"}, "refused": {"type": "array"}}),
    "AuditTrail": _object({"records": {"type": "array", "items": {"type": "object"}}}),
    "ReportFiled": _object({"reference": _STRING, "status": {"const": "received"}}),
    "ReportStatus": _object(
        {
            "reference": _STRING,
            "status": {"enum": ["received", "visit_planned", "resolved"]},
            "filed_at": _STRING,
            "resolution": {"enum": ["enrolled", "matched", "not_found", None]},
            "resolved_at": _NULLABLE_STRING,
            "next_step": {"enum": ["wait_for_visit", "sign_in", "sign_in_register_kk", "contact_office"]},
        }
    ),
    "AreaChildren": _object(
        {
            "area_code": _NULLABLE_STRING,
            "children": {
                "type": "array",
                "items": _object({"code": _STRING, "name": _STRING}),
            },
        }
    ),
    "ReportResolved": _object({"reference": _STRING, "outcome": _STRING}),
    "HouseholdEnrolled": _object(
        {"kk": _STRING, "outcome": _STRING, "status": _STRING, "version": _INT, "receipt_code": _STRING}
    ),
}

_PROBLEM = {
    "type": "object",
    "required": ["code", "message", "field"],
    "properties": {
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "message": {"type": "string", "minLength": 1},
        "field": {"type": ["string", "null"]},
    },
    "additionalProperties": False,
}
_ERROR = {
    "type": "object",
    "description": "Every 4xx and 5xx answer: a stable machine-readable code, a message, the offending field.",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "additionalProperties": False,
            "properties": {
                **_PROBLEM["properties"],  # type: ignore[dict-item]
                "details": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
            },
        }
    },
}
_RETRY_AFTER = {
    "Retry-After": {
        "required": True,
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}


class UndocumentedRoute(Exception):
    """The template has routes this module does not describe (named in the message)."""


def _load_model(reference: str) -> Any:
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def request_schemas(references: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """{reference: its schema ($ref)} and the components they use, from the request structs'
    JSON schema (msgspec), in the form the document has always had: each property titled
    after its name unless it is a reference, an enumeration's values in their declared order
    and typed, no empty `required`."""
    import msgspec

    classes = [_load_model(ref) for ref in references]
    found, components = msgspec.json.schema_components(classes, ref_template=_REF)
    for schema in components.values():
        if "enum" in schema:
            schema["type"] = "string"
        for name, prop in schema.get("properties", {}).items():
            _declared_order(prop)
            refers = "$ref" in prop or any("$ref" in arm for arm in prop.get("anyOf", ()))
            if not refers:
                prop["title"] = name.replace("_", " ").title()
        if schema.get("required") == []:
            del schema["required"]
    for name, schema in components.items():
        enum_class = _enum_classes(classes).get(name)
        if enum_class is not None:
            schema["enum"] = [member.value for member in enum_class]
    return dict(zip(references, found, strict=True)), components


def _declared_order(prop: dict[str, Any]) -> None:
    """msgspec sorts a Literal's values; the document lists them as declared (in the code)."""
    for arm in [prop, *prop.get("anyOf", ())]:
        values = arm.get("enum")
        if values is not None and "$ref" not in arm:
            arm["type"] = "string"
            arm["enum"] = _LITERAL_ORDER.get(frozenset(values), values)


def _enum_classes(classes: list[Any]) -> dict[str, Any]:
    """Enumerations the structs use, by name (their values in declared order)."""
    import enum

    import msgspec

    seen: dict[str, Any] = {}
    pending = list(classes)
    while pending:
        cls = pending.pop()
        for info in msgspec.structs.fields(cls):
            for kind in _leaf_types(info.type):
                if isinstance(kind, type) and issubclass(kind, enum.Enum):
                    seen[kind.__name__] = kind
                elif isinstance(kind, type) and issubclass(kind, msgspec.Struct) and kind not in classes:
                    classes = [*classes, kind]
                    pending.append(kind)
    return seen


def _leaf_types(kind: Any) -> list[Any]:
    from typing import get_args

    args = get_args(kind)
    if not args:
        return [kind]
    return [leaf for arg in args for leaf in _leaf_types(arg)]


def _literal_orders() -> dict[frozenset[Any], list[Any]]:
    from typing import get_args

    from shared.field_cases import NotFoundReason
    from shared.fieldwork import Outcome

    return {frozenset(get_args(kind)): list(get_args(kind)) for kind in (Outcome, NotFoundReason)}


_LITERAL_ORDER = _literal_orders()


def missing_operations(routes: list[ApiRoute] | None = None) -> list[str]:
    """Template routes with no entry in OPERATIONS, as 'METHOD path'."""
    return [f"{r.method} {r.path}" for r in routes or api_routes() if (r.method, r.path) not in OPERATIONS]


def _error_response(description: str, retry_after: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry_after:
        answer["headers"] = _RETRY_AFTER
    return answer


def route_errors(spec: Operation) -> list[type[CensusError]]:
    """The catalogue's errors this route answers with, by status then code."""
    errors = {
        *_ANY_ROUTE,
        *spec.errors,
        *(_BODY if spec.body is not None else ()),
        *((TooManyAttempts,) if spec.lockout else ()),
    }
    return sorted(errors, key=lambda e: (e.status, e.code))


def _error_responses(spec: Operation) -> dict[str, Any]:
    """One response per status the route's errors answer with, naming their codes; then
    `4XX` for API Gateway's own refusals (route_not_found, too_many_requests, ...)."""
    by_status: dict[int, list[type[CensusError]]] = {}
    for error in route_errors(spec):
        by_status.setdefault(error.status, []).append(error)
    responses: dict[str, Any] = {}
    for status, errors in by_status.items():
        codes = [e.code for e in errors]
        retry = any(issubclass(e, RetryableError | TooManyAttempts | TooManyReports) for e in errors)
        answer = _error_response(f"{'Retry after Retry-After: ' if retry else ''}{', '.join(codes)}", retry)
        answer["x-error-codes"] = codes
        responses[str(status)] = answer
    responses["4XX"] = _error_response("Refused: see the error code")
    return dict(sorted(responses.items()))


def _operation(route: ApiRoute, spec: Operation, models: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    for segment in route.path.split("/"):
        if segment.startswith("{"):
            name = segment.strip("{}+")
            if name not in _PATH_PARAMETERS:
                raise UndocumentedRoute(f"{route.method} {route.path}: no schema for path parameter {name!r}")
            parameters.append({"name": name, "in": "path", "required": True, "schema": _PATH_PARAMETERS[name]})
    parameters += [_HEADERS[h] for h in spec.headers] + [_QUERY[q] for q in spec.query]
    responses: dict[str, Any] = {}
    for status in spec.success:
        if spec.pdf:
            content: dict[str, Any] = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
        else:
            schema = {"$ref": f"#/components/schemas/{spec.answer}"} if spec.answer else {"type": "object"}
            content = {"application/json": {"schema": schema}}
            if spec.csv:
                content["text/csv"] = {"schema": {"type": "string"}}
        responses[str(status)] = {"description": "OK" if status == 200 else "Created", "content": content}
        description = {200: "OK", 201: "Created", 202: "Accepted"}[status]
        responses[str(status)] = {"description": description, "content": content}
    responses.update(_error_responses(spec))
    operation: dict[str, Any] = {
        "operationId": f"{route.function_id}.{route.method.lower()}{route.path.replace('/', '_').strip('_')}",
        "summary": spec.summary,
        "tags": [route.function_id.removesuffix("Function")],
        "parameters": parameters,
        "responses": responses,
    }
    if spec.body == EMPTY_OBJECT:
        empty = {"type": "object", "additionalProperties": False, "maxProperties": 0}
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": empty}}}
    elif spec.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": models[spec.body]}}}
    if route.authorizer is not None:
        operation["security"] = [{"bearer": []}]
    elif spec.session:
        operation["security"] = [{"residentSession": []}]
    return operation


def build_document(routes: list[ApiRoute] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document for the template's routes, deterministic for the same code."""
    routes = routes if routes is not None else api_routes()
    missing = missing_operations(routes)
    if missing:
        raise UndocumentedRoute(
            "routes in template.yaml that census_ops/openapi.py does not describe "
            f"(add them to OPERATIONS): {', '.join(missing)}"
        )
    references = sorted({spec.body for spec in OPERATIONS.values() if spec.body not in (None, EMPTY_OBJECT)})
    models, definitions = request_schemas(references)
    schemas: dict[str, Any] = {
        **definitions,
        "Error": _ERROR,
        "Problem": _PROBLEM,
        **_ANSWERS,
    }
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(
            route, OPERATIONS[(route.method, route.path)], models
        )
    from importlib.metadata import version

    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Census service API",
            "version": version("census-service"),
            "description": "Generated by `census openapi` from template.yaml and the request models; "
            "do not edit docs/openapi.json by hand.",
        },
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": {
            "schemas": {name: schemas[name] for name in sorted(schemas)},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito ID token (officer or supervisor group); locally `census token`.",
                },
                "residentSession": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A resident's session token from POST /v1/sessions (also accepted, instead of "
                    "respondent_nik, by the submission and status routes).",
                },
            },
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def cmd_openapi(args: argparse.Namespace) -> int:
    text = render(build_document())
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Adds `census openapi [--out FILE]`."""
    parser = commands.add_parser("openapi", help="print the API's OpenAPI document (generated from the routes)")
    parser.add_argument(
        "--out", help=f"write it to this file (the committed copy: {DOCUMENT_PATH.relative_to(REPO_ROOT)})"
    )
    parser.set_defaults(func=cmd_openapi)
