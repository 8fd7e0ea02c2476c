from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.nik import (
    PROVINCE_CODES,
    InvalidIdentifier,
    check_nik_against,
    make_kk,
    make_nik,
    parse_kk,
    parse_nik,
)

# 1671 = Kota Palembang, district 04; born 5 March 1987; serial 0012.
MAN = "1671040503870012"
WOMAN = "1671044503870012"

regions = st.builds(
    lambda p, r, d: f"{p}{r:02d}{d:02d}",
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.integers(1, 99),
    st.integers(1, 99),
)
sexes = st.sampled_from(["male", "female"])
dates = st.dates(date(1900, 1, 1), date(2026, 12, 31))
serials = st.integers(1, 9999)


def rejected(parse: object, value: str, code: str) -> InvalidIdentifier:
    assert callable(parse)
    with pytest.raises(InvalidIdentifier) as info:
        parse(value)
    assert info.value.code == code
    if value:
        assert value not in info.value.message
        assert value not in str(info.value)
    return info.value


def test_province_codes() -> None:
    assert len(PROVINCE_CODES) == 38
    edges = {"11", "19", "21", "31", "36", "51", "53", "61", "65", "71", "76", "81", "82", "91", "96"}
    assert edges <= PROVINCE_CODES
    assert not {"10", "20", "22", "30", "37", "54", "66", "77", "83", "90", "97"} & PROVINCE_CODES


def test_invalid_identifier_is_a_value_error_with_code_and_message() -> None:
    error = InvalidIdentifier("invalid_nik", "The NIK is not valid.")
    assert isinstance(error, ValueError)
    assert (error.code, error.message, str(error)) == ("invalid_nik", "The NIK is not valid.", error.message)


def test_parse_known_nik() -> None:
    man = parse_nik(MAN)
    assert (man.value, man.region, man.sex, man.birth_day, man.birth_month, man.birth_yy, man.serial) == (
        MAN,
        "167104",
        "male",
        5,
        3,
        87,
        "0012",
    )
    woman = parse_nik(WOMAN)
    assert (woman.sex, woman.birth_day, woman.birth_month, woman.birth_yy) == ("female", 5, 3, 87)


@given(regions, sexes, dates, serials)
def test_make_and_parse_nik_round_trip(region: str, sex: str, born: date, serial: int) -> None:
    nik = make_nik(region, sex, born, serial)
    assert len(nik) == 16 and nik.isdigit()
    parsed = parse_nik(nik)
    assert parsed.value == nik
    assert parsed.region == region
    assert parsed.sex == sex
    assert (parsed.birth_day, parsed.birth_month, parsed.birth_yy) == (born.day, born.month, born.year % 100)
    assert parsed.serial == f"{serial:04d}"
    check_nik_against(nik, sex=sex, birth_date=born)


@given(regions, sexes, dates, serials)
def test_every_digit_typo_in_the_date_part_is_caught(region: str, sex: str, born: date, serial: int) -> None:
    nik = make_nik(region, sex, born, serial)
    for position in range(6, 12):
        for digit in "0123456789":
            if digit == nik[position]:
                continue
            typo = nik[:position] + digit + nik[position + 1 :]
            with pytest.raises(InvalidIdentifier) as info:
                check_nik_against(typo, sex=sex, birth_date=born)
            assert info.value.code in {"invalid_nik", "nik_sex_mismatch", "nik_birth_date_mismatch"}
            try:
                parsed = parse_nik(typo)
            except InvalidIdentifier:
                continue
            assert (parsed.sex, parsed.birth_day, parsed.birth_month, parsed.birth_yy) != (
                sex,
                born.day,
                born.month,
                born.year % 100,
            )


def test_female_day_is_offset_by_forty() -> None:
    assert make_nik("167104", "female", date(1987, 3, 5), 12) == WOMAN
    assert make_nik("167104", "male", date(1987, 3, 5), 12) == MAN
    assert make_nik("167104", "female", date(1987, 3, 31), 1)[6:8] == "71"
    assert parse_nik("1671047103870001").birth_day == 31
    for day in ("00", "32", "39", "40", "72", "80", "99"):
        rejected(parse_nik, f"167104{day}0387" + "0001", "invalid_nik")


@pytest.mark.parametrize(
    "ddmmyy",
    ["290200", "290204", "290296", "690200", "690204", "310187", "711287", "300487", "280201"],
)
def test_real_dates_accepted(ddmmyy: str) -> None:
    parse_nik(f"167104{ddmmyy}0001")


@pytest.mark.parametrize(
    "ddmmyy",
    ["290201", "290299", "690201", "300200", "310400", "710400", "010087", "011387", "320187", "000187"],
)
def test_impossible_dates_rejected(ddmmyy: str) -> None:
    rejected(parse_nik, f"167104{ddmmyy}0001", "invalid_nik")


@pytest.mark.parametrize(
    "value",
    [
        "1671040503870000",  # serial 0000
        "1071040503870012",  # province 10 does not exist
        "9971040503870012",  # province 99 does not exist
        "1600040503870012",  # regency 00
        "1671000503870012",  # district 00
        "167104050387001",  # 15 digits
        "16710405038700123",  # 17 digits
        "",
        " 1671040503870012",
        "1671040503870012\n",
        "1671-0405-0387-0012",
        "16710405038700l2",
        "١٦٧١٠٤٠٥٠٣٨٧٠٠١٢",  # Arabic-Indic digits: isdigit() is True for these
        "１６７１０４０５０３８７００１２",  # fullwidth digits
        "1671040503870０12",
    ],
)
def test_malformed_nik_rejected(value: str) -> None:
    rejected(parse_nik, value, "invalid_nik")


def test_non_string_rejected() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_nik(1671040503870012)  # type: ignore[arg-type]
    assert info.value.code == "invalid_nik"


def test_check_nik_against_codes() -> None:
    check_nik_against(MAN, sex="male", birth_date=date(1987, 3, 5))
    check_nik_against(WOMAN, sex="female", birth_date=date(1987, 3, 5))
    # The NIK holds only two digits of the year: the century cannot be checked.
    check_nik_against(MAN, sex="male", birth_date=date(1887, 3, 5))

    cases = [
        (MAN, "female", date(1987, 3, 5), "nik_sex_mismatch"),
        (WOMAN, "male", date(1987, 3, 5), "nik_sex_mismatch"),
        (MAN, "other", date(1987, 3, 5), "nik_sex_mismatch"),
        (MAN, "male", date(1987, 3, 6), "nik_birth_date_mismatch"),
        (MAN, "male", date(1987, 4, 5), "nik_birth_date_mismatch"),
        (MAN, "male", date(1988, 3, 5), "nik_birth_date_mismatch"),
        (MAN, "male", date(1978, 3, 5), "nik_birth_date_mismatch"),
        (WOMAN, "female", date(1987, 3, 15), "nik_birth_date_mismatch"),
        ("1671040503870000", "male", date(1987, 3, 5), "invalid_nik"),
    ]
    for nik, sex, born, code in cases:
        with pytest.raises(InvalidIdentifier) as info:
            check_nik_against(nik, sex=sex, birth_date=born)
        assert info.value.code == code, (sex, born)
        assert nik not in info.value.message


def test_make_nik_rejects_impossible_input() -> None:
    born = date(1987, 3, 5)
    for region in ("000000", "107104", "160004", "167100", "16710", "1671045", "１６７１０４", ""):
        with pytest.raises(ValueError):
            make_nik(region, "male", born, 1)
    for serial in (0, -1, 10000):
        with pytest.raises(ValueError):
            make_nik("167104", "male", born, serial)
    with pytest.raises(ValueError):
        make_nik("167104", "unknown", born, 1)


# ---------------------------------------------------------------- KK

KK = "1671040101200003"  # Palembang district 04, issued 1 January 2020, serial 0003


def test_parse_known_kk() -> None:
    kk = parse_kk(KK)
    assert (kk.value, kk.region, kk.issue_day, kk.issue_month, kk.issue_yy, kk.serial) == (
        KK,
        "167104",
        1,
        1,
        20,
        "0003",
    )


@given(regions, dates, serials)
def test_make_and_parse_kk_round_trip(region: str, issued: date, serial: int) -> None:
    kk = make_kk(region, issued, serial)
    parsed = parse_kk(kk)
    assert parsed.value == kk
    assert parsed.region == region
    assert (parsed.issue_day, parsed.issue_month, parsed.issue_yy) == (
        issued.day,
        issued.month,
        issued.year % 100,
    )
    assert parsed.serial == f"{serial:04d}"


@given(regions, dates, serials)
def test_kk_date_typos_are_rejected_or_change_the_date(region: str, issued: date, serial: int) -> None:
    kk = make_kk(region, issued, serial)
    for position in range(6, 12):
        for digit in "0123456789":
            if digit == kk[position]:
                continue
            typo = kk[:position] + digit + kk[position + 1 :]
            try:
                parsed = parse_kk(typo)
            except InvalidIdentifier as exc:
                assert exc.code == "invalid_kk"
                continue
            assert (parsed.issue_day, parsed.issue_month, parsed.issue_yy) != (
                issued.day,
                issued.month,
                issued.year % 100,
            )


@pytest.mark.parametrize(
    "value",
    [
        "1671040101200000",  # serial 0000
        "1671044101200003",  # day 41: the +40 rule is for women's NIKs, not KKs
        "1671040000200003",
        "1671043002200003",
        "1671042902210003",
        "1671043104200003",
        "1671040113200003",
        "2071040101200003",
        "1600040101200003",
        "1671000101200003",
        "167104010120003",
        "16710401012000030",
        "١٦٧١٠٤٠١٠١٢٠٠٠٠٣",
        "1671O40101200003",
        "",
    ],
)
def test_malformed_kk_rejected(value: str) -> None:
    rejected(parse_kk, value, "invalid_kk")


def test_kk_leap_days() -> None:
    parse_kk("1671042902000003")  # 2000 was a leap year
    parse_kk("1671042902240003")


def test_make_kk_rejects_impossible_input() -> None:
    issued = date(2020, 1, 1)
    for region in ("167100", "990104", "16710a"):
        with pytest.raises(ValueError):
            make_kk(region, issued, 1)
    for serial in (0, 10000):
        with pytest.raises(ValueError):
            make_kk("167104", issued, serial)
    assert make_kk("167104", issued, 3) == KK
