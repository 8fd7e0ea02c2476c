from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.nik import InvalidIdentifier
from shared.receipts import format_receipt_code, new_receipt_code, normalize_receipt_code

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def is_valid(text: str) -> bool:
    try:
        normalize_receipt_code(text)
    except InvalidIdentifier as exc:
        assert exc.code == "invalid_receipt_code"
        return False
    return True


def complete(payload: str) -> str:
    """The payload plus its check character, found without using the implementation's own."""
    valid = [payload + check for check in ALPHABET if is_valid(payload + check)]
    assert len(valid) == 1, "exactly one check character must complete a payload"
    return valid[0]


payloads = st.text(alphabet=ALPHABET, min_size=12, max_size=12)
valid_codes = payloads.map(complete)


@pytest.mark.parametrize(
    "code",
    [
        "0000000000000",
        "000000000001Y",  # the rightmost payload character is doubled: check = 32 - 2
        "000000000010Z",  # the next one is not: check = 32 - 1
        "00000000000Z1",  # Z doubled is 62 -> 1 + 30 = 31: check = 1
    ],
)
def test_known_check_characters(code: str) -> None:
    assert normalize_receipt_code(code) == code


def test_new_codes_are_canonical_and_distinct() -> None:
    codes = [new_receipt_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert re.fullmatch(f"[{ALPHABET}]{{13}}", code)
        assert normalize_receipt_code(code) == code
        assert normalize_receipt_code(format_receipt_code(code)) == code
    # 60 random bits: every payload position takes many values across 2000 codes.
    for position in range(12):
        assert len({code[position] for code in codes}) > 20


@given(valid_codes)
def test_valid_code_normalizes_to_itself(code: str) -> None:
    assert normalize_receipt_code(code) == code


@given(valid_codes)
def test_formatted_code_normalizes_back(code: str) -> None:
    formatted = format_receipt_code(code)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]", formatted)
    assert formatted.replace("-", "") == code
    assert normalize_receipt_code(formatted) == code
    assert format_receipt_code(formatted) == formatted


@given(valid_codes, st.data())
def test_typed_variants_are_accepted(code: str, data: st.DataObject) -> None:
    lookalike = {"0": ["o", "O"], "1": ["i", "I", "l", "L"]}
    typed = "".join(
        data.draw(st.sampled_from([ch, ch.lower(), *lookalike.get(ch, [])]))
        + data.draw(st.sampled_from(["", "", "-", " "]))
        for ch in code
    )
    assert normalize_receipt_code(f"  {typed} ") == code


@given(valid_codes)
def test_every_single_substitution_is_rejected(code: str) -> None:
    for position in range(len(code)):
        for ch in ALPHABET:
            if ch != code[position]:
                assert not is_valid(code[:position] + ch + code[position + 1 :])


@given(valid_codes)
def test_adjacent_transpositions_are_rejected_except_zero_and_z(code: str) -> None:
    """Luhn mod 32 misses exactly one transposition pair: 0 and Z (both add 0 mod 32 when doubled)."""
    for position in range(len(code) - 1):
        a, b = code[position], code[position + 1]
        if a == b:
            continue
        swapped = code[:position] + b + a + code[position + 2 :]
        assert is_valid(swapped) == ({a, b} == {"0", "Z"})


def test_zero_z_transposition_is_the_known_blind_spot() -> None:
    code = complete("0Z0Z0Z0Z0Z0Z")
    assert is_valid("Z0" + code[2:])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "000000000000",  # 12 characters
        "00000000000000",  # 14 characters
        "0000000000001",  # wrong check character
        "000000000000U",  # U is not in Crockford base32
        "00000000000*0",
        "0000_0000_0000_0",
        "0000.0000.0000.0",
        "0000\t0000\t00000",
        "000000000001y\n",
        "00000000000ıY",  # dotless i: upper() would make it I, then 1: a valid code
        "０００００００００００００",  # fullwidth zeros
        "0000000000000" + "-" * 52,  # 65 characters
        " " * 100,
    ],
)
def test_rejected(text: str) -> None:
    assert not is_valid(text)


def test_long_input_rejected_before_cleaning() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_receipt_code("0000-0000-0000-0" + " " * 49)
    assert info.value.code == "invalid_receipt_code"
    assert normalize_receipt_code("0000-0000-0000-0" + " " * 48) == "0000000000000"


def test_message_does_not_repeat_the_input() -> None:
    code = new_receipt_code()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(InvalidIdentifier) as info:
        normalize_receipt_code(wrong)
    assert wrong not in info.value.message


def test_format_rejects_invalid_codes() -> None:
    with pytest.raises(InvalidIdentifier):
        format_receipt_code("0000000000001")
