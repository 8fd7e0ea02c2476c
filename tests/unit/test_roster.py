from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from census_ops.register import generate_demo_register
from census_ops.roster import (
    ROLES,
    ROSTER_COLUMNS,
    RosterError,
    RosterOfficer,
    generate_demo_roster,
    read_roster,
    write_demo_roster,
)
from shared.areas import is_within, village_of

Result = RosterOfficer | RosterError
HEADER = ",".join(ROSTER_COLUMNS)


def seed_sls() -> list[str]:
    """270 SLS as in the seed scenario: 18 districts, 3 villages of 5 SLS each."""
    return [f"1671{d * 10:03d}{v:03d}{s:04d}" for d in range(1, 19) for v in range(1, 4) for s in range(1, 6)]


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=ROSTER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def read(text: str) -> list[Result]:
    return list(read_roster(io.StringIO(text, newline="")))


def officers_of(results: list[Result]) -> list[RosterOfficer]:
    assert all(isinstance(r, RosterOfficer) for r in results), [r for r in results if isinstance(r, RosterError)]
    return [r for r in results if isinstance(r, RosterOfficer)]


def test_constants() -> None:
    assert ROSTER_COLUMNS == ("officer_id", "name", "role", "area_codes")
    assert ROLES == ("officer", "supervisor")


# ---------------------------------------------------------------- the demo roster


def test_demo_roster_for_the_seed_scenario_parses_cleanly() -> None:
    sls = seed_sls()
    rows = generate_demo_roster(sls, officers=2000)
    officers = officers_of(read(to_csv(rows)))
    assert len(officers) == 2000 + 18 + 1
    assert [o.line for o in officers] == list(range(2, len(officers) + 2))
    assert len({o.officer_id for o in officers}) == len(officers)

    field = [o for o in officers if o.role == "officer"]
    assert [o.officer_id for o in field] == [f"OFC-{i:04d}" for i in range(1, 2001)]
    assert all(len(o.areas) == 1 and len(o.areas[0]) == 14 for o in field)
    per_sls = Counter(o.areas[0] for o in field)
    assert set(per_sls) == set(sls) and set(per_sls.values()) == {7, 8}  # round-robin: 2000 = 7 * 270 + 110
    assert field[0].areas == (sls[0],) and field[270].areas == (sls[0],) and field[271].areas == (sls[1],)

    supervisors = [o for o in officers if o.role == "supervisor"]
    assert [o.officer_id for o in supervisors] == [f"SPV-1671{d * 10:03d}" for d in range(1, 19)] + ["SPV-1671"]
    assert all(o.areas == (o.officer_id[4:],) for o in supervisors)
    assert all(o.name and o.name.replace(" ", "").isalpha() for o in officers)


def test_demo_roster_is_deterministic() -> None:
    sls = seed_sls()[:40]
    rows = generate_demo_roster(sls, officers=25)
    assert generate_demo_roster(list(reversed(sls)), officers=25, seed=2020) == rows
    other = generate_demo_roster(sls, officers=25, seed=7)
    assert [r["name"] for r in other] != [r["name"] for r in rows]
    assert [(r["officer_id"], r["area_codes"]) for r in other] == [(r["officer_id"], r["area_codes"]) for r in rows]


@pytest.mark.parametrize("count", [1, 5, 6, 10, 17, 30, 44, 45])
def test_fewer_officers_than_sls_still_cover_every_sls(count: int) -> None:
    sls = seed_sls()[:45]  # 3 districts, 9 villages of 5 SLS
    officers = officers_of(read(to_csv(generate_demo_roster(sls, officers=count))))
    field = [o for o in officers if o.role == "officer"]
    assert len(field) == count
    for code in sls:
        assert any(is_within(code, area) for o in field for area in o.areas), code
    if count >= 9:  # at least one officer per village: nobody works in two villages
        assert all(len({village_of(a) for a in o.areas}) == 1 for o in field)
    covered = Counter(code for o in field for code in sls if any(is_within(code, a) for a in o.areas))
    assert set(covered.values()) == {1}  # no SLS given to two officers


def test_demo_roster_without_field_officers_and_errors() -> None:
    rows = generate_demo_roster(seed_sls()[:20], officers=0)
    assert [r["officer_id"] for r in rows] == ["SPV-1671010", "SPV-1671020", "SPV-1671"]
    assert generate_demo_roster([], officers=0) == []
    with pytest.raises(ValueError):
        generate_demo_roster([], officers=1)
    with pytest.raises(ValueError):
        generate_demo_roster(seed_sls()[:3], officers=-1)
    with pytest.raises(ValueError):
        generate_demo_roster(["1671010001"], officers=1)  # a village, not an SLS
    with pytest.raises(ValueError):
        generate_demo_roster(["1671010001000x"], officers=1)


def test_demo_roster_over_the_demo_register(tmp_path: Path) -> None:
    sls = {row["sls_code"] for row in generate_demo_register(1500)}
    path = tmp_path / "roster.csv"
    count = write_demo_roster(path, sls, officers=40)
    assert count == 40 + len({c[:7] for c in sls}) + 1
    assert not (tmp_path / "roster.csv.partial").exists()
    with path.open(newline="", encoding="utf-8") as stream:
        officers = officers_of(list(read_roster(stream)))
    assert len(officers) == count
    assert path.read_text(encoding="utf-8").splitlines()[0] == HEADER
    for code in sls:
        assert any(is_within(code, a) for o in officers if o.role == "officer" for a in o.areas)


# ---------------------------------------------------------------- reading


GOOD = "OFC-1,Siti Rahmawati,officer,16710100010001"


def test_a_good_roster() -> None:
    text = (
        f"{HEADER}\n{GOOD}\n"
        '\n"SPV.a_2","Budi Santoso",supervisor,"1671;1671010  16710100010001 ; 1671"\n'
        "x,Ani,Officer,1671010001000101\n"
    )
    assert read(text) == [
        RosterOfficer("OFC-1", "Siti Rahmawati", "officer", ("16710100010001",), 2),
        RosterOfficer("SPV.a_2", "Budi Santoso", "supervisor", ("1671", "1671010", "16710100010001"), 4),
        RosterOfficer("x", "Ani", "officer", ("1671010001000101",), 5),
    ]


def test_bad_rows_are_reported_by_line_without_values() -> None:
    rows = [
        GOOD,  # 2
        "OFC-2,Dewi Lestari,boss,1671",  # 3: bad role
        "OFC-3,Joko Wibowo,officer,1671;99710",  # 4: bad area code (the second)
        "OFC-4, ,officer,1671",  # 5: empty name
        "OFC-1,Rina Siregar,officer,1671",  # 6: repeats line 2
        "OFC-6,Sari Ginting,officer",  # 7: three columns
        "OFC 7,Eko\x07 Purba,,",  # 8: four problems
        "OFC-8,Agus Lubis,supervisor,1671010",  # 9
    ]
    results = read(HEADER + "\n" + "\n".join(rows) + "\n")
    officers = [r for r in results if isinstance(r, RosterOfficer)]
    errors = [r for r in results if isinstance(r, RosterError)]
    assert [(o.officer_id, o.line) for o in officers] == [("OFC-1", 2), ("OFC-8", 9)]
    expected = [
        (3, "role must be officer or supervisor"),
        (4, "area_codes item 2 is invalid"),
        (5, "name is empty"),
        (6, "officer_id repeats the officer_id on line 2"),
        (7, "expected 4 columns, found 3"),
        (8, "officer_id must be 1 to 64 characters"),
        (8, "name contains control or invisible characters"),
        (8, "role must be officer or supervisor"),
        (8, "area_codes is empty"),
    ]
    assert len(errors) == len(expected), errors
    for error, (line, part) in zip(errors, expected, strict=True):
        assert error.line == line and error.message.startswith(f"line {line}: ") and part in error.message, error
    values = [cell for row in rows for cell in row.split(",")[:2] if len(cell.strip()) >= 3]
    assert not [v for v in values for e in errors if v in e.message]


def test_field_limits() -> None:
    rows = [
        f"{'A' * 64},{'n' * 100},officer,1671",  # 2: at the limits
        f"{'A' * 65},Ani,officer,1671",  # 3
        f"B,{'n' * 101},officer,1671",  # 4
        "C,Ani,officer,1671010001x",  # 5
        "D,Ani,officer,;",  # 6
        "E,Ani\u2028Sari,officer,1671",  # 7
    ]
    results = read(HEADER + "\n" + "\n".join(rows) + "\n")
    assert isinstance(results[0], RosterOfficer)
    assert [(e.line, e.message) for e in results[1:] if isinstance(e, RosterError)] == [
        (3, "line 3: officer_id must be 1 to 64 characters, each a letter A-Z or a-z, a digit, '_', '.' or '-'"),
        (4, "line 4: name is longer than 100 characters"),
        (5, "line 5: area_codes item 1 is invalid: The area code is not valid: it must consist of digits only."),
        (6, "line 6: area_codes is empty; give at least one area code"),
        (7, "line 7: name contains control or invisible characters"),
    ]


def test_a_repeat_of_a_rejected_row_is_still_a_repeat() -> None:
    results = read(f"{HEADER}\nA,Ani,boss,1671\nA,Ani,officer,1671\n")
    assert [(r.line, r.message) for r in results if isinstance(r, RosterError)] == [
        (2, "line 2: role must be officer or supervisor"),
        (3, "line 3: officer_id repeats the officer_id on line 2"),
    ]


def test_line_numbers_count_physical_lines() -> None:
    text = f'{HEADER}\nA,"Ani\nSari",officer,1671\n\nB,Budi,sideways,1671\n'
    results = read(text)
    assert [(r.line, r.message) for r in results if isinstance(r, RosterError)] == [
        (2, "line 2: name contains control or invisible characters"),
        (5, "line 5: role must be officer or supervisor"),
    ]


def test_header() -> None:
    assert read(f"\ufeff{HEADER}\n{GOOD}\n")[0] == RosterOfficer(
        "OFC-1", "Siti Rahmawati", "officer", ("16710100010001",), 2
    )
    reordered = read("role, area_codes ,name,officer_id\nofficer,1671,Ani,A\n")
    assert reordered == [RosterOfficer("A", "Ani", "officer", ("1671",), 2)]
    assert read(HEADER + "\n") == []
    with pytest.raises(ValueError, match="line 1 is not the roster header: missing column"):
        read("officer_id,name,role\nA,Ani,officer\n")
    with pytest.raises(ValueError, match="1 unexpected or repeated column"):
        read(f"{HEADER},phone\n")
    with pytest.raises(ValueError, match="repeated"):
        read(f"{HEADER},name\n")
    with pytest.raises(ValueError, match="the roster is empty"):
        read("")
