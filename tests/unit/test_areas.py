from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.areas import (
    LEVELS,
    ancestors,
    area_level,
    is_within,
    parent_area,
    validate_area_code,
    village_of,
)
from shared.nik import PROVINCE_CODES, InvalidIdentifier

SUB_SLS = "1671040001000102"
SLS = "16710400010001"
VILLAGE = "1671040001"
DISTRICT = "1671040"
CITY = "1671"
PROVINCE = "16"


def _segment(width: int, *, zero_allowed: bool = False) -> st.SearchStrategy[str]:
    return st.integers(0 if zero_allowed else 1, 10**width - 1).map(lambda n: f"{n:0{width}d}")


codes = st.builds(
    lambda province, segments, depth: province + "".join(segments[:depth]),
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.tuples(_segment(2), _segment(3), _segment(3), _segment(4), _segment(2, zero_allowed=True)),
    st.integers(0, 5),
)


def invalid(function: object, code: str) -> None:
    assert callable(function)
    with pytest.raises(InvalidIdentifier) as info:
        function(code)
    assert info.value.code == "invalid_area_code"
    if len(code) >= 4:  # shorter strings occur in the message by chance ("16 digits")
        assert code not in info.value.message


def test_levels() -> None:
    assert LEVELS == {2: "province", 4: "regency", 7: "district", 10: "village", 14: "sls", 16: "sub_sls"}
    assert [area_level(c) for c in (PROVINCE, CITY, DISTRICT, VILLAGE, SLS, SUB_SLS)] == [
        "province",
        "regency",
        "district",
        "village",
        "sls",
        "sub_sls",
    ]


@pytest.mark.parametrize(
    "code",
    [
        "",
        "1",
        "167",
        "16710",
        "167104",  # 6 digits: the NIK region, not a BPS area
        "16710400",
        "167104000",
        "16710400010",
        "167104000100010",
        "16710400010001000",
        "99",  # not a province
        "1071",
        "1600",  # regency 00
        "1671000",  # district 000
        "1671040000",  # village 000
        "16710400010000",  # SLS 0000
        "1671 040",
        "1671-04",
        "١٦٧١",  # Arabic-Indic digits
        "１６７１",  # fullwidth digits
    ],
)
def test_invalid_codes(code: str) -> None:
    for function in (validate_area_code, area_level, parent_area, ancestors, village_of):
        invalid(function, code)


def test_whole_sls_sub_code_is_valid() -> None:
    assert validate_area_code("1671040001000100") == "1671040001000100"
    assert area_level("1671040001000100") == "sub_sls"


def test_parents_and_ancestors() -> None:
    assert parent_area(SUB_SLS) == SLS
    assert parent_area(SLS) == VILLAGE
    assert parent_area(VILLAGE) == DISTRICT
    assert parent_area(DISTRICT) == CITY
    assert parent_area(CITY) == PROVINCE
    assert parent_area(PROVINCE) is None
    assert ancestors(SUB_SLS) == [PROVINCE, CITY, DISTRICT, VILLAGE, SLS]
    assert ancestors(DISTRICT) == [PROVINCE, CITY]
    assert ancestors(PROVINCE) == []


def test_is_within() -> None:
    assert is_within(SLS, CITY)
    assert is_within(SLS, SLS)
    assert is_within(SUB_SLS, VILLAGE)
    assert not is_within(SLS, "1672")
    assert not is_within(SLS, "1671050")
    assert not is_within(CITY, SLS)  # the larger area is not within the smaller
    assert not is_within("16710400010002", SLS)
    with pytest.raises(InvalidIdentifier):
        is_within(SLS, "167104")
    with pytest.raises(InvalidIdentifier):
        is_within("167104", CITY)


def test_village_of() -> None:
    assert village_of(SLS) == VILLAGE
    assert village_of(SUB_SLS) == VILLAGE
    assert village_of(VILLAGE) == VILLAGE
    for larger in (DISTRICT, CITY, PROVINCE):
        invalid(village_of, larger)


@given(codes)
def test_hierarchy_properties(code: str) -> None:
    assert validate_area_code(code) == code
    chain = ancestors(code)
    assert len(chain) == sorted(LEVELS).index(len(code))
    assert all(validate_area_code(a) == a for a in chain)
    assert [len(a) for a in chain] == sorted(LEVELS)[: len(chain)]
    assert parent_area(code) == (chain[-1] if chain else None)
    assert all(is_within(code, a) for a in [*chain, code])
    for a in chain:
        assert not is_within(a, code)
    if len(code) >= 10:
        assert village_of(code) == (chain[3] if len(code) > 10 else code)


@given(codes, codes)
def test_is_within_matches_ancestry(code: str, area: str) -> None:
    assert is_within(code, area) == (area == code or area in ancestors(code))
