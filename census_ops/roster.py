"""The officer roster: who works in the field, and in which areas.

A CSV with one row per officer: `officer_id,name,role,area_codes`. `area_codes` lists one
or more area codes at any level, separated by `;` or spaces; an officer is sent only to
households inside them. Supervisors generate worklists for their areas.

Rows are checked one by one and a bad row is skipped with every problem in it reported,
so one typo does not hold up the rest of the roster. Messages name the line and column,
never the value: they are printed and logged, and names are personal data.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from shared.areas import validate_area_code, village_of
from shared.nik import InvalidIdentifier
from shared.text import column_indexes, name_problems

ROSTER_COLUMNS: tuple[str, ...] = ("officer_id", "name", "role", "area_codes")
ROLES: tuple[str, ...] = ("officer", "supervisor")
MAX_OFFICER_ID_LENGTH = 64
MAX_NAME_LENGTH = 100
_OFFICER_ID = re.compile(rf"[A-Za-z0-9_.-]{{1,{MAX_OFFICER_ID_LENGTH}}}")
_SEPARATORS = re.compile(r"[;\s]+")
_SLS_LENGTH = 14


@dataclass(frozen=True)
class RosterOfficer:
    officer_id: str
    name: str
    role: str
    areas: tuple[str, ...]  # sorted, without repeats
    line: int  # 1-based physical line of the file; the header is line 1


@dataclass(frozen=True)
class RosterError:
    line: int
    message: str


# ---------------------------------------------------------------- reading


def _column_indexes(header: list[str]) -> dict[str, int]:
    return column_indexes(header, ROSTER_COLUMNS, "roster")


def _officer_id_problem(officer_id: str) -> str | None:
    if not officer_id:
        return "officer_id is empty"
    if not _OFFICER_ID.fullmatch(officer_id):
        return (
            f"officer_id must be 1 to {MAX_OFFICER_ID_LENGTH} characters, "
            "each a letter A-Z or a-z, a digit, '_', '.' or '-'"
        )
    return None


def _areas(cell: str) -> tuple[tuple[str, ...], list[str]]:
    """The area codes of a cell, sorted and without repeats, and what is wrong with them."""
    codes = [code for code in _SEPARATORS.split(cell) if code]
    if not codes:
        return (), ["area_codes is empty; give at least one area code"]
    problems = []
    for position, code in enumerate(codes, start=1):
        try:
            validate_area_code(code)
        except InvalidIdentifier as exc:
            problems.append(f"area_codes item {position} is invalid: {exc.message}")
    return tuple(sorted(set(codes))), problems


def read_roster(stream: TextIO) -> Iterator[RosterOfficer | RosterError]:
    """Yield each officer, or one error per problem of a rejected row, in file order.

    Open the file with newline="" so quoted fields and line numbers come out right.
    Raises ValueError if the header is not the roster's or the file is not CSV. A repeated
    officer_id is an error on the later row, even if the earlier row was rejected, since
    either could be the one meant.
    """
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
        if header is None:
            raise ValueError(f"the roster is empty; expected the header {','.join(ROSTER_COLUMNS)}")
        columns = _column_indexes(header)
        first_seen: dict[str, int] = {}
        end_of_previous_row = reader.line_num
        for row in reader:
            line, end_of_previous_row = end_of_previous_row + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank line
            if len(row) != len(ROSTER_COLUMNS):
                yield RosterError(line, f"line {line}: expected {len(ROSTER_COLUMNS)} columns, found {len(row)}")
                continue
            field = {name: row[index].strip() for name, index in columns.items()}
            problems: list[str] = []

            officer_id = field["officer_id"]
            id_problem = _officer_id_problem(officer_id)
            if id_problem:
                problems.append(id_problem)
            elif officer_id in first_seen:
                problems.append(f"officer_id repeats the officer_id on line {first_seen[officer_id]}")
            else:
                first_seen[officer_id] = line

            problems.extend(name_problems(field["name"], MAX_NAME_LENGTH))
            role = field["role"].lower()
            if role not in ROLES:
                problems.append(f"role must be {' or '.join(ROLES)}")
            areas, area_problems = _areas(field["area_codes"])
            problems.extend(area_problems)

            if problems:
                yield from (RosterError(line, f"line {line}: {problem}") for problem in problems)
            else:
                yield RosterOfficer(officer_id, field["name"], role, areas, line)
    except csv.Error as exc:
        # csv's messages describe the syntax problem, never the data.
        raise ValueError(f"line {reader.line_num}: the file is not well-formed CSV ({exc})") from None


# ---------------------------------------------------------------- demo roster

_GIVEN_NAMES = (
    "Agus", "Ahmad", "Ani", "Ayu", "Bambang", "Budi", "Dewi", "Dian", "Eko", "Fajar",
    "Fitri", "Hendra", "Indah", "Intan", "Joko", "Lestari", "Maya", "Nurul", "Putri", "Rahmat",
    "Rina", "Rudi", "Sari", "Siti", "Sri", "Taufik", "Wahyu", "Wulan", "Yanti", "Yusuf",
)  # fmt: skip
_FAMILY_NAMES = (
    "Saputra", "Hidayat", "Siregar", "Nasution", "Harahap", "Lubis", "Pratama", "Wijaya",
    "Santoso", "Gunawan", "Setiawan", "Kusuma", "Rahman", "Hasibuan", "Sembiring", "Ginting",
    "Wibowo", "Nugroho", "Permana", "Maulana", "Hakim", "Syahputra", "Ramadhan", "Purba",
)  # fmt: skip


def _even_groups(items: list[str], groups: int) -> list[list[str]]:
    """`items` cut into `groups` consecutive runs whose lengths differ by at most one."""
    size, extra = divmod(len(items), groups)
    runs, start = [], 0
    for g in range(groups):
        end = start + size + (g < extra)
        runs.append(items[start:end])
        start = end
    return runs


def _officer_areas(sls: list[str], officers: int) -> list[tuple[str, ...]]:
    """Each field officer's areas: one SLS each, round-robin, if there are enough officers;
    otherwise neighbouring SLS of one village, or whole villages when officers are fewer."""
    if officers == 0:
        return []
    if officers >= len(sls):
        return [(sls[i % len(sls)],) for i in range(officers)]
    villages: dict[str, list[str]] = {}
    for code in sls:
        villages.setdefault(village_of(code), []).append(code)
    if officers < len(villages):
        return [tuple(group) for group in _even_groups(list(villages), officers)]
    # One officer per village, then each extra one to the village with most SLS per officer.
    share = dict.fromkeys(villages, 1)
    for _ in range(officers - len(villages)):
        busiest = max(villages, key=lambda v: len(villages[v]) / share[v])  # ties: the first village
        share[busiest] += 1
    areas: list[tuple[str, ...]] = []
    for village, codes in villages.items():
        if share[village] == 1:
            areas.append((village,))
        else:
            areas.extend(tuple(group) for group in _even_groups(codes, share[village]))
    return areas


def generate_demo_roster(sls_codes: Iterable[str], *, officers: int, seed: int = 2020) -> list[dict[str, str]]:
    """Roster rows for the demo register's SLS; the same for the same input and seed.

    `officers` field officers (OFC-0001, ...) so every SLS has one when there are enough,
    then a supervisor per district (SPV-<district>) and per regency (SPV-<regency>).
    The seed only picks the names.
    """
    if officers < 0:
        raise ValueError("officers must not be negative")
    sls = sorted(set(sls_codes))
    for code in sls:
        if len(validate_area_code(code)) < _SLS_LENGTH:
            raise ValueError("every code must be an SLS (14 digits) or sub-SLS (16 digits) code")
    if officers and not sls:
        raise ValueError("field officers need at least one SLS to cover")
    rng = random.Random(seed)  # noqa: S311 -- synthetic data, reproducible by design

    def row(officer_id: str, role: str, areas: Iterable[str]) -> dict[str, str]:
        name = f"{rng.choice(_GIVEN_NAMES)} {rng.choice(_FAMILY_NAMES)}"
        return {"officer_id": officer_id, "name": name, "role": role, "area_codes": ";".join(areas)}

    width = max(4, len(str(officers)))
    rows = [row(f"OFC-{i:0{width}d}", "officer", areas) for i, areas in enumerate(_officer_areas(sls, officers), 1)]
    for length in (7, 4):  # districts, then regencies
        rows.extend(row(f"SPV-{area}", "supervisor", [area]) for area in sorted({code[:length] for code in sls}))
    return rows


def write_demo_roster(path: str | Path, sls_codes: Iterable[str], *, officers: int, seed: int = 2020) -> int:
    """Write the demo roster CSV; returns the number of officer rows (supervisors included).

    Written to a temporary file and renamed, so an interrupted run never leaves half a roster.
    """
    rows = generate_demo_roster(sls_codes, officers=officers, seed=seed)
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=ROSTER_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return len(rows)
