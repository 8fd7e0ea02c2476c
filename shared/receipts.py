"""Receipt codes: what a household writes down or reads over the phone to prove it responded.

Crockford base32 (no I, L, O, U) so codes survive handwriting and dictation; 60 random bits
so they cannot be guessed; a Luhn mod 32 check character so a mistyped code is caught
before any lookup. Luhn mod N catches every single-character substitution and every
adjacent transposition except 0<->Z (the two symbols whose doubled value minus
themselves collide mod 32).
"""

from __future__ import annotations

import secrets

from shared.nik import InvalidIdentifier

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_N = len(ALPHABET)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_PAYLOAD_LENGTH = 12
CODE_LENGTH = _PAYLOAD_LENGTH + 1
_MAX_INPUT_LENGTH = 64
# Crockford's decoding of look-alike letters; U stays invalid.
_ALIASES = {"O": "0", "I": "1", "L": "1"}


def _luhn_sum(values: list[int], *, double_first_from_right: bool) -> int:
    total = 0
    double = double_first_from_right
    for value in reversed(values):
        if double:
            value *= 2
            value = value // _N + value % _N
        total += value
        double = not double
    return total % _N


def _check_character(payload: str) -> str:
    total = _luhn_sum([_VALUE[ch] for ch in payload], double_first_from_right=True)
    return ALPHABET[(_N - total) % _N]


def new_receipt_code() -> str:
    bits = secrets.randbits(5 * _PAYLOAD_LENGTH)
    payload = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(_PAYLOAD_LENGTH))
    return payload + _check_character(payload)


def normalize_receipt_code(text: str) -> str:
    """The canonical 13-character form of a code as a person might type it."""

    def invalid(why: str) -> InvalidIdentifier:
        return InvalidIdentifier("invalid_receipt_code", f"The receipt code is not valid: {why}.")

    if not isinstance(text, str):
        raise invalid("it must be text")
    if len(text) > _MAX_INPUT_LENGTH:
        raise invalid("it is too long")
    # ASCII first: str.upper() maps some non-ASCII letters (dotless i) onto ASCII ones.
    if not text.isascii():
        raise invalid("it contains characters that are not in receipt codes")
    cleaned = "".join(_ALIASES.get(ch, ch) for ch in text.upper() if ch not in "- ")
    if any(ch not in _VALUE for ch in cleaned):
        raise invalid("it contains characters that are not in receipt codes")
    if len(cleaned) != CODE_LENGTH:
        raise invalid(f"it must have {CODE_LENGTH} characters")
    if _luhn_sum([_VALUE[ch] for ch in cleaned], double_first_from_right=False) != 0:
        raise invalid("the check character does not match; the code was probably mistyped")
    return cleaned


def format_receipt_code(code: str) -> str:
    """Groups of four are easier to read out and copy than 13 characters in a row."""
    canonical = normalize_receipt_code(code)
    return "-".join(canonical[i : i + 4] for i in range(0, CODE_LENGTH, 4))
