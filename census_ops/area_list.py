"""The area master list: codes and names of provinces, regencies, districts, villages and
SLS (`census import-areas FILE`, CSV `code,name,parent`), and a demo list for the demo
register (`census demo-areas`). Residents reporting a household the register missed pick
their SLS from these lists by name (GET /v1/areas, /v1/areas/{code}/children).

Idempotent: each row is put as is, so a rerun (after an interruption, or of a corrected
file) rewrites the same items. Every bad row is reported by line number, never quoting a
value, and skipped; the rest are imported."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from census_ops.runtime import add_target_arguments, count_lines, progress_bar, target_store
from shared.areas import LEVELS, parent_area, validate_area_code
from shared.nik import InvalidIdentifier
from shared.text import column_indexes, has_control_characters

AREA_COLUMNS: tuple[str, ...] = ("code", "name", "parent")
MAX_NAME_LENGTH = 100
BATCH = 100


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    parent: str | None
    line: int


@dataclass(frozen=True)
class AreaError:
    line: int
    message: str


@dataclass
class AreaReport:
    areas_written: int = 0
    errors: list[AreaError] = field(default_factory=list)


def read_areas(stream: TextIO) -> Iterator[AreaRow | AreaError]:
    """Each row, or what is wrong with it; ValueError if the header is not the list's."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        raise ValueError(f"the area list is empty; expected the header {','.join(AREA_COLUMNS)}")
    columns = column_indexes(header, AREA_COLUMNS, "area list")
    seen: dict[str, int] = {}
    end_of_previous = reader.line_num
    try:
        for row in reader:
            line, end_of_previous = end_of_previous + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(AREA_COLUMNS):
                yield AreaError(line, f"line {line}: expected {len(AREA_COLUMNS)} columns, found {len(row)}")
                continue
            code, name, parent = (row[columns[c]].strip() for c in AREA_COLUMNS)
            problems = []
            try:
                validate_area_code(code)
                expected = parent_area(code)
                if (parent or None) != expected:
                    problems.append(
                        "parent must be empty for a province" if expected is None else "parent is not the code's parent"
                    )
            except InvalidIdentifier as exc:
                problems.append(f"code is invalid: {exc.message}")
            if not name:
                problems.append("name is empty")
            elif len(name) > MAX_NAME_LENGTH:
                problems.append(f"name is longer than {MAX_NAME_LENGTH} characters")
            if has_control_characters(name):
                problems.append("name contains control or invisible characters")
            if code in seen:
                problems.append(f"code repeats the code on line {seen[code]}")
            seen.setdefault(code, line)
            if problems:
                yield AreaError(line, f"line {line}: {'; '.join(problems)}")
            else:
                yield AreaRow(code, name, parent or None, line)
    except csv.Error as exc:
        raise ValueError(f"line {reader.line_num}: the file is not well-formed CSV ({exc})") from None


def import_areas(path: Path, *, progress: Callable[[int], None] | None = None) -> AreaReport:
    from shared import store

    report = AreaReport()
    batch: list[store.AreaRecord] = []
    last_line = 0

    def flush() -> None:
        store.save_areas(batch)
        report.areas_written += len(batch)
        batch.clear()
        if progress:
            progress(last_line)

    with path.open(newline="", encoding="utf-8") as stream:
        for item in read_areas(stream):
            if isinstance(item, AreaError):
                report.errors.append(item)
                continue
            batch.append(store.AreaRecord(item.code, item.name, item.parent))
            last_line = item.line
            if len(batch) >= BATCH:
                flush()
    flush()
    return report


def import_areas_file(path: Path) -> int:
    """`census import-areas`' work, with a progress bar and the report (as `census serve` runs it)."""
    total = count_lines(path)
    with progress_bar(total, "lines", "import areas") as bar:
        report = import_areas(path, progress=lambda done: bar.update(max(0, done - bar.n)))
        bar.update(max(0, total - bar.n))
    print(f"{path.name}: {report.areas_written} areas imported, {len(report.errors)} rows rejected.", file=sys.stderr)
    for error in report.errors[:50]:
        print(f"  {error.message}", file=sys.stderr)
    if len(report.errors) > 50:
        print(f"  ... and {len(report.errors) - 50} more", file=sys.stderr)
    return 1 if report.errors else 0


# ---------------------------------------------------------------- the demo list

_PROVINCES = {"16": "Sumatera Selatan"}
_REGENCIES = {"1671": "Kota Palembang"}
_DISTRICTS = (
    "Ilir Barat II", "Gandus", "Seberang Ulu I", "Kertapati", "Jakabaring", "Seberang Ulu II", "Plaju",
    "Ilir Barat I", "Bukit Kecil", "Ilir Timur I", "Kemuning", "Ilir Timur II", "Kalidoni", "Ilir Timur III",
    "Sako", "Sematang Borang", "Sukarami", "Alang-Alang Lebar",
)  # fmt: skip
_VILLAGES = (
    "Bukit Lama", "Siring Agung", "Lorok Pakjo", "Demang Lebar Daun", "Talang Semut", "26 Ilir",
    "Kemang Agung", "Pipa Reja", "Sekip Jaya", "Duku", "Lawang Kidul", "Sungai Buah", "Bagus Kuning",
    "Tangga Takat", "Silaberanti", "Plaju Ulu", "Talang Putri", "Karya Jaya", "Keramasan", "Kemas Rindo",
    "Sukabangun", "Sukajaya", "Talang Betutu", "Kebun Bunga", "Srijaya", "Karya Baru", "Sako Baru",
    "Lebung Gajah", "Sukamaju", "Suka Mulya", "Bukit Baru", "Ario Kemuning", "Pahlawan", "Sei Selincah",
)  # fmt: skip


def demo_areas(sls_codes: Iterable[str]) -> list[tuple[str, str, str]]:
    """(code, name, parent) for every area enclosing the SLS codes, parents first."""
    rows: dict[str, tuple[str, str, str]] = {}
    villages_seen = 0
    for sls in sorted(set(sls_codes)):
        for length in sorted(LEVELS):
            if length > len(sls):
                break
            code = sls[:length]
            if code in rows:
                continue
            parent = parent_area(code) or ""
            level = LEVELS[length]
            if level == "province":
                name = _PROVINCES.get(code, f"Provinsi {code}")
            elif level == "regency":
                name = _REGENCIES.get(code, f"Kabupaten/Kota {code}")
            elif level == "district":
                index = int(code[4:7]) // 10 - 1
                name = _DISTRICTS[index] if 0 <= index < len(_DISTRICTS) else f"Kecamatan {code[4:7]}"
            elif level == "village":
                base = _VILLAGES[villages_seen % len(_VILLAGES)]
                round_ = villages_seen // len(_VILLAGES)
                name = base if round_ == 0 else f"{base} {round_ + 1}"
                villages_seen += 1
            elif level == "sls":
                rt = int(code[10:14])
                name = f"RT {rt:03d} / RW {(rt + 2) // 3:03d}"
            else:
                name = f"Sub-SLS {code[14:16]}"
            rows[code] = (code, name, parent)
    return sorted(rows.values(), key=lambda r: (len(r[0]), r[0]))


def write_demo_areas(path: Path, sls_codes: Iterable[str]) -> int:
    rows = demo_areas(sls_codes)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(AREA_COLUMNS)
        writer.writerows(rows)
    partial.replace(path)
    return len(rows)


def cmd_import_areas(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"census: no such file: {path}", file=sys.stderr)
        return 2
    try:
        with target_store(args):
            return import_areas_file(path)
    except ValueError as exc:
        print(f"census: {path.name}: {exc}", file=sys.stderr)
        return 2


def cmd_demo_areas(args: argparse.Namespace) -> int:
    from census_ops.fieldwork_cli import sls_codes_of

    rows = write_demo_areas(Path(args.out), sls_codes_of(Path(args.register)))
    print(f"wrote {rows} areas to {args.out}", file=sys.stderr)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Adds `census import-areas FILE` and `census demo-areas --register FILE --out FILE`."""
    parser = commands.add_parser("import-areas", help="import the area master list CSV (code,name,parent; idempotent)")
    parser.add_argument("file")
    add_target_arguments(parser)
    parser.set_defaults(func=cmd_import_areas)
    demo = commands.add_parser("demo-areas", help="write an area list naming every area of a register's SLS")
    demo.add_argument("--register", required=True)
    demo.add_argument("--out", required=True)
    demo.set_defaults(func=cmd_demo_areas)
