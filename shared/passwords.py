"""The household password: the rules a new one must meet, and its storage as a salted scrypt
hash. A KK number and a NIK are printed on the family card, whose copies circulate; the
password is what a copy does not give away. Never logged, never stored in clear."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from shared.errors import FieldProblem

MIN_LENGTH = 8  # NIST SP 800-63B's floor for a memorised secret a person chooses
MAX_LENGTH = 128  # bounds the hashing work an attacker can ask for
# scrypt at n=2**14, r=8, p=1 (16 MiB, ~50 ms): the interactive-login parameters of the
# scrypt paper; an offline guess costs the same, which is the point.
_N, _R, _P, _DKLEN = 2**14, 8, 1, 32
_MAXMEM = 64 * 1024 * 1024
_SCHEME = "scrypt"

# The passwords people choose first, worldwide and in Indonesia (compared case-insensitively).
COMMON_PASSWORDS = frozenset(
    """
    password password1 password123 passw0rd p@ssw0rd p@ssword qwerty123 qwertyuiop qwerty12 12345678
    123456789 1234567890 0987654321 87654321 11111111 00000000 12341234 12344321 11223344 123123123
    123321123 147258369 159753159 1q2w3e4r 1q2w3e4r5t qazwsxedc zaq12wsx asdfghjk asdfghjkl zxcvbnm123
    iloveyou iloveyou1 sunshine princess football baseball superman batman123 trustno1 welcome1
    welcome123 letmein1 letmein123 monkey123 dragon123 master123 shadow123 abc12345 abcd1234 abcdefgh
    admin123 administrator changeme secret123 default1 computer internet whatever starwars
    indonesia indonesia1 indonesia123 indonesiaraya merdeka1 merdeka45 merdeka17 garuda123 pancasila
    bismillah bismillah1 bismillah123 alhamdulillah assalamualaikum insyaallah masyaallah allahuakbar
    sayangku sayang123 cintaku cinta123 cintaku123 akusayangkamu kamusayang rahasia rahasia123
    sensus2020 sensus2030 sensus123 sensuspenduduk jakarta1 jakarta123 surabaya bandung123
    keluarga keluarga1 keluarga123 bapakibu mamapapa
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def password_problems(password: str, identifiers: tuple[str, ...], field: str) -> list[FieldProblem]:
    """Why a new password is refused (empty if it is acceptable)."""
    problems: list[FieldProblem] = []
    if len(password) < MIN_LENGTH:
        problems.append(
            FieldProblem("password_too_short", f"The password needs at least {MIN_LENGTH} characters.", field)
        )
    elif len(password) > MAX_LENGTH:
        problems.append(
            FieldProblem("password_too_long", f"The password may have at most {MAX_LENGTH} characters.", field)
        )
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        problems.append(
            FieldProblem("invalid_password", "The password contains characters that cannot be used.", field)
        )
        return problems
    folded = password.casefold()
    if folded in COMMON_PASSWORDS or len(set(folded)) <= 2:
        problems.append(
            FieldProblem("password_too_common", "This password is too common or too simple; choose another.", field)
        )
    if any(identifier and identifier in password for identifier in identifiers):
        problems.append(
            FieldProblem(
                "password_contains_identifier",
                "The password must not contain the KK number or a NIK: they are printed on the family card.",
                field,
            )
        )
    return problems


def _derive(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN, maxmem=_MAXMEM)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash`: the parameters travel with the hash so they can be raised later."""
    salt = secrets.token_bytes(16)
    return "$".join([_SCHEME, str(_N), str(_R), str(_P), _b64(salt), _b64(_derive(password, salt))])


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != _SCHEME:
            return False
        derived = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(expected)),
            maxmem=_MAXMEM,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, base64.b64decode(expected))
