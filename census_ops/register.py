"""Population-register extracts: reading them for import, and generating a synthetic one.

An extract is a CSV with one row per person, sorted by KK. It is read as a stream, one
household (the contiguous rows of one KK) at a time, so a file of millions of rows needs
memory for one household only. A household with any bad row is rejected whole: importing
part of a family would make the census treat the rest as missing people.

Error messages name the line and the column, never the value: they are printed and logged.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import groupby
from pathlib import Path
from typing import TextIO

from shared.areas import validate_area_code
from shared.nik import InvalidIdentifier, check_nik_against, make_kk, make_nik, parse_kk, parse_nik
from shared.text import column_indexes, has_control_characters, name_problems
from shared.vocabulary import Relationship, Sex

# The register uses the census form's own vocabulary (shared.vocabulary).
RELATIONSHIPS: tuple[str, ...] = tuple(r.value for r in Relationship)
SEXES: tuple[str, ...] = tuple(s.value for s in Sex)
REGISTER_COLUMNS: tuple[str, ...] = (
    "kk",
    "nik",
    "name",
    "sex",
    "birth_date",
    "relationship",
    "address",
    "sls_code",
)

MAX_MEMBERS = 30
MAX_NAME_LENGTH = 100
MAX_ADDRESS_LENGTH = 200
EARLIEST_BIRTH = date(1900, 1, 1)
# The latest calendar date anywhere in Indonesia (WIT, UTC+9): a baby born today in
# Papua must not be "in the future" on a server running on UTC.
_EASTERNMOST = timezone(timedelta(hours=9))
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class RegisterPerson:
    nik: str
    name: str
    sex: str
    birth_date: date
    relationship: str


@dataclass(frozen=True)
class RegisterHousehold:
    kk: str
    address: str
    sls_code: str
    members: tuple[RegisterPerson, ...]
    first_line: int
    last_line: int

    @property
    def head_nik(self) -> str:
        return next(m.nik for m in self.members if m.relationship == "head")


@dataclass(frozen=True)
class RegisterError:
    kk_line_range: tuple[int, int]
    line: int  # 1-based physical line of the file; the header is line 1
    message: str


# ---------------------------------------------------------------- reading


def _column_indexes(header: list[str]) -> dict[str, int]:
    return column_indexes(header, REGISTER_COLUMNS, "register")


class _Household:
    """The rows of one KK seen so far, and what is wrong with them."""

    def __init__(self, kk: str, first_line: int, *, seen_before: bool) -> None:
        self.kk = kk
        self.first_line = first_line
        self.last_line = first_line
        self.rows = 0
        self.members: list[RegisterPerson] = []
        self.problems: list[tuple[int, str]] = []
        self.address: tuple[int, str] | None = None  # (line, value) of the first row
        self.sls_code: tuple[int, str] | None = None
        self.head_line: int | None = None
        self.nik_lines: dict[str, int] = {}
        try:
            parse_kk(kk)
        except InvalidIdentifier as exc:
            self.problems.append((first_line, f"kk is invalid: {exc.message}"))
        if seen_before:
            self.problems.append(
                (first_line, "kk already appeared earlier in the file; rows of one kk must be contiguous")
            )

    def add(self, line: int, last_line: int, row: list[str], columns: dict[str, int], today: date) -> None:
        self.last_line = last_line
        self.rows += 1
        if self.rows > MAX_MEMBERS:
            if self.rows == MAX_MEMBERS + 1:
                self.problems.append((line, f"the kk has more than {MAX_MEMBERS} members"))
            return  # keep memory bounded: the household is rejected anyway
        if len(row) != len(REGISTER_COLUMNS):
            self.problems.append((line, f"expected {len(REGISTER_COLUMNS)} columns, found {len(row)}"))
            return
        field = {name: row[index].strip() for name, index in columns.items()}
        problems: list[str] = []

        name = field["name"]
        problems += name_problems(name, MAX_NAME_LENGTH)

        sex = field["sex"]
        if sex not in SEXES:
            problems.append("sex must be male or female")
        relationship = field["relationship"]
        if relationship not in RELATIONSHIPS:
            problems.append("relationship is not one of the known relationships")

        birth_date: date | None = None
        if not _ISO_DATE.fullmatch(field["birth_date"]):
            problems.append("birth_date must be a date written YYYY-MM-DD")
        else:
            try:
                birth_date = date.fromisoformat(field["birth_date"])
            except ValueError:
                problems.append("birth_date is not a real date")
        if birth_date is not None and birth_date > today:
            problems.append("birth_date is in the future")
            birth_date = None
        elif birth_date is not None and birth_date < EARLIEST_BIRTH:
            problems.append("birth_date is before 1900")
            birth_date = None

        nik = field["nik"]
        try:
            if sex in SEXES and birth_date is not None:
                check_nik_against(nik, sex=sex, birth_date=birth_date)
            else:
                parse_nik(nik)
        except InvalidIdentifier as exc:
            if exc.code == "nik_sex_mismatch":
                problems.append("nik does not match the sex column")
            elif exc.code == "nik_birth_date_mismatch":
                problems.append("nik does not match the birth_date column")
            else:
                problems.append(f"nik is invalid: {exc.message}")
        if nik in self.nik_lines:
            problems.append(f"nik repeats the nik on line {self.nik_lines[nik]} of the same kk")
        self.nik_lines.setdefault(nik, line)

        if relationship == "head":
            if self.head_line is not None:
                problems.append(f"a second head in the same kk (the first is on line {self.head_line})")
            else:
                self.head_line = line

        address = field["address"]
        if not address:
            problems.append("address is empty")
        elif len(address) > MAX_ADDRESS_LENGTH:
            problems.append(f"address is longer than {MAX_ADDRESS_LENGTH} characters")
        if has_control_characters(address):
            problems.append("address contains control characters")
        if self.address is None:
            self.address = (line, address)
        elif address != self.address[1]:
            problems.append(f"address differs from line {self.address[0]} of the same kk")

        sls_code = field["sls_code"]
        try:
            validate_area_code(sls_code)
            if len(sls_code) < 14:
                problems.append("sls_code names an area larger than an SLS")
        except InvalidIdentifier as exc:
            problems.append(f"sls_code is invalid: {exc.message}")
        if self.sls_code is None:
            self.sls_code = (line, sls_code)
        elif sls_code != self.sls_code[1]:
            problems.append(f"sls_code differs from line {self.sls_code[0]} of the same kk")

        self.problems.extend((line, problem) for problem in problems)
        if not problems and birth_date is not None:
            self.members.append(RegisterPerson(nik, name, sex, birth_date, relationship))

    def result(self) -> RegisterHousehold | list[RegisterError]:
        problems = list(self.problems)
        if self.head_line is None:
            problems.append((self.first_line, "the kk has no member with relationship head"))
        if problems:
            span = (self.first_line, self.last_line)
            return [
                RegisterError(span, line, f"line {line}: {message}")
                for line, message in sorted(problems, key=lambda p: p[0])
            ]
        assert self.address is not None and self.sls_code is not None
        return RegisterHousehold(
            kk=self.kk,
            address=self.address[1],
            sls_code=self.sls_code[1],
            members=tuple(self.members),
            first_line=self.first_line,
            last_line=self.last_line,
        )


def register_sls_codes(stream: TextIO) -> list[str]:
    """The SLS codes (and sub-SLS codes) a register file names, read from its sls_code
    column alone by the register's own header and code rules, without parsing the rest: a
    tenth of read_register's time, for demo rosters and area lists."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        return []
    index = _column_indexes(header)["sls_code"]
    codes: set[str] = set()
    for row in reader:
        code = row[index].strip() if len(row) > index else ""
        if code in codes or len(code) < 14:
            continue
        try:
            codes.add(validate_area_code(code))
        except InvalidIdentifier:
            continue
    return sorted(codes)


def read_register(stream: TextIO, *, today: date | None = None) -> Iterator[RegisterHousehold | list[RegisterError]]:
    """Yield each household, or every error found in it, in file order.

    Open the file with newline="" so quoted fields and line numbers come out right.
    Raises ValueError if the header is not the register's.
    """
    if today is None:
        today = datetime.now(_EASTERNMOST).date()
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
        if header is None:
            raise ValueError(f"the register is empty; expected the header {','.join(REGISTER_COLUMNS)}")
        columns = _column_indexes(header)
        kk_index = columns["kk"]
        seen: set[str] = set()
        household: _Household | None = None
        end_of_previous_row = reader.line_num
        for row in reader:
            line, end_of_previous_row = end_of_previous_row + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank line
            kk = row[kk_index].strip() if kk_index < len(row) else ""
            if household is None or kk != household.kk:
                if household is not None:
                    yield household.result()
                household = _Household(kk, line, seen_before=kk in seen)
                seen.add(kk)
            household.add(line, reader.line_num, row, columns, today)
        if household is not None:
            yield household.result()
    except csv.Error as exc:
        # csv's messages describe the syntax problem, never the data.
        raise ValueError(f"line {reader.line_num}: the file is not well-formed CSV ({exc})") from None


# ---------------------------------------------------------------- demo register

_REFERENCE_DATE = date(2026, 1, 1)  # ages are relative to this, so output never depends on today
_PROVINCE_REGENCY = "1671"  # Kota Palembang, Sumatera Selatan
_DISTRICTS = 18
_HOUSEHOLDS_PER_SLS = 100
_MAX_HOUSEHOLD_SIZE = 9
_PROGRESS_EVERY = 500

_MALE_NAMES = (
    "Agus", "Ahmad", "Andi", "Arif", "Bambang", "Budi", "Dedi", "Dimas", "Eko", "Fajar",
    "Fauzi", "Hadi", "Hendra", "Ilham", "Imam", "Joko", "Kurniawan", "Muhammad", "Nur Hidayat",
    "Putra", "Rahmat", "Rizki", "Rudi", "Slamet", "Sugeng", "Surya", "Taufik", "Teguh",
    "Wahyu", "Yusuf", "Zainal", "Bayu", "Galih", "Irfan", "Yoga", "Hasan",
)  # fmt: skip
_FEMALE_NAMES = (
    "Ani", "Ayu", "Dewi", "Dian", "Endang", "Fitri", "Indah", "Intan", "Kartini", "Lestari",
    "Maya", "Mega", "Nur Aini", "Nurul", "Putri", "Rahmawati", "Ratna", "Rina", "Sari",
    "Siti", "Sri", "Suryani", "Tuti", "Wati", "Wulan", "Yanti", "Yuliani", "Anisa", "Citra",
    "Dina", "Fatimah", "Aisyah", "Nabila", "Safitri", "Kurnia", "Melati",
)  # fmt: skip
_FAMILY_NAMES = (
    "Saputra", "Hidayat", "Siregar", "Nasution", "Harahap", "Lubis", "Simanjuntak", "Pratama",
    "Wijaya", "Santoso", "Susanto", "Gunawan", "Setiawan", "Kusuma", "Halim", "Rahman",
    "Hasibuan", "Pane", "Sembiring", "Ginting", "Tarigan", "Panjaitan", "Situmorang", "Wibowo",
    "Nugroho", "Permana", "Firmansyah", "Maulana", "Hakim", "Syahputra", "Ramadhan",
    "Kurniadi", "Yulianto", "Purba", "Sitompul", "Manurung",
)  # fmt: skip
_STREETS = (
    "Merdeka", "Jenderal Sudirman", "Kapten Rivai", "Demang Lebar Daun", "Angkatan 45",
    "Basuki Rahmat", "Veteran", "Kolonel Atmo", "Mayor Ruslan", "Rajawali", "Kebun Bunga",
    "Sukabangun", "Seduduk Putih", "Bukit Besar", "Lunjuk Jaya", "Srijaya Negara", "Residen Abdul Rozak",
    "Mayor Zen", "Sultan Mahmud Badaruddin II", "Ahmad Yani", "Pangeran Ratu", "Silaberanti",
    "Tanjung Api-Api", "Sukarela", "Parameswara", "Inspektur Marzuki", "Letnan Simanjuntak",
)  # fmt: skip


@dataclass(frozen=True)
class _Sls:
    code: str  # 14 digits
    nik_region: str  # Dukcapil region of the district: 1671 + 2-digit district
    rt: int
    rw: int
    streets: tuple[str, ...]


def _geography(rng: random.Random, sls_count: int) -> list[_Sls]:
    """`sls_count` SLS spread evenly over the districts, grouped into villages of 3-6 SLS."""
    result: list[_Sls] = []
    for d in range(_DISTRICTS):
        in_district = sls_count // _DISTRICTS + (d < sls_count % _DISTRICTS)
        district = f"{_PROVINCE_REGENCY}{(d + 1) * 10:03d}"
        nik_region = f"{_PROVINCE_REGENCY}{d + 1:02d}"
        village, left = 0, in_district
        while left > 0:
            village += 1
            size = min(left, rng.randint(3, 6))
            left -= size
            for s in range(1, size + 1):
                streets = tuple(rng.sample(_STREETS, rng.randint(1, 3)))
                result.append(_Sls(f"{district}{village:03d}{s:04d}", nik_region, s, (s + 2) // 3, streets))
    return result


def _households_per_sls(rng: random.Random, households: int, sls_count: int) -> list[int]:
    weights = [rng.uniform(0.75, 1.25) for _ in range(sls_count)]
    total = sum(weights)
    counts = [int(households * w / total) for w in weights]
    for i in range(households - sum(counts)):
        counts[i % sls_count] += 1
    return counts


@dataclass
class _Person:
    name: str
    sex: str
    age: int
    relationship: str
    family: str


class _DemoHouseholds:
    """Builds households; keeps the serial counters that make every NIK and KK unique."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.nik_serials: dict[str, int] = {}
        self.kk_serials: dict[str, int] = {}
        self.used_names: set[str] = set()

    def _birth_date(self, age: int) -> date:
        """A birth date giving `age` on the reference date; never after it."""
        year = _REFERENCE_DATE.year - 1 - age
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(365))

    def _nik(self, region: str, sex: str, birth_date: date) -> str:
        while True:
            prefix = make_nik(region, sex, birth_date, 1)[:12]
            serial = self.nik_serials.get(prefix, 0) + 1
            if serial <= 9999:
                self.nik_serials[prefix] = serial
                return make_nik(region, sex, birth_date, serial)
            birth_date -= timedelta(days=1)  # this day is full; practically unreachable

    def _kk(self, region: str, head_birth: date) -> str:
        earliest = max(date(2005, 1, 1), head_birth.replace(year=head_birth.year + 18, day=1))
        latest = _REFERENCE_DATE - timedelta(days=1)
        issued = earliest + timedelta(days=self.rng.randrange((latest - earliest).days + 1))
        while True:
            prefix = make_kk(region, issued, 1)[:12]
            serial = self.kk_serials.get(prefix, 0) + 1
            if serial <= 9999:
                self.kk_serials[prefix] = serial
                return make_kk(region, issued, serial)
            issued -= timedelta(days=1)

    def _given(self, sex: str) -> str:
        """A given name not yet used in the household being built."""
        names = _MALE_NAMES if sex == "male" else _FEMALE_NAMES
        while True:
            name = self.rng.choice(names)
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def _people(self) -> list[_Person]:
        rng = self.rng
        self.used_names.clear()
        family = rng.choice(_FAMILY_NAMES)
        head_age = int(rng.triangular(22, 81, 40))
        head_sex = "male" if rng.random() < 0.85 else "female"
        people = [_Person(self._given(head_sex), head_sex, head_age, "head", family)]

        spouse: _Person | None = None
        spouse_chance = (0.9 if head_age < 65 else 0.65) if head_sex == "male" else 0.1
        if rng.random() < spouse_chance:
            sex = "female" if head_sex == "male" else "male"
            gap = round(rng.gauss(4, 3))
            age = head_age - gap if sex == "female" else head_age + gap
            spouse = _Person(self._given(sex), sex, max(19, min(age, 90)), "spouse", rng.choice(_FAMILY_NAMES))
            people.append(spouse)

        parents = [p.age for p in people]
        mother = next((p.age for p in people if p.sex == "female"), head_age)
        youngest_parent_gap = 17  # whole years: birth dates then differ by more than 16 years
        oldest_child = min(min(parents) - youngest_parent_gap, 40)
        youngest_child = max(0, mother - 45)
        wanted = rng.choices(range(6), weights=(20, 21, 28, 19, 8, 4))[0]
        if oldest_child >= youngest_child and wanted:
            age = rng.randint(max(youngest_child, oldest_child - 12), oldest_child)
            for _ in range(wanted):
                if age < youngest_child:
                    break
                sex = rng.choice(SEXES)
                people.append(_Person(self._given(sex), sex, age, "child", family))
                age -= rng.randint(1, 5)

        if rng.random() < 0.12:
            in_law = spouse is not None and rng.random() < 0.4
            base = spouse if in_law and spouse is not None else people[0]
            if base.age + 18 <= 92:
                sex = "female" if rng.random() < 0.7 else "male"
                age = rng.randint(base.age + 18, min(95, base.age + 40))
                relationship = "parent_in_law" if in_law else "parent"
                people.append(_Person(self._given(sex), sex, age, relationship, base.family))
        if head_age >= 45 and rng.random() < 0.15:
            for _ in range(rng.randint(1, 2)):
                sex = rng.choice(SEXES)
                age = rng.randint(0, min(15, head_age - 36))
                people.append(_Person(self._given(sex), sex, age, "grandchild", family))
        if rng.random() < 0.05:
            sex = rng.choice(SEXES)
            people.append(
                _Person(self._given(sex), sex, rng.randint(8, 70), "other_relative", rng.choice(_FAMILY_NAMES))
            )
        if rng.random() < 0.01:
            people.append(_Person(self._given("female"), "female", rng.randint(18, 50), "household_help", ""))
        return people[:_MAX_HOUSEHOLD_SIZE]

    def rows(self, sls: _Sls, house_number: int) -> list[dict[str, str]]:
        address = f"Jl. {self.rng.choice(sls.streets)} No. {house_number}, RT {sls.rt:03d}/RW {sls.rw:03d}"
        people = self._people()
        births = [self._birth_date(p.age) for p in people]
        kk = self._kk(sls.nik_region, births[0])
        return [
            {
                "kk": kk,
                "nik": self._nik(sls.nik_region, p.sex, born),
                "name": f"{p.name} {p.family}".strip(),
                "sex": p.sex,
                "birth_date": born.isoformat(),
                "relationship": p.relationship,
                "address": address,
                "sls_code": sls.code,
            }
            for p, born in zip(people, births, strict=True)
        ]


def generate_demo_register(households: int, *, seed: int = 2020) -> Iterator[dict[str, str]]:
    """Rows of a synthetic register for Kota Palembang, sorted by KK; the same for the same seed.

    One district is built at a time and sorted, so memory stays at one district's rows.
    """
    if households < 0:
        raise ValueError("households must not be negative")
    if households == 0:
        return
    rng = random.Random(seed)  # noqa: S311 -- synthetic data, reproducible by design
    sls_count = max(1, round(households / _HOUSEHOLDS_PER_SLS))
    areas = _geography(rng, sls_count)
    counts = _households_per_sls(rng, households, sls_count)
    builder = _DemoHouseholds(rng)
    plan = zip(areas, counts, strict=True)
    for _region, district in groupby(plan, key=lambda item: item[0].nik_region):
        rows: list[list[dict[str, str]]] = []
        for sls, count in district:
            number = 0
            for _ in range(count):
                number += rng.randint(1, 4)
                rows.append(builder.rows(sls, number))
        for household in sorted(rows, key=lambda members: members[0]["kk"]):
            yield from household


def write_demo_register(
    path: str | Path,
    households: int,
    *,
    seed: int = 2020,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the demo register CSV; returns the number of person rows.

    Written to a temporary file and renamed, so an interrupted run never leaves a
    truncated register that would import as if complete.
    """
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    rows = done = 0
    previous_kk = None
    try:
        with partial.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=REGISTER_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for row in generate_demo_register(households, seed=seed):
                if row["kk"] != previous_kk:
                    if previous_kk is not None:
                        done += 1
                        if progress and done % _PROGRESS_EVERY == 0:
                            progress(done)
                    previous_kk = row["kk"]
                writer.writerow(row)
                rows += 1
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    if progress:
        progress(households)
    return rows
