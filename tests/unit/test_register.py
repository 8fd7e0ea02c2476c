from __future__ import annotations

import csv
import io
import itertools
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest

from census_ops.register import (
    REGISTER_COLUMNS,
    RELATIONSHIPS,
    SEXES,
    RegisterError,
    RegisterHousehold,
    generate_demo_register,
    read_register,
    register_sls_codes,
    write_demo_register,
)
from shared.areas import is_within, validate_area_code
from shared.nik import check_nik_against, make_kk, make_nik, parse_kk, parse_nik

TODAY = date(2026, 1, 1)
COL = {name: i for i, name in enumerate(REGISTER_COLUMNS)}
Rows = list[list[str]]
Result = RegisterHousehold | list[RegisterError]


def test_constants() -> None:
    assert REGISTER_COLUMNS == (
        "kk",
        "nik",
        "name",
        "sex",
        "birth_date",
        "relationship",
        "address",
        "sls_code",
    )
    assert SEXES == ("male", "female")
    assert RELATIONSHIPS == (
        "head",
        "spouse",
        "child",
        "child_in_law",
        "grandchild",
        "parent",
        "parent_in_law",
        "other_relative",
        "household_help",
        "other",
    )


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def demo() -> list[dict[str, str]]:
    return list(generate_demo_register(300))


def group(rows: Iterable[dict[str, str]]) -> list[Rows]:
    households: list[Rows] = []
    for row in rows:
        cells = [row[c] for c in REGISTER_COLUMNS]
        if households and households[-1][0][COL["kk"]] == cells[COL["kk"]]:
            households[-1].append(cells)
        else:
            households.append([cells])
    return households


@pytest.fixture
def sample(demo: list[dict[str, str]]) -> list[Rows]:
    """Four good households of at least three people; tests break the second one."""
    return [h for h in group(demo) if len(h) >= 3][:4]


def to_csv(households: Iterable[Rows], header: Iterable[str] = REGISTER_COLUMNS) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for household in households:
        writer.writerows(household)
    return out.getvalue()


def read(text: str) -> list[Result]:
    return list(read_register(io.StringIO(text, newline=""), today=TODAY))


def line_of(households: list[Rows], index: int, row: int = 0) -> int:
    """Physical line of a row when every row takes one line (the header is line 1)."""
    return 2 + sum(len(h) for h in households[:index]) + row


def assert_rejected(households: list[Rows], bad: int, expected: list[tuple[int, str]]) -> list[RegisterError]:
    """Household `bad` is rejected with exactly `expected` (line, message part); the others pass."""
    results = read(to_csv(households))
    assert len(results) == len(households)
    for index, (household, result) in enumerate(zip(households, results, strict=True)):
        if index != bad:
            assert isinstance(result, RegisterHousehold), result
            assert result.kk == household[0][COL["kk"]]
            continue
        assert isinstance(result, list)
        got = [(e.line, e.message) for e in result]
        assert len(got) == len(expected), got
        for (line, message), (want_line, part) in zip(got, expected, strict=True):
            assert line == want_line, got
            assert message.startswith(f"line {line}: ")
            assert part in message, got
        span = (line_of(households, bad), line_of(households, bad) + len(households[bad]) - 1)
        assert all(e.kk_line_range == span for e in result)
        assert_no_values_in(result, households[bad])
        return result
    raise AssertionError("household not found")


def assert_no_values_in(errors: list[RegisterError], household: Rows) -> None:
    for row in household:
        for column in ("kk", "nik", "name", "birth_date", "address", "sls_code"):
            if column in REGISTER_COLUMNS and COL[column] < len(row) and len(row[COL[column]]) >= 4:
                assert all(row[COL[column]] not in e.message for e in errors), column


# ---------------------------------------------------------------- the demo register


def test_demo_register_parses_cleanly(demo: list[dict[str, str]]) -> None:
    results = read(to_csv(group(demo)))
    assert len(results) == 300
    households = [r for r in results if isinstance(r, RegisterHousehold)]
    assert len(households) == 300, [r for r in results if isinstance(r, list)][:3]
    assert sum(len(h.members) for h in households) == len(demo)
    assert all(sum(m.relationship == "head" for m in h.members) == 1 for h in households)
    assert 3.0 <= statistics.mean(len(h.members) for h in households) <= 4.5
    assert all(1 <= len(h.members) <= 9 for h in households)
    assert len({h.kk for h in households}) == 300
    niks = [r["nik"] for r in demo]
    assert len(set(niks)) == len(niks)
    kks = [r["kk"] for r in demo]
    assert kks == sorted(kks)
    # Lines: consecutive, no gaps, no overlaps.
    assert households[0].first_line == 2
    for before, after in itertools.pairwise(households):
        assert after.first_line == before.last_line + 1
    assert households[-1].last_line == len(demo) + 1


def test_demo_register_is_plausible(demo: list[dict[str, str]]) -> None:
    address = re.compile(r"Jl\. [A-Za-z0-9 .'-]+ No\. [0-9]+, RT [0-9]{3}/RW [0-9]{3}")
    sizes: Counter[int] = Counter()
    for household in group(demo):
        rows = [dict(zip(REGISTER_COLUMNS, row, strict=True)) for row in household]
        sizes[len(rows)] += 1
        head = rows[0]
        assert head["relationship"] == "head"
        born = {id(r): date.fromisoformat(r["birth_date"]) for r in rows}
        head_born = born[id(head)]
        assert date(1945, 1, 1) <= head_born <= date(2004, 1, 1)  # 22-80 on 2026-01-01
        assert all(b < TODAY for b in born.values())
        kk = parse_kk(head["kk"])
        assert kk.region.startswith("1671")
        assert 1 <= int(kk.region[4:]) <= 18
        sls = head["sls_code"]
        assert len(validate_area_code(sls)) == 14 and is_within(sls, "1671")
        assert sls[4:7] == f"{int(kk.region[4:]) * 10:03d}"  # BPS district 010.. matches NIK district 01..
        assert address.fullmatch(head["address"])
        assert len({r["address"] for r in rows}) == 1 and len({r["sls_code"] for r in rows}) == 1
        assert len({r["name"] for r in rows}) == len(rows)
        spouses = [r for r in rows if r["relationship"] == "spouse"]
        for r in rows:
            assert parse_nik(r["nik"]).region == kk.region
            check_nik_against(r["nik"], sex=r["sex"], birth_date=born[id(r)])
            if r["relationship"] == "spouse":
                assert r["sex"] != head["sex"]
            if r["relationship"] in {"child", "grandchild"}:
                assert born[id(r)] >= head_born.replace(year=head_born.year + 16, day=1)
            if r["relationship"] == "parent":
                assert born[id(r)].replace(day=1) <= head_born.replace(year=head_born.year - 16)
        for spouse in spouses:
            assert date.fromisoformat(spouse["birth_date"]) <= date(2007, 1, 1)  # adult
    assert sizes[1] > 0 and max(sizes) <= 9


def test_demo_register_is_deterministic(demo: list[dict[str, str]]) -> None:
    assert list(generate_demo_register(300)) == demo
    assert list(generate_demo_register(300, seed=2020)) == demo
    other = list(generate_demo_register(300, seed=7))
    assert other != demo
    assert {r["nik"] for r in other} != {r["nik"] for r in demo}


def test_demo_register_sizes() -> None:
    assert list(generate_demo_register(0)) == []
    assert len({r["kk"] for r in generate_demo_register(1)}) == 1
    assert len({r["kk"] for r in generate_demo_register(250, seed=3)}) == 250
    with pytest.raises(ValueError):
        list(generate_demo_register(-1))


def test_write_demo_register(tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    calls: list[int] = []
    rows = write_demo_register(path, 1200, seed=11, progress=calls.append)
    assert calls[-1] == 1200
    assert calls[:2] == [500, 1000]
    assert calls == sorted(calls)
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(REGISTER_COLUMNS)
    assert len(text.splitlines()) == rows + 1
    assert [p.name for p in tmp_path.iterdir()] == ["register.csv"]  # no temporary file left
    with path.open(newline="", encoding="utf-8") as stream:
        results = list(read_register(stream, today=TODAY))
    assert len(results) == 1200
    assert all(isinstance(r, RegisterHousehold) for r in results)
    assert write_demo_register(tmp_path / "again.csv", 1200, seed=11) == rows
    assert (tmp_path / "again.csv").read_bytes() == path.read_bytes()


# ---------------------------------------------------------------- good input


def test_household_fields(sample: list[Rows]) -> None:
    results = read(to_csv(sample))
    household = results[1]
    assert isinstance(household, RegisterHousehold)
    rows = sample[1]
    assert household.kk == rows[0][COL["kk"]]
    assert household.address == rows[0][COL["address"]]
    assert household.sls_code == rows[0][COL["sls_code"]]
    assert household.head_nik == rows[0][COL["nik"]]
    assert [m.nik for m in household.members] == [r[COL["nik"]] for r in rows]
    member = household.members[1]
    assert member.name == rows[1][COL["name"]]
    assert member.sex == rows[1][COL["sex"]]
    assert member.birth_date == date.fromisoformat(rows[1][COL["birth_date"]])
    assert member.relationship == rows[1][COL["relationship"]]
    assert (household.first_line, household.last_line) == (line_of(sample, 1), line_of(sample, 2) - 1)


def test_header_in_any_order_and_with_bom(sample: list[Rows]) -> None:
    order = list(reversed(REGISTER_COLUMNS))
    reordered = [[[row[COL[c]] for c in order] for row in h] for h in sample]
    results = read("\ufeff" + to_csv(reordered, header=order))
    assert all(isinstance(r, RegisterHousehold) for r in results)
    assert [r.kk for r in results if isinstance(r, RegisterHousehold)] == [h[0][0] for h in sample]


def test_line_numbers_are_physical_lines(sample: list[Rows]) -> None:
    for row in sample[2]:
        row[COL["address"]] = "Jl. Merdeka No. 1,\nRT 001/RW 001"  # quoted, spans two lines
    text = to_csv(sample).replace("\n" + sample[1][0][0], "\n\n" + sample[1][0][0], 1)  # blank line
    results = read(text)
    assert len(results) == 4
    first = [line_of(sample, i) for i in range(4)]
    h1, h2, h3 = results[1], results[2], results[3]
    assert isinstance(h1, RegisterHousehold) and h1.first_line == first[1] + 1
    assert isinstance(h2, list)
    start = first[2] + 1
    assert [e.line for e in h2] == [start + 2 * i for i in range(len(sample[2]))]
    assert all("address contains control characters" in e.message for e in h2)
    assert h2[0].kk_line_range == (start, start + 2 * len(sample[2]) - 1)
    assert isinstance(h3, RegisterHousehold) and h3.first_line == start + 2 * len(sample[2])


def test_exactly_thirty_members_accepted_and_thirty_one_rejected(sample: list[Rows]) -> None:
    template = sample[1][1]
    region = template[COL["nik"]][:6]
    born = date(2001, 2, 3)
    extra = []
    for serial in range(1, 31):
        row = list(template)
        row[COL["nik"]] = make_nik(region, row[COL["sex"]], born, 9000 + serial)
        row[COL["birth_date"]] = born.isoformat()
        row[COL["relationship"]] = "other"
        row[COL["name"]] = f"Orang {serial}"
        extra.append(row)
    thirty = [*sample[:1], sample[1] + extra[: 30 - len(sample[1])], *sample[2:]]
    assert all(isinstance(r, RegisterHousehold) for r in read(to_csv(thirty)))
    households = [*sample[:1], sample[1] + extra[: 31 - len(sample[1])], *sample[2:]]
    assert_rejected(households, 1, [(line_of(households, 1, 30), "more than 30 members")])


# ---------------------------------------------------------------- rejected households


def test_rows_disagreeing_on_address(sample: list[Rows]) -> None:
    sample[1][1][COL["address"]] = "Jl. Lain No. 99, RT 001/RW 001"
    assert_rejected(sample, 1, [(line_of(sample, 1, 1), f"address differs from line {line_of(sample, 1)}")])


def test_rows_disagreeing_on_sls(sample: list[Rows]) -> None:
    sample[1][2][COL["sls_code"]] = "16710990010099"
    assert_rejected(sample, 1, [(line_of(sample, 1, 2), "sls_code differs")])


def test_no_head(sample: list[Rows]) -> None:
    sample[1][0][COL["relationship"]] = "other_relative"
    assert_rejected(sample, 1, [(line_of(sample, 1), "no member with relationship head")])


def test_two_heads(sample: list[Rows]) -> None:
    sample[1][2][COL["relationship"]] = "head"
    assert_rejected(
        sample,
        1,
        [(line_of(sample, 1, 2), f"second head in the same kk (the first is on line {line_of(sample, 1)})")],
    )


def test_bad_nik(sample: list[Rows]) -> None:
    sample[1][1][COL["nik"]] = sample[1][1][COL["nik"]][:12] + "0000"
    assert_rejected(sample, 1, [(line_of(sample, 1, 1), "nik is invalid")])


def test_nik_sex_mismatch(sample: list[Rows]) -> None:
    row = sample[1][1]
    row[COL["sex"]] = "male" if row[COL["sex"]] == "female" else "female"
    assert_rejected(sample, 1, [(line_of(sample, 1, 1), "nik does not match the sex column")])


def test_nik_birth_date_mismatch(sample: list[Rows]) -> None:
    row = sample[1][2]
    born = date.fromisoformat(row[COL["birth_date"]])
    row[COL["birth_date"]] = born.replace(year=born.year - 1, day=min(born.day, 28)).isoformat()
    assert_rejected(sample, 1, [(line_of(sample, 1, 2), "nik does not match the birth_date column")])


def test_duplicate_nik(sample: list[Rows]) -> None:
    sample[1].append(list(sample[1][1]))
    at = line_of(sample, 1, len(sample[1]) - 1)
    assert_rejected(sample, 1, [(at, f"nik repeats the nik on line {line_of(sample, 1, 1)}")])


def test_future_birth_date(sample: list[Rows]) -> None:
    row = sample[1][1]
    row[COL["birth_date"]] = "2026-01-02"
    row[COL["nik"]] = make_nik(row[COL["nik"]][:6], row[COL["sex"]], date(2026, 1, 2), 1)
    assert_rejected(sample, 1, [(line_of(sample, 1, 1), "birth_date is in the future")])


def test_birth_date_today_is_accepted(sample: list[Rows]) -> None:
    row = sample[1][1]
    row[COL["birth_date"]] = TODAY.isoformat()
    row[COL["nik"]] = make_nik(row[COL["nik"]][:6], row[COL["sex"]], TODAY, 1)
    assert all(isinstance(r, RegisterHousehold) for r in read(to_csv(sample)))


@pytest.mark.parametrize("cells", [7, 9, 1])
def test_wrong_column_count(sample: list[Rows], cells: int) -> None:
    row = sample[1][1]
    sample[1][1] = [*row, "extra"][:cells] if cells != 1 else [row[0]]
    assert_rejected(sample, 1, [(line_of(sample, 1, 1), f"expected 8 columns, found {cells}")])


def test_non_contiguous_kk(sample: list[Rows]) -> None:
    moved = sample[1].pop()
    households = [sample[0], sample[1], sample[2], [moved], sample[3]]
    results = read(to_csv(households))
    assert len(results) == 5
    assert [isinstance(r, RegisterHousehold) for r in results] == [True, True, True, False, True]
    fragment = results[3]
    assert isinstance(fragment, list)
    at = line_of(households, 3)
    # The moved row also lacks a head on its own.
    assert [(e.line, e.kk_line_range) for e in fragment] == [(at, (at, at)), (at, (at, at))]
    assert "already appeared earlier" in fragment[0].message
    assert "no member with relationship head" in fragment[1].message
    assert_no_values_in(fragment, [moved])


def test_bad_kk(sample: list[Rows]) -> None:
    bad = make_kk("167101", date(2020, 1, 1), 1)[:12] + "0000"
    for row in sample[1]:
        row[COL["kk"]] = bad
    assert_rejected(sample, 1, [(line_of(sample, 1), "kk is invalid")])


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("sex", "Male", "sex must be male or female"),
        ("sex", "", "sex must be male or female"),
        ("relationship", "cousin", "relationship is not one of the known relationships"),
        ("name", "", "name is empty"),
        ("name", "   ", "name is empty"),
        ("name", "A" * 101, "name is longer than 100 characters"),
        ("name", "Budi\x00Santoso", "name contains control or invisible characters"),
        ("name", "Budi\x85Santoso", "name contains control or invisible characters"),
        ("birth_date", "1990/01/01", "birth_date must be a date written YYYY-MM-DD"),
        ("birth_date", "19900101", "birth_date must be a date written YYYY-MM-DD"),
        ("birth_date", "1990-02-30", "birth_date is not a real date"),
        ("birth_date", "1899-12-31", "birth_date is before 1900"),
        ("birth_date", "１９９０-01-01", "birth_date must be a date written YYYY-MM-DD"),
        ("nik", "", "nik is invalid"),
    ],
)
def test_bad_cell(sample: list[Rows], column: str, value: str, message: str) -> None:
    sample[1][1][COL[column]] = value
    assert_rejected(sample, 1, [(line_of(sample, 1, 1), message)])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1671010001", "sls_code names an area larger than an SLS"),
        ("16710100010000", "sls_code is invalid"),
        ("167101000100011", "sls_code is invalid"),
    ],
)
def test_bad_sls_code(sample: list[Rows], value: str, message: str) -> None:
    for row in sample[1]:  # consistent within the KK: only the code itself is wrong
        row[COL["sls_code"]] = value
    assert_rejected(sample, 1, [(line_of(sample, 1, i), message) for i in range(len(sample[1]))])


def test_address_problems(sample: list[Rows]) -> None:
    for row in sample[1]:
        row[COL["address"]] = "Jl. Merdeka\x1b[31m No. 1"
    expected = [(line_of(sample, 1, i), "address contains control characters") for i in range(len(sample[1]))]
    assert_rejected(sample, 1, expected)


def test_several_problems_all_reported(sample: list[Rows]) -> None:
    sample[1][0][COL["sex"]] = "x"
    sample[1][0][COL["relationship"]] = "boss"
    sample[1][2][COL["address"]] = "elsewhere"
    assert_rejected(
        sample,
        1,
        [
            (line_of(sample, 1), "sex must be male or female"),
            (line_of(sample, 1), "relationship is not one of"),
            (line_of(sample, 1), "no member with relationship head"),
            (line_of(sample, 1, 2), "address differs"),
        ],
    )


# ---------------------------------------------------------------- unusable files


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("kk,nik,name,sex,birth_date,relationship,address\n", "missing column(s) sls_code"),
        ("kk,nik,name,sex,birth_date,relationship,address,sls_code,notes\n", "1 unexpected or repeated"),
        ("kk,kk,nik,name,sex,birth_date,relationship,address,sls_code\n", "1 unexpected or repeated"),
        ("1671040101200003,1671040503870012,Budi,male,1987-03-05,head,Jl. X,16710400010001\n", "missing"),
    ],
)
def test_wrong_header(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        read(text)
    assert "1671040503870012" not in str(info.value)


def test_the_sls_codes_of_a_register_by_its_own_header_and_code_rules(sample: list[Rows]) -> None:
    """`census serve` reads the sls_code column alone for the demo roster and area list: the
    same codes a full parse gives, sub-SLS codes and a padded header included."""
    sample[1] = [
        [*row[: COL["sls_code"]], row[COL["sls_code"]] + "01", *row[COL["sls_code"] + 1 :]] for row in sample[1]
    ]
    sample[2] = [[*row[: COL["sls_code"]], "1671", *row[COL["sls_code"] + 1 :]] for row in sample[2]]  # a regency
    text = to_csv(sample, header=[f" {name} " for name in REGISTER_COLUMNS])
    parsed = sorted({h.sls_code for h in read(text) if isinstance(h, RegisterHousehold)})
    got = register_sls_codes(io.StringIO(text, newline=""))
    assert got == parsed and len(got) >= 2
    assert any(len(code) == 16 for code in got) and "1671" not in got
    assert register_sls_codes(io.StringIO("", newline="")) == []
    with pytest.raises(ValueError, match="register header"):
        register_sls_codes(io.StringIO("kk,nik\n1,2\n", newline=""))
