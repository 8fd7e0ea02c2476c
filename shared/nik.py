"""NIK (national identity number) and KK (family card number) checks.

Both are 16 digits: a 6-digit Dukcapil region (province, regency, district), a DDMMYY
date and a 4-digit serial. There is no check digit, so structure is all we can verify;
checking it catches most typing errors before a household is looked up.
Messages never repeat the value: they end up in logs and API answers.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

Sex = Literal["male", "female"]

PROVINCE_CODES: frozenset[str] = frozenset(
    [str(n) for n in range(11, 20)]
    + ["21"]
    + [str(n) for n in range(31, 37)]
    + ["51", "52", "53"]
    + [str(n) for n in range(61, 66)]
    + [str(n) for n in range(71, 77)]
    + ["81", "82"]
    + [str(n) for n in range(91, 97)]
)

_FEMALE_DAY_OFFSET = 40


class InvalidIdentifier(ValueError):
    """Raised for any malformed identifier; `code` is a stable machine-readable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Nik:
    value: str
    region: str
    sex: Sex
    birth_day: int
    birth_month: int
    birth_yy: int
    serial: str


@dataclass(frozen=True)
class Kk:
    value: str
    region: str
    issue_day: int
    issue_month: int
    issue_yy: int
    serial: str


def _is_ascii_digits(value: object, length: int) -> bool:
    # str.isdigit() alone accepts Arabic-Indic and other Unicode digits.
    return isinstance(value, str) and len(value) == length and value.isascii() and value.isdigit()


def _region_problem(region: str) -> str | None:
    """Why a 6-digit region is impossible, or None."""
    if region[:2] not in PROVINCE_CODES:
        return "the province code is not a known province"
    if region[2:4] == "00":
        return "the regency code is 00"
    if region[4:6] == "00":
        return "the district code is 00"
    return None


def _is_real_day(day: int, month: int, yy: int) -> bool:
    """True if day/month exists in 19YY or 20YY: the two-digit year leaves the century open."""
    if not 1 <= month <= 12 or day < 1:
        return False
    return any(day <= calendar.monthrange(century + yy, month)[1] for century in (1900, 2000))


def _parse_16(
    value: str, invalid: Callable[[str], InvalidIdentifier], date_part: str, *, women_add_40: bool = False
) -> tuple[int, int, int]:
    """What a NIK and a KK number share: 16 digits, a known region, a date (the NIK's day
    +40 for women: undone here before the date is checked) and a serial other than 0000.
    Returns the date's (day as written, month, two-digit year)."""
    if not _is_ascii_digits(value, 16):
        raise invalid("it must be exactly 16 digits")
    problem = _region_problem(value[:6])
    if problem:
        raise invalid(problem)
    written_day, month, yy = int(value[6:8]), int(value[8:10]), int(value[10:12])
    day = written_day - _FEMALE_DAY_OFFSET if women_add_40 and written_day > _FEMALE_DAY_OFFSET else written_day
    if not _is_real_day(day, month, yy):
        raise invalid(f"the {date_part} part is not a real date")
    if value[12:] == "0000":
        raise invalid("the serial number is 0000")
    return written_day, month, yy


def parse_nik(value: str) -> Nik:
    def invalid(why: str) -> InvalidIdentifier:
        return InvalidIdentifier("invalid_nik", f"The NIK is not valid: {why}.")

    day, month, yy = _parse_16(value, invalid, "birth date", women_add_40=True)
    sex: Sex = "male"
    if day > _FEMALE_DAY_OFFSET:
        sex, day = "female", day - _FEMALE_DAY_OFFSET
    return Nik(value, value[:6], sex, day, month, yy, value[12:])


def check_nik_against(nik: str, *, sex: str, birth_date: date) -> None:
    """The NIK encodes sex and birth date; a mismatch usually means a mistyped NIK or row."""
    parsed = parse_nik(nik)
    if parsed.sex != sex:
        raise InvalidIdentifier("nik_sex_mismatch", "The NIK does not match the given sex.")
    if (parsed.birth_day, parsed.birth_month, parsed.birth_yy) != (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        raise InvalidIdentifier("nik_birth_date_mismatch", "The NIK does not match the given birth date.")


def parse_kk(value: str) -> Kk:
    def invalid(why: str) -> InvalidIdentifier:
        return InvalidIdentifier("invalid_kk", f"The KK number is not valid: {why}.")

    day, month, yy = _parse_16(value, invalid, "issue date")
    return Kk(value, value[:6], day, month, yy, value[12:])


def _checked_region_and_serial(region: str, serial: int) -> str:
    if not _is_ascii_digits(region, 6):
        raise ValueError("region must be 6 digits")
    problem = _region_problem(region)
    if problem:
        raise ValueError(f"impossible region: {problem}")
    if not 1 <= serial <= 9999:
        raise ValueError("serial must be between 1 and 9999")
    return f"{serial:04d}"


def make_nik(region: str, sex: str, birth_date: date, serial: int) -> str:
    """Build a valid NIK, for the demo register and tests."""
    serial_text = _checked_region_and_serial(region, serial)
    if sex not in ("male", "female"):
        raise ValueError("sex must be male or female")
    day = birth_date.day + (_FEMALE_DAY_OFFSET if sex == "female" else 0)
    return f"{region}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial_text}"


def make_kk(region: str, issue_date: date, serial: int) -> str:
    """Build a valid KK number, for the demo register and tests."""
    serial_text = _checked_region_and_serial(region, serial)
    return f"{region}{issue_date.strftime('%d%m')}{issue_date.year % 100:02d}{serial_text}"
