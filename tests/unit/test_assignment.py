from __future__ import annotations

import random
from collections import Counter, defaultdict
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from census_ops.roster import generate_demo_roster
from shared.assignment import (
    FieldOfficer,
    Visit,
    balance_bound,
    covers,
    sls_splits,
    split_worklist,
    summarize,
    tolerance,
)
from shared.nik import InvalidIdentifier

Result = dict[str, list[Visit]]

# Two districts of Kota Palembang, three villages each, five SLS per village.
DISTRICTS = ("1671010", "1671020")
VILLAGES = tuple(f"{d}{v:03d}" for d in DISTRICTS for v in range(1, 4))
SLS = tuple(f"{v}{s:04d}" for v in VILLAGES for s in range(1, 6))
AREAS = ("1671", *DISTRICTS, *VILLAGES, *SLS)


def seed_sls() -> list[str]:
    """270 SLS as in the seed scenario: 18 districts, 3 villages of 5 SLS each."""
    return [f"1671{d * 10:03d}{v:03d}{s:04d}" for d in range(1, 19) for v in range(1, 4) for s in range(1, 6)]


def visits_in(sizes: dict[str, int]) -> list[Visit]:
    serial = iter(range(10**6))
    return [Visit(f"{1671010101200000 + next(serial)}", sls) for sls, size in sizes.items() for _ in range(size)]


def everywhere(m: int) -> list[FieldOfficer]:
    return [FieldOfficer(f"OFC-{i:04d}", ("1671",)) for i in range(1, m + 1)]


def loads(result: Result) -> dict[str, int]:
    return {officer_id: len(worklist) for officer_id, worklist in result.items()}


def owners(result: Result) -> dict[str, set[str]]:
    who: dict[str, set[str]] = defaultdict(set)
    for officer_id, worklist in result.items():
        for visit in worklist:
            who[visit.sls_code].add(officer_id)
    return who


def assert_complete(result: Result, visits: list[Visit], officers: list[FieldOfficer]) -> None:
    """Every officer appears, no visit is lost or duplicated, and each list is sorted."""
    assert sorted(result) == sorted(o.officer_id for o in officers)
    assert Counter(v for worklist in result.values() for v in worklist) == Counter(visits)
    for worklist in result.values():
        assert worklist == sorted(worklist, key=lambda v: (v.sls_code, v.kk))


def assert_balanced(counts: list[int], n: int) -> None:
    m = len(counts)
    assert sum(counts) == n
    assert max(counts) <= balance_bound(n, m)
    assert max(counts) - min(counts) <= tolerance(n, m)


# ---------------------------------------------------------------- strategies

sizes_strategy = st.dictionaries(st.sampled_from(SLS), st.integers(1, 60), max_size=len(SLS))


@st.composite
def visits_strategy(draw: st.DrawFn) -> list[Visit]:
    """Visits with KKs drawn at random (repeats allowed: the split must keep every copy)."""
    sizes = draw(sizes_strategy)
    kks = st.integers(0, 10**6).map(lambda i: f"{1671010101200000 + i}")
    return [Visit(draw(kks), sls) for sls, size in sizes.items() for _ in range(size)]


officers_strategy = st.lists(st.lists(st.sampled_from(AREAS), max_size=3).map(tuple), min_size=1, max_size=12).map(
    lambda areas: [FieldOfficer(f"OFC-{i:04d}", a) for i, a in enumerate(areas, 1)]
)


# ---------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(visits_strategy(), officers_strategy)
def test_nothing_lost_or_duplicated_and_coverage_respected(visits: list[Visit], officers: list[FieldOfficer]) -> None:
    result = split_worklist(visits, officers)
    assert_complete(result, visits, officers)
    by_id = {o.officer_id: o for o in officers}
    for officer_id, worklist in result.items():
        for visit in worklist:
            if any(covers(o, visit.sls_code) for o in officers):
                assert covers(by_id[officer_id], visit.sls_code)


@settings(max_examples=100, deadline=None)
@given(visits_strategy(), officers_strategy, st.randoms(use_true_random=False))
def test_deterministic_whatever_the_input_order(
    visits: list[Visit], officers: list[FieldOfficer], rng: random.Random
) -> None:
    result = split_worklist(visits, officers)
    shuffled_visits, shuffled_officers = list(visits), list(officers)
    rng.shuffle(shuffled_visits)
    rng.shuffle(shuffled_officers)
    shuffled = [FieldOfficer(o.officer_id, tuple(rng.sample(o.areas, len(o.areas)))) for o in shuffled_officers]
    assert split_worklist(shuffled_visits, shuffled) == result
    assert list(split_worklist(shuffled_visits, shuffled)) == list(result)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 300), max_size=40), st.integers(1, 40))
def test_balance_bound_when_everyone_covers_everything(sls_sizes: list[int], m: int) -> None:
    sizes = {f"1671010001{i + 1:04d}": size for i, size in enumerate(sls_sizes)}
    visits = visits_in(sizes)
    n = len(visits)
    result = split_worklist(visits, everywhere(m))
    assert_complete(result, visits, everywhere(m))
    assert_balanced(list(loads(result).values()), n)
    # SLS at most the tolerance stay whole.
    for sls, who in owners(result).items():
        if sizes[sls] <= tolerance(n, m):
            assert len(who) == 1, (sls, sizes[sls])


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.sampled_from(VILLAGES), st.integers(1, 6), min_size=1),
    sizes_strategy,
)
def test_balance_bound_within_each_village_when_officers_cover_one_village(
    officers_per_village: dict[str, int], sizes: dict[str, int]
) -> None:
    officers = [
        FieldOfficer(f"{village}-{i}", (village,))
        for village, count in officers_per_village.items()
        for i in range(count)
    ]
    covered = {sls: size for sls, size in sizes.items() if sls[:10] in officers_per_village}
    visits = visits_in(covered)
    result = split_worklist(visits, officers)
    assert_complete(result, visits, officers)
    for village in officers_per_village:
        counts = [len(w) for officer_id, w in result.items() if officer_id.startswith(village)]
        n = sum(size for sls, size in covered.items() if sls.startswith(village))
        assert_balanced(counts, n)
        for sls, who in owners(result).items():
            if sls.startswith(village) and covered[sls] <= tolerance(n, len(counts)):
                assert len(who) == 1


# ---------------------------------------------------------------- the seed scenario


def test_seed_scenario_officers_each_covering_one_sls() -> None:
    sls = seed_sls()
    rng = random.Random(2020)
    sizes = Counter(rng.choice(sls) for _ in range(5000))
    visits = visits_in(dict(sorted(sizes.items())))
    roster = generate_demo_roster(sls, officers=2000)
    officers = [
        FieldOfficer(r["officer_id"], tuple(r["area_codes"].split(";"))) for r in roster if r["role"] == "officer"
    ]
    assert len(officers) == 2000 and all(len(o.areas) == 1 for o in officers)

    result = split_worklist(visits, officers)
    assert_complete(result, visits, officers)
    by_id = {o.officer_id: o for o in officers}
    assert all(covers(by_id[officer_id], v.sls_code) for officer_id, w in result.items() for v in w)
    # Each SLS is its own pool: its 7 or 8 officers share it within the bound.
    per_sls: dict[str, list[int]] = defaultdict(list)
    for officer in officers:
        per_sls[officer.areas[0]].append(len(result[officer.officer_id]))
    for code, counts in per_sls.items():
        assert len(counts) in (7, 8)
        assert_balanced(counts, sizes[code])
    assert sls_splits(result) == sum(1 for size in sizes.values() if size > 1)


def test_seed_scenario_everyone_covering_everything() -> None:
    rng = random.Random(7)
    sizes = Counter(rng.choice(seed_sls()) for _ in range(5000))
    visits = visits_in(dict(sorted(sizes.items())))
    for m in (3, 20, 100, 2000):
        result = split_worklist(visits, everywhere(m))
        assert_complete(result, visits, everywhere(m))
        assert_balanced(list(loads(result).values()), 5000)
        if m <= 20:  # many SLS per officer: no need to split any
            assert sls_splits(result) == 0


# ---------------------------------------------------------------- concrete cases


def test_one_officer_gets_everything_sorted() -> None:
    visits = visits_in({SLS[3]: 4, SLS[0]: 2})
    result = split_worklist(list(reversed(visits)), [FieldOfficer("A", (SLS[20],))])  # covers none: still theirs
    assert result == {"A": sorted(visits, key=lambda v: (v.sls_code, v.kk))}


def test_more_officers_than_visits() -> None:
    visits = visits_in({SLS[0]: 2, SLS[1]: 1})
    result = split_worklist(visits, everywhere(10))
    assert sorted(loads(result).values()) == [0] * 7 + [1] * 3
    assert sls_splits(result) == 1


def test_no_visits() -> None:
    assert split_worklist([], everywhere(3)) == {"OFC-0001": [], "OFC-0002": [], "OFC-0003": []}
    assert split_worklist([], []) == {}


def test_visits_without_officers_or_with_a_repeated_officer_are_refused() -> None:
    with pytest.raises(ValueError, match="no officers"):
        split_worklist(visits_in({SLS[0]: 1}), [])
    with pytest.raises(ValueError, match="more than once"):
        split_worklist([], [FieldOfficer("A", ()), FieldOfficer("A", ("1671",))])


def test_bad_codes_are_refused() -> None:
    with pytest.raises(InvalidIdentifier):
        split_worklist([Visit("1671010101200001", "1671010001")], everywhere(1))  # a village, not an SLS
    with pytest.raises(InvalidIdentifier):
        split_worklist([Visit("1671010101200001", "9971010001000")], everywhere(1))
    with pytest.raises(InvalidIdentifier):
        split_worklist([], [FieldOfficer("A", ("16710",))])
    with pytest.raises(InvalidIdentifier):
        covers(FieldOfficer("A", ("1671",)), "16710100010x01")


def test_covers_is_by_area() -> None:
    officer = FieldOfficer("A", ("1671020", SLS[0]))
    assert covers(officer, SLS[0]) and covers(officer, SLS[-1])
    assert not covers(officer, SLS[1])
    assert covers(FieldOfficer("B", (SLS[0] + "01",)), SLS[0] + "01")
    assert not covers(FieldOfficer("B", (SLS[0] + "01",)), SLS[0])
    assert not covers(FieldOfficer("C", ()), SLS[0])


def test_households_stay_with_the_officers_who_cover_them_even_if_uneven() -> None:
    visits = visits_in({SLS[0]: 30, SLS[7]: 2})
    officers = [FieldOfficer("A", (SLS[0],)), FieldOfficer("B", (VILLAGES[1],)), FieldOfficer("C", ("1671020",))]
    result = split_worklist(visits, officers)
    assert loads(result) == {"A": 30, "B": 2, "C": 0}


def test_uncovered_sls_are_shared_by_everyone() -> None:
    visits = visits_in({SLS[0]: 6, SLS[-1]: 12})  # nobody covers district 1671020
    officers = [FieldOfficer("A", (SLS[0],)), FieldOfficer("B", (VILLAGES[0],)), FieldOfficer("C", (SLS[2],))]
    result = split_worklist(visits, officers)
    # SLS[0] goes to A and B first, then the 12 uncovered ones even everyone out at 6 each.
    assert loads(result) == {"A": 6, "B": 6, "C": 6}
    assert owners(result) == {SLS[0]: {"A", "B"}, SLS[-1]: {"A", "B", "C"}}


def test_overlapping_areas_fill_the_less_busy_officer() -> None:
    visits = visits_in({SLS[0]: 10, SLS[1]: 10})
    officers = [FieldOfficer("A", (VILLAGES[0],)), FieldOfficer("B", (SLS[0],))]
    result = split_worklist(visits, officers)
    assert {o: {v.sls_code for v in w} for o, w in result.items()} == {"A": {SLS[1]}, "B": {SLS[0]}}


def test_few_officers_get_neighbouring_sls() -> None:
    visits = visits_in(dict.fromkeys(SLS, 10))
    result = split_worklist(visits, everywhere(3))
    assert sls_splits(result) == 0
    assert [len(w) for w in result.values()] == [100, 100, 100]
    assert [summary["sls"] for summary in summarize(result)] == [list(SLS[:10]), list(SLS[10:20]), list(SLS[20:])]


def test_a_large_sls_is_shared_and_kept_in_kk_order() -> None:
    visits = visits_in({SLS[0]: 100, SLS[1]: 3})
    result = split_worklist(visits, everywhere(4))
    assert_balanced(list(loads(result).values()), 103)
    assert sls_splits(result) == 1
    assert len(owners(result)[SLS[1]]) == 1
    # Each officer's part of the large SLS is one run of consecutive KKs.
    kks = sorted(v.kk for v in visits if v.sls_code == SLS[0])
    for worklist in result.values():
        part = [v.kk for v in worklist if v.sls_code == SLS[0]]
        if part:
            start = kks.index(part[0])
            assert part == kks[start : start + len(part)]


def test_the_bound_is_tight() -> None:
    # The docstring's example: nobody can do better without splitting an SLS of 2.
    sizes = {f"1671010001{i:04d}": 2 for i in range(1, 32)}
    result = split_worklist(visits_in(sizes), everywhere(10))
    assert (tolerance(62, 10), balance_bound(62, 10)) == (2, 8)
    assert max(loads(result).values()) == 8
    assert sls_splits(result) == 0


def test_bound_values() -> None:
    assert [tolerance(n, 1) for n in (0, 1, 4, 5, 8, 9, 100)] == [1, 1, 1, 2, 2, 3, 25]
    assert [balance_bound(n, 1) for n in (0, 1, 5, 100)] == [0, 1, 5, 100]
    assert balance_bound(5000, 2000) == 3 and tolerance(5000, 2000) == 1
    assert balance_bound(5000, 10) == 500 + 125 - 13
    assert all(balance_bound(n, m) >= -(-n // m) for n in range(200) for m in range(1, 30))
    assert all(balance_bound(n, m) - n / m < tolerance(n, m) for n in range(200) for m in range(1, 30))
    with pytest.raises(ValueError):
        tolerance(-1, 3)
    with pytest.raises(ValueError):
        balance_bound(10, 0)


def test_summary_and_splits() -> None:
    result = {
        "B": [Visit("1", SLS[0]), Visit("2", SLS[1])],
        "A": [Visit("3", SLS[1])],
        "C": [],
    }
    assert summarize(result) == [
        {"officer_id": "A", "households": 1, "sls": [SLS[1]]},
        {"officer_id": "B", "households": 2, "sls": [SLS[0], SLS[1]]},
        {"officer_id": "C", "households": 0, "sls": []},
    ]
    assert sls_splits(result) == 1
    assert sls_splits({}) == 0


def test_worklists_are_sorted_by_sls_then_kk() -> None:
    visits = [Visit("3", SLS[1]), Visit("2", SLS[0]), Visit("1", SLS[1])]
    result = split_worklist(visits, everywhere(1))
    assert result["OFC-0001"] == [Visit("2", SLS[0]), Visit("1", SLS[1]), Visit("3", SLS[1])]
    assert all(a.sls_code <= b.sls_code for a, b in pairwise(result["OFC-0001"]))
