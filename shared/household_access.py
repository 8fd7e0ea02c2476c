"""Proving a household with KK + a member's NIK, behind the guessing protection that
every route taking KK + NIK shares: after `lockout_max_failures` failures within the
window, the KK answers 429 until the window ends, even for the right NIK. The answer
never says whether the KK or the NIK was wrong."""

from __future__ import annotations

from datetime import datetime

from shared import storage
from shared.errors import FieldProblem, InvalidCredentials, TooManyAttempts, ValidationFailed
from shared.nik import InvalidIdentifier, parse_kk
from shared.settings import Settings


def validate_kk(kk: str) -> str:
    """A malformed KK number is a 422 on `kk` (it says nothing about which KKs exist)."""
    try:
        return parse_kk(kk).value
    except InvalidIdentifier as exc:
        raise ValidationFailed([FieldProblem(exc.code, exc.message, "kk")]) from None


def authenticate(kk: str, respondent_nik: str, *, settings: Settings, now: datetime) -> storage.HouseholdSnapshot:
    """The household's META and REGISTER if `respondent_nik` is on KK `kk`'s register."""
    epoch = int(now.timestamp())
    guesses = storage.get_guesses(kk)
    if guesses and guesses.failures >= settings.lockout_max_failures and guesses.window_ends > epoch:
        raise TooManyAttempts(retry_after=guesses.window_ends - epoch)
    household = storage.load_household(kk)
    if household is None or respondent_nik not in {m.nik for m in household.register.members}:
        storage.record_failed_guess(kk, epoch, settings.lockout_window_seconds)
        raise InvalidCredentials()
    if guesses and guesses.failures:
        storage.clear_failed_guesses(kk)
    return household
