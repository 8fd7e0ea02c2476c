"""The statistics office's (BPS) area codes.

A code is the concatenation of its levels' segments, so every prefix at a level boundary
names the enclosing area: `1671` city, `1671040` district, `1671040001` village. That
makes "is this household within my area" a prefix test, and lets keys sort by area.
"""

from __future__ import annotations

from shared.nik import PROVINCE_CODES, InvalidIdentifier

LEVELS: dict[int, str] = {2: "province", 4: "regency", 7: "district", 10: "village", 14: "sls", 16: "sub_sls"}
_LENGTHS: tuple[int, ...] = tuple(sorted(LEVELS))


def _invalid(why: str) -> InvalidIdentifier:
    return InvalidIdentifier("invalid_area_code", f"The area code is not valid: {why}.")


def validate_area_code(code: str) -> str:
    """Return `code` unchanged if it is a well-formed area code at any level."""
    if not (isinstance(code, str) and code.isascii() and code.isdigit()):
        raise _invalid("it must consist of digits only")
    if len(code) not in LEVELS:
        raise _invalid("it must be 2, 4, 7, 10, 14 or 16 digits long")
    if code[:2] not in PROVINCE_CODES:
        raise _invalid("the province code is not a known province")
    start = 2
    for end in _LENGTHS[1:]:
        if end > len(code):
            break
        # Sub-SLS 00 means the SLS as a whole; every other level starts at 1.
        if end != 16 and set(code[start:end]) == {"0"}:
            raise _invalid(f"the {LEVELS[end]} segment is all zeros")
        start = end
    return code


def area_level(code: str) -> str:
    return LEVELS[len(validate_area_code(code))]


def parent_area(code: str) -> str | None:
    """The directly enclosing area, or None for a province."""
    index = _LENGTHS.index(len(validate_area_code(code)))
    return code[: _LENGTHS[index - 1]] if index else None


def ancestors(code: str) -> list[str]:
    """Enclosing areas, province first, excluding `code` itself."""
    validate_area_code(code)
    return [code[:length] for length in _LENGTHS if length < len(code)]


def is_within(code: str, area: str) -> bool:
    """True if `code` is `area` or lies inside it."""
    validate_area_code(code)
    validate_area_code(area)
    return code.startswith(area)


def village_of(code: str) -> str:
    """The village containing an SLS or sub-SLS (or a village itself)."""
    if len(validate_area_code(code)) < 10:
        raise _invalid("it names an area larger than a village")
    return code[:10]


def area_code_parameter(code: str, field: str = "area_code") -> str:
    """An area code from a request: a malformed one is a 422 on `field`."""
    from shared.errors import FieldProblem, ValidationFailed

    try:
        return validate_area_code(code)
    except InvalidIdentifier as exc:
        raise ValidationFailed([FieldProblem(exc.code, exc.message, field)]) from None
