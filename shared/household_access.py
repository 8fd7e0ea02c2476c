"""Proving a household, behind the guessing protection that every route taking KK + NIK
shares: after `lockout_max_failures` failures within the window, the KK answers 429 until
the window ends, even for the right NIK. The proof is KK + a register member's NIK, plus
the household's password once it has set one (wrong passwords count as failures too).
An unknown KK and a NIK not on the KK answer alike. Once a household has a password, a NIK
not on its register and a wrong password answer alike too (`password_required` without a
password, `invalid_credentials` with one), in the same time. Only the first sign-in of an
unclaimed household says the NIK was right (`password_setup_required`): for such a household
KK + NIK is the whole proof anyway."""

from __future__ import annotations

from datetime import datetime

from shared import store
from shared.errors import (
    FieldProblem,
    InvalidCredentials,
    PasswordRequired,
    SessionError,
    SessionWrongHousehold,
    TooManyAttempts,
    ValidationFailed,
)
from shared.nik import InvalidIdentifier, parse_kk
from shared.passwords import MAX_LENGTH, verify_password
from shared.sessions import Session
from shared.settings import Settings


def validate_kk(kk: str) -> str:
    """A malformed KK number is a 422 on `kk` (it says nothing about which KKs exist)."""
    try:
        return parse_kk(kk).value
    except InvalidIdentifier as exc:
        raise ValidationFailed([FieldProblem(exc.code, exc.message, "kk")]) from None


def authenticate(
    kk: str,
    respondent_nik: str,
    password: str | None = None,
    *,
    settings: Settings,
    now: datetime,
) -> store.HouseholdSnapshot:
    """The household (META, REGISTER, password hash, draft) if `respondent_nik` is on KK
    `kk`'s register and, once the household has a password, `password` is it."""
    epoch = int(now.timestamp())
    window, limit = settings.lockout_window_seconds, settings.lockout_max_failures
    household = store.load_household(kk)
    # Read after the household, not before: every answer below is decided against the
    # counter as it is once this attempt's own check is known, so the attempts on one KK
    # line up one after another as DynamoDB orders its operations on the counter.
    guesses = store.get_guesses(kk)
    if guesses and guesses.failures >= limit and guesses.window_ends > epoch:
        raise TooManyAttempts(retry_after=guesses.window_ends - epoch)
    nik_on_register = household is not None and respondent_nik in {m.nik for m in household.register.members}
    if household is None or (household.credential is None and not nik_on_register):
        # A wrong KK/NIK is counted before it is answered, and only while the window has
        # room (atomically): a burst of parallel guesses gets exactly `limit` 401s and then
        # 429s, never a 401 more. A right NIK writes nothing (a replay costs no write unit):
        # it was checked against the counter read just above, after its own check.
        _take_attempt(kk, epoch, window, limit)
        raise InvalidCredentials()
    if household.credential is not None:
        # Once claimed, the answer is the same whether or not the NIK is on the register:
        # without a password "password_required", with a wrong one "invalid_credentials",
        # and the password is checked either way, so neither answer nor timing tells.
        if password is None:
            if not nik_on_register:
                _take_attempt(kk, epoch, window, limit)
            raise PasswordRequired()
        # The password is the secret the lockout protects: each check takes one of the
        # window's attempts first (atomically), so parallel guesses get no more than the limit.
        _take_attempt(kk, epoch, window, limit)
        password_right = len(password) <= MAX_LENGTH and verify_password(password, household.credential.password_hash)
        if not (password_right and nik_on_register):
            raise InvalidCredentials()
        store.clear_failed_guesses(kk)  # the attempt taken, and any before it
    elif guesses and guesses.failures:
        store.clear_failed_guesses(kk)
    return household


def _take_attempt(kk: str, epoch: int, window: int, limit: int) -> None:
    """One of the window's `limit` attempts, taken atomically; 429 when none is left."""
    if store.record_failed_guess(kk, epoch, window, below=limit) is None:
        raise TooManyAttempts(retry_after=_retry_after(kk, epoch, window))


def _retry_after(kk: str, epoch: int, window: int) -> int:
    guesses = store.get_guesses(kk)
    return guesses.window_ends - epoch if guesses is not None else window


def session_household(session: Session, kk: str | None = None) -> tuple[store.HouseholdSnapshot, str]:
    """The household a verified session stands for, and the NIK its member signed in with.
    A session for another KK than the path's is refused."""
    if kk is not None and validate_kk(kk) != session.kk:
        raise SessionWrongHousehold()
    household = store.load_household(session.kk)
    if household is None or not 0 <= session.member < len(household.register.members):
        raise SessionError()
    if household.credential is None or household.credential.set_at != session.password_set_at:
        raise SessionError("The household's password has changed since this sign-in; sign in again.")
    return household, str(household.register.members[session.member].nik)
