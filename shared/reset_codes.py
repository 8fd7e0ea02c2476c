"""One-time password-reset codes. A supervisor who has checked the family card in person
resets the household's password and reads the family a short code; the family needs it
(with KK + a member's NIK) to set the new password. Without it a reset household cannot be
claimed by whoever holds a copy of the family card.

8 characters of Crockford base32 (40 random bits, no I, L, O, U), shown as `XXXX-XXXX`,
valid `RESET_CODE_TTL_SECONDS` (24 h). Stored only as a salted scrypt hash (the password
hasher's), single use, and guessing it counts toward the same per-KK lockout as passwords:
5 guesses per 15 minutes against 2^40 codes."""

from __future__ import annotations

import secrets

from shared.errors import FieldProblem, ValidationFailed
from shared.passwords import hash_password, verify_password
from shared.receipts import ALPHABET

CODE_LENGTH = 8
RESET_CODE_TTL_SECONDS = 24 * 3600
_ALIASES = {"O": "0", "I": "1", "L": "1"}
_MAX_INPUT_LENGTH = 32


def new_reset_code() -> str:
    """A fresh code in its canonical form (8 characters, no hyphen)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_reset_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalize_reset_code(text: str, field: str = "reset_code") -> str:
    """The canonical form of a code as a person types it: any case, with or without the
    hyphen or spaces, O for 0 and I/L for 1. A malformed code is a 422 on `field`."""
    invalid = ValidationFailed(
        [FieldProblem("invalid_reset_code", "The reset code has 8 letters and digits, e.g. 7K3M-9QXT.", field)]
    )
    if not isinstance(text, str) or len(text) > _MAX_INPUT_LENGTH or not text.isascii():
        raise invalid
    cleaned = "".join(_ALIASES.get(ch, ch) for ch in text.upper() if ch not in "- ")
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        raise invalid
    return cleaned


def hash_reset_code(code: str) -> str:
    return hash_password(code)


def reset_code_matches(code: str, stored_hash: str) -> bool:
    return verify_password(code, stored_hash)
