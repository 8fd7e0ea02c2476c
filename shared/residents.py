"""What a signed-in resident does: sign in (setting the household password the first time),
see the household pre-filled from the register with the saved draft and the latest
submitted version, and save the draft."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec

from shared import store
from shared.drafts import expected_etag, format_etag, next_etag, parse_draft
from shared.errors import DraftChanged, OnlinePhaseClosed, PasswordRequired, PasswordSetupRequired, ValidationFailed
from shared.household_access import authenticate, session_household, validate_kk
from shared.intake import iso_utc
from shared.passwords import hash_password, password_problems
from shared.reset_codes import normalize_reset_code
from shared.sessions import Session, issue_token
from shared.settings import Settings
from shared.validation import Body, Password, compact_json, parse_json, trimmed

_Code = Annotated[str, trimmed(1, 32)]


class SignInRequest(Body, frozen=True, kw_only=True):
    kk: _Code
    nik: _Code
    password: Password | None = None  # once the household has one
    new_password: Password | None = None  # on the household's first sign-in, or after a reset
    reset_code: _Code | None = None  # the supervisor's one-time code, after a password reset


def sign_in(body: str | bytes | None, *, settings: Settings, now: datetime) -> dict[str, Any]:
    request = parse_json(SignInRequest, body)
    kk = validate_kk(request.kk)
    reset_code = None if request.reset_code is None else normalize_reset_code(request.reset_code)
    household = authenticate(kk, request.nik, request.password, settings=settings, now=now, reset_code=reset_code)
    member = [m.nik for m in household.register.members].index(request.nik)
    set_at = household.credential.set_at if household.credential is not None else iso_utc(now)
    issued = issue_token(Session(kk, member, set_at), settings=settings, now=now)  # before any write: it may fail
    password_set = False
    if household.credential is None:
        if request.new_password is None:
            raise PasswordSetupRequired()
        niks = tuple(str(m.nik) for m in household.register.members)
        problems = password_problems(request.new_password, (kk, *niks), "new_password")
        if problems:
            raise ValidationFailed(problems)
        try:
            if household.reset is not None:  # the code was checked: it is used up with this
                store.claim_with_reset_code(kk, hash_password(request.new_password), set_at, household.reset.code_hash)
            else:
                store.set_password(kk, hash_password(request.new_password), set_at)
        except store.AlreadyExists:
            raise PasswordRequired() from None  # another family member set it a moment ago
        password_set = True
    respondent_nik = str(household.register.members[member].nik)
    return {
        "token": issued.token,
        "token_type": "Bearer",
        "expires_at": iso_utc(issued.expires_at),
        "expires_in": settings.session_ttl_seconds,
        "kk": kk,
        "password_set": password_set,
        # What GET /v1/session/household would answer now, from the household already read to
        # prove it: the page needs no second round trip to pre-fill the form.
        "household": _view_of(household, respondent_nik, settings=settings, now=now)[0],
    }


def _live_draft(household: store.HouseholdSnapshot, now: datetime) -> store.DraftRecord | None:
    """The draft unless it has expired (TTL deletion can lag by days)."""
    draft = household.draft
    return draft if draft is not None and draft.expires_at > now.timestamp() else None


def household_view(session: Session, *, settings: Settings, now: datetime) -> tuple[dict[str, Any], str | None]:
    """The register's members, the draft and the latest submitted version; and the draft's ETag."""
    household, respondent_nik = session_household(session)
    return _view_of(household, respondent_nik, settings=settings, now=now)


def _view_of(
    household: store.HouseholdSnapshot, respondent_nik: str, *, settings: Settings, now: datetime
) -> tuple[dict[str, Any], str | None]:
    kk = household.state.kk
    state = household.state
    draft = _live_draft(household, now)
    draft_view = None
    if draft is not None:
        draft_view = {
            **json.loads(draft.body),
            "saved_at": draft.saved_at,
            "etag": format_etag(draft.etag),
        }
    latest = None
    stored = store.latest_version(kk) if state.version > 0 else None
    if stored is not None:
        # What was sent last, so that a correction starts from it rather than from the register.
        latest = {
            "receipt_code": state.receipt_code,
            "version": stored.version,
            "status": state.status,
            "submitted_at": stored.submitted_at,
            "member_count": len(stored.members),
            "members": stored.members,
            "departed": stored.departed,
        }
    view = {
        "kk": kk,
        "respondent_nik": respondent_nik,
        "register": {
            # nik, name, sex, birth_date, relationship
            "members": [msgspec.structs.asdict(m) for m in household.register.members]
        },
        "draft": draft_view,
        "latest": latest,
        "online_phase_end": None if settings.online_phase_end is None else iso_utc(settings.online_phase_end),
    }
    return view, None if draft is None else format_etag(draft.etag)


def draft_expiry(settings: Settings, now: datetime) -> int:
    end = settings.online_phase_end or now + timedelta(seconds=settings.draft_ttl_seconds)
    return int(end.timestamp())


@dataclass(frozen=True)
class SavedDraft:
    etag: str
    saved_at: str
    expires_at: str

    def as_dict(self) -> dict[str, str]:
        return {"etag": self.etag, "saved_at": self.saved_at, "expires_at": self.expires_at}


def save_draft(
    session: Session, body: str | bytes | None, if_match: str | None, *, settings: Settings, now: datetime
) -> SavedDraft:
    if not settings.online_phase_open(now):
        raise OnlinePhaseClosed()
    draft = parse_draft(body, now)
    household, _ = session_household(session)
    stored = household.draft
    live = _live_draft(household, now)
    expected = expected_etag(if_match, None if live is None else live.etag)
    if expected is None and stored is not None:
        expected = stored.etag  # an expired draft is replaced without asking
    etag = next_etag(household.state.version, expected)
    expires_at = draft_expiry(settings, now)
    saved_at = iso_utc(now)
    try:
        store.save_draft(
            session.kk,
            compact_json(draft),
            expected_etag=expected,
            new_etag=etag,
            saved_at=saved_at,
            expires_at=expires_at,
        )
    except store.DraftConflict:
        raise DraftChanged() from None
    return SavedDraft(format_etag(etag), saved_at, iso_utc(datetime.fromtimestamp(expires_at, UTC)))
