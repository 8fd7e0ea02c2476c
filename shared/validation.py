"""Request bodies into typed models: pydantic's strict JSON parsing, its errors turned
into our stable codes and field paths (`members[2].nik`)."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import BaseModel, StringConstraints, ValidationError

from shared.errors import FieldProblem, MalformedRequest, ValidationFailed

Model = TypeVar("Model", bound=BaseModel)

# A password field of any request: the bound caps the hashing work a request can cause (a new
# password's own rules are in passwords.py).
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]

# pydantic error types -> our stable codes. Anything unlisted is `invalid_value`.
_PYDANTIC_CODES = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "enum": "invalid_choice",
    "string_type": "invalid_type",
    "bool_type": "invalid_type",
    "list_type": "invalid_type",
    "model_type": "invalid_type",
    "model_attributes_type": "invalid_type",
    "date_type": "invalid_date",
    "date_parsing": "invalid_date",
    "date_from_datetime_parsing": "invalid_date",
    "date_from_datetime_inexact": "invalid_date",
    "string_too_short": "invalid_length",
    "string_too_long": "invalid_length",
    "too_short": "member_count",
    "too_long": "member_count",
    "literal_error": "invalid_choice",
}


def field_path(loc: tuple[int | str, ...]) -> str:
    """('members', 2, 'nik') -> 'members[2].nik', the form the API reports."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def parse_json(model: type[Model], body: str | bytes | None) -> Model:
    """Parse a request body; 400 if it is not JSON, 422 listing every shape problem."""
    if body is None or not body.strip():
        raise MalformedRequest("The request body is empty; send it as JSON.")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        if any(e["type"] in {"json_invalid", "json_type"} for e in errors):
            raise MalformedRequest() from None
        problems = [
            FieldProblem(_PYDANTIC_CODES.get(e["type"], "invalid_value"), e["msg"], field_path(e["loc"]) or None)
            for e in errors
        ]
        raise ValidationFailed(problems) from None
