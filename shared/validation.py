"""Request bodies into typed structs: msgspec's strict JSON decoding, its problems turned into
our stable codes and field paths (`members[2].nik`).

msgspec replaced pydantic here because importing pydantic and building its models cost
~45 ms of every cold start against msgspec's few (docs/decisions/0017). The answers did not
change: a body that decodes is accepted exactly when pydantic's strict mode accepted it, and
one that does not is walked again field by field (`problems`) so that the 422 lists every
problem with the same codes as before, not only the first one the decoder met.

The rules a struct declares:
- `Annotated[str, trimmed(min, max, pattern)]`: surrounding whitespace removed, then the
  length (and pattern) checked, as pydantic's `StringConstraints(strip_whitespace=True)`;
- any other `msgspec.Meta` constraint (lengths of lists and untrimmed strings, bounds);
- `check()`, run once the fields are right (pydantic's model validators): raises `Invalid`.
"""

from __future__ import annotations

import datetime
import enum
import re
import types
import typing
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union

import msgspec

from shared.errors import FieldProblem, MalformedRequest, ValidationFailed

# A password field of any request: the bound caps the hashing work a request can cause (a new
# password's own rules are in passwords.py).
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


def trimmed(min_length: int = 0, max_length: int | None = None, pattern: str | None = None) -> msgspec.Meta:
    """A string that loses its surrounding whitespace before its length and pattern are
    checked. The limits are documented in the JSON schema and enforced by `Body`."""
    schema: dict[str, Any] = {}
    if min_length:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    if pattern is not None:
        schema["pattern"] = pattern
    return msgspec.Meta(extra_json_schema=schema)


class Invalid(ValueError):
    """A rule across fields (or of one field) that the types cannot say: 422 invalid_value."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


class _Trim:
    __slots__ = ("max_length", "min_length", "pattern")

    def __init__(self, schema: dict[str, Any]) -> None:
        self.min_length: int = schema.get("minLength", 0)
        self.max_length: int | None = schema.get("maxLength")
        self.pattern = re.compile(schema["pattern"]) if "pattern" in schema else None

    def problem(self, value: str) -> tuple[str, str] | None:
        """(code, message) as pydantic named it, for an already stripped value."""
        if len(value) < self.min_length:
            unit = "character" if self.min_length == 1 else "characters"
            return "invalid_length", f"String should have at least {self.min_length} {unit}"
        if self.max_length is not None and len(value) > self.max_length:
            unit = "character" if self.max_length == 1 else "characters"
            return "invalid_length", f"String should have at most {self.max_length} {unit}"
        if self.pattern is not None and not self.pattern.search(value):
            return "invalid_value", f"String should match pattern '{self.pattern.pattern}'"
        return None


def _unwrap(kind: Any) -> tuple[Any, list[Any]]:
    """Annotated[X, *meta] -> (X, meta); anything else -> (it, [])."""
    if typing.get_origin(kind) is Annotated:
        return kind.__origin__, list(kind.__metadata__)
    return kind, []


def _optional(kind: Any) -> tuple[Any, bool]:
    """X | None -> (X, True)."""
    if typing.get_origin(kind) in (Union, types.UnionType):
        arms = [arm for arm in typing.get_args(kind) if arm is not type(None)]
        if len(arms) == 1 and len(arms) < len(typing.get_args(kind)):
            return arms[0], True
    return kind, False


def _trim_of(kind: Any) -> _Trim | None:
    base, metadata = _unwrap(_optional(kind)[0])
    for meta in metadata:
        if isinstance(meta, msgspec.Meta) and base is str and meta.extra_json_schema:
            return _Trim(meta.extra_json_schema)
    return None


# Unicode's White_Space characters: what a trimmed field loses at either end. Not str.strip(),
# which also takes U+001C-U+001F (separators, not spaces) and would accept a name the control-
# character rule refuses.
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)


def trim_spaces(value: str) -> str:
    return value.strip(WHITE_SPACE)


class Body(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A request body (or part of one): unknown fields refused, nothing coerced."""

    _trims: ClassVar[dict[type, dict[str, _Trim]]] = {}

    def __post_init__(self) -> None:
        for name, trim in _trims(type(self)).items():
            value = getattr(self, name)
            if isinstance(value, str):
                stripped = trim_spaces(value)
                found = trim.problem(stripped)
                if found is not None:
                    raise Invalid(found[1], name)
                if stripped != value:
                    msgspec.structs.force_setattr(self, name, stripped)
        self.check()

    def check(self) -> None:
        """Rules across fields; raise Invalid."""


def _trims(cls: type) -> dict[str, _Trim]:
    found = Body._trims.get(cls)
    if found is None:
        found = {}
        for info in msgspec.structs.fields(cls):
            trim = _trim_of(info.type)
            if trim is not None:
                found[info.name] = trim
        Body._trims[cls] = found
    return found


Model = TypeVar("Model", bound=Body)

_DECODERS: dict[type, msgspec.json.Decoder[Any]] = {}


def field_path(loc: tuple[int | str, ...]) -> str:
    """('members', 2, 'nik') -> 'members[2].nik', the form the API reports."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _decoder(model: type[Model]) -> msgspec.json.Decoder[Model]:
    decoder = _DECODERS.get(model)
    if decoder is None:
        decoder = _DECODERS[model] = msgspec.json.Decoder(model)
    return decoder


def parse_json(model: type[Model], body: str | bytes | None) -> Model:
    """Parse a request body; 400 if it is not JSON, 422 listing every shape problem."""
    if body is None or not body.strip():
        raise MalformedRequest("The request body is empty; send it as JSON.")
    try:
        return _decoder(model).decode(body)
    except msgspec.ValidationError:  # (a subclass of DecodeError: first)
        pass
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        raise MalformedRequest() from None
    # The decoder stops at the first wrong value, maybe before broken JSON further on.
    try:
        value = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        raise MalformedRequest() from None
    found = problems(model, value)
    if not found:  # never expected: the walk and the decoder disagree; still a 422, not a 500
        found = [FieldProblem("invalid_value", "The body does not match the expected shape.", None)]
    raise ValidationFailed(found) from None


# What a wrong value of each type is called (pydantic's error types, mapped to our codes).
def _problem(code: str, message: str, loc: tuple[int | str, ...]) -> FieldProblem:
    return FieldProblem(code, message, field_path(loc) or None)


def problems(kind: Any, value: Any, loc: tuple[int | str, ...] = ()) -> list[FieldProblem]:
    """Every problem of `value` as a `kind`, in the order pydantic listed them."""
    kind, nullable = _optional(kind)
    if value is None and nullable:
        return []
    base, metadata = _unwrap(kind)
    meta = next((m for m in metadata if isinstance(m, msgspec.Meta)), None)
    if isinstance(base, type) and issubclass(base, Body):
        return _struct_problems(base, value, loc)
    if typing.get_origin(base) is list:
        if not isinstance(value, list):
            return [_problem("invalid_type", "Input should be a valid list", loc)]
        item = typing.get_args(base)[0]
        if meta is not None and meta.max_length is not None and len(value) > meta.max_length:
            return [_problem("member_count", f"List should have at most {meta.max_length} items", loc)]
        if meta is not None and meta.min_length is not None and len(value) < meta.min_length:
            return [_problem("member_count", f"List should have at least {meta.min_length} item", loc)]
        return [p for i, v in enumerate(value) for p in problems(item, v, (*loc, i))]
    if typing.get_origin(base) is Literal or (isinstance(base, type) and issubclass(base, enum.Enum)):
        allowed = typing.get_args(base) if typing.get_origin(base) is Literal else [m.value for m in base]
        if value in allowed and isinstance(value, str):
            return []
        names = [repr(a) for a in allowed]
        listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
        return [_problem("invalid_choice", f"Input should be {listed}", loc)]
    return _scalar_problems(base, meta, value, loc)


def _struct_problems(cls: type[Body], value: Any, loc: tuple[int | str, ...]) -> list[FieldProblem]:
    if not isinstance(value, dict):
        return [_problem("invalid_type", "Input should be an object", loc)]
    fields = msgspec.structs.fields(cls)
    known = {info.encode_name for info in fields}
    # pydantic listed the unknown fields first, then each field's problems in their order.
    found = [_problem("unknown_field", "Extra inputs are not permitted", (*loc, k)) for k in value if k not in known]
    trims = _trims(cls)
    for info in fields:
        if info.encode_name not in value:
            if info.required:
                found.append(_problem("missing_field", "Field required", (*loc, info.encode_name)))
            continue
        item = value[info.encode_name]
        trim = trims.get(info.name)
        if trim is not None and isinstance(item, str):
            bad = trim.problem(trim_spaces(item))
            if bad is not None:
                found.append(_problem(*bad, (*loc, info.encode_name)))
            continue
        found.extend(problems(info.type, item, (*loc, info.encode_name)))
    if found:
        return found
    try:  # the fields are right: the struct's own rules (check())
        msgspec.convert(value, cls, strict=True)
    except msgspec.ValidationError as error:
        cause = error.__cause__
        if isinstance(cause, Invalid):
            where = (*loc, cause.field) if cause.field else loc
            return [_problem("invalid_value", f"Value error, {cause.message}", where)]
        return [_problem("invalid_value", str(error).split(" - at ")[0], loc)]
    return []


_SCALAR_CODES: dict[Any, tuple[str, str]] = {
    str: ("invalid_type", "Input should be a valid string"),
    bool: ("invalid_type", "Input should be a valid boolean"),
    int: ("invalid_value", "Input should be a valid integer"),
    float: ("invalid_value", "Input should be a valid number"),
    datetime.date: ("invalid_date", "Input should be a valid date in the format YYYY-MM-DD"),
}


def _scalar_problems(
    base: Any, meta: msgspec.Meta | None, value: Any, loc: tuple[int | str, ...]
) -> list[FieldProblem]:
    code, message = _SCALAR_CODES.get(base, ("invalid_value", "Input is not valid"))
    try:
        msgspec.convert(value, base, strict=True)
    except msgspec.ValidationError:
        return [_problem(code, message, loc)]
    if meta is None:
        return []
    try:
        msgspec.convert(value, Annotated[base, meta], strict=True)
    except msgspec.ValidationError as error:
        said = str(error).split(" - at ")[0]
        if base is str:  # a length (pydantic: string_too_short / string_too_long)
            return [
                _problem("invalid_length", said.replace("Expected `str` of length", "String should have length"), loc)
            ]
        return [_problem("invalid_value", said.replace("Expected `", "Input should be `"), loc)]
    return []


def as_json(body: Body) -> dict[str, Any]:
    """A body as JSON-ready builtins: enum values, ISO dates, every field (None as null)."""
    found: dict[str, Any] = msgspec.to_builtins(body)
    return found


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def compact_json(body: Body) -> str:
    """A body as compact JSON without its null fields (at any depth)."""
    return msgspec.json.encode(_without_nulls(msgspec.to_builtins(body))).decode()
