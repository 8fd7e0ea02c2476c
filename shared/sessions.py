"""Residents' sessions. Signing in proves the household once (KK + any register member's
NIK + the household password, which the first sign-in sets); the answer is a short-lived
HS256 token bound to the KK. Routes check the token's signature and expiry without reading
the table. The token carries the member's position on the register, never a NIK.

The token is a standard compact JWS (HS256 JWT, RFC 7515/7519: any JWT library verifies it;
tests/unit/test_sessions.py checks that with PyJWT). It is made here with hmac and base64
rather than PyJWT because importing PyJWT costs 32-38 ms of every cold start (75-110 ms
where `cryptography` is installed), for two HMACs and a JSON document."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import SessionError, SessionExpired, SessionRequired, SessionsUnavailable
from shared.settings import Settings, session_signing_key

_HEADER = {"alg": "HS256", "typ": "JWT"}
_AUDIENCE = "census-resident"
_ISSUER = "census"
_LEEWAY_SECONDS = 5  # clock skew between Lambda hosts


@dataclass(frozen=True)
class Session:
    kk: str
    member: int  # the signed-in member's position on the household's register
    # When the household's password was set: a reset (and a new password) ends every session
    # signed in under the old one, checked against the credential read with the household.
    password_set_at: str


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


MIN_KEY_BYTES = 32  # HS256's digest size: a shorter key is guessable offline


def _key(settings: Settings) -> str:
    try:
        key = session_signing_key(settings)
    except (BotoCoreError, ClientError, ValueError):  # Secrets Manager unreachable, throttled, denied
        raise SessionsUnavailable() from None
    if not key or len(key.encode()) < MIN_KEY_BYTES:
        raise SessionsUnavailable()
    return key


def issue_token(session: Session, *, settings: Settings, now: datetime) -> IssuedToken:
    expires_at = now.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=settings.session_ttl_seconds)
    claims = {
        "iss": _ISSUER,
        "aud": _AUDIENCE,
        "sub": session.kk,
        "mem": session.member,
        "pwd": session.password_set_at,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    signing_input = f"{_b64encode(_HEADER)}.{_b64encode(claims)}"
    return IssuedToken(f"{signing_input}.{_signature(signing_input, _key(settings))}", expires_at)


def _b64encode(document: dict[str, Any]) -> str:
    raw = json.dumps(document, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _signature(signing_input: str, key: str) -> str:
    digest = hmac.new(key.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _claims(token: str, key: str) -> dict[str, Any]:
    """The claims of a token signed with `key` by HS256, or SessionError."""
    parts = token.split(".")
    if len(parts) != 3 or not token.isascii():
        raise SessionError()
    header_segment, claims_segment, signature = parts
    if not hmac.compare_digest(signature, _signature(f"{header_segment}.{claims_segment}", key)):
        raise SessionError()
    try:
        header = json.loads(_b64decode(header_segment))
        claims = json.loads(_b64decode(claims_segment))
    except (ValueError, binascii.Error):
        raise SessionError() from None
    if not (isinstance(header, dict) and header.get("alg") == "HS256" and isinstance(claims, dict)):
        raise SessionError()
    return claims


def verify_token(token: str, *, settings: Settings, now: datetime) -> Session:
    claims = _claims(token, _key(settings))
    kk, member, expires = claims.get("sub"), claims.get("mem"), claims.get("exp")
    password_set_at = claims.get("pwd")
    if (
        claims.get("iss") != _ISSUER
        or claims.get("aud") != _AUDIENCE
        or not isinstance(kk, str)
        or not isinstance(password_set_at, str)
        or type(member) is not int
        or type(expires) is not int
    ):
        raise SessionError()
    if expires + _LEEWAY_SECONDS <= now.timestamp():
        raise SessionExpired()
    return Session(kk, member, password_set_at)


def session_from_header(authorization: str | None, *, settings: Settings, now: datetime) -> Session | None:
    """The session an `Authorization: Bearer` header carries; None without the header.
    A header that is there but not a valid session is a 401, never silently ignored."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SessionRequired()
    return verify_token(token.strip(), settings=settings, now=now)


def require_session(authorization: str | None, *, settings: Settings, now: datetime) -> Session:
    session = session_from_header(authorization, settings=settings, now=now)
    if session is None:
        raise SessionRequired()
    return session
