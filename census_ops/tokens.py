"""Locally signed stand-ins for Cognito ID tokens, so `census serve` can protect officer and
supervisor routes the way API Gateway's Cognito authorizer does, without a user pool.

A token is an HS256 JWT whose claims mirror a Cognito ID token. verify_token returns them as
API Gateway (REST API, Cognito user pool authorizer) hands them to the Lambda in
event["requestContext"]["authorizer"]["claims"]: every value a string, a list claim such as
cognito:groups joined with commas ("officer,supervisor"), exp and iat in Java's Date.toString
form ("Thu Dec 06 17:08:23 UTC 2018"), auth_time as epoch seconds ("1544112503"). That is the
shape seen in events captured from deployed REST APIs; HTTP APIs (v2) use a different one.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import uuid
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from census_ops.template import REPO_ROOT

LOCAL_ISSUER = "census-local"
LOCAL_AUDIENCE = "census-local"  # stands in for the user pool app client id
ROLES = ("officer", "supervisor")
SECRET_ENV = "CENSUS_LOCAL_TOKEN_SECRET"  # noqa: S105 - the variable's name, not a secret
SECRET_FILE = "local-token-secret"  # noqa: S105 - a file name, not a secret
MIN_SECRET_BYTES = 32  # HS256's digest size: shorter keys are guessable offline
DEFAULT_TTL_SECONDS = 8 * 3600  # one field shift

_ALGORITHM = "HS256"
_SUB_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:census-local:officer")
_REQUIRED = ("sub", "cognito:username", "cognito:groups", "token_use", "iss", "aud", "iat", "exp")
# Java's Date.toString is locale-independent English; strftime's %a/%b follow the C locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class TokenError(Exception):
    """A token (or the secret to check it) is unusable; the message is a short reason, never the token."""


def local_secret(data_dir: Path) -> bytes:
    """The signing secret: the environment's if set, else one generated once per data dir.

    Kept out of the repository (.data/ is git-ignored) and readable by its owner only, so a
    token minted on one machine is worthless on another.
    """
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        secret = from_env.encode("utf-8")
        if len(secret) < MIN_SECRET_BYTES:
            raise TokenError(f"{SECRET_ENV} must be at least {MIN_SECRET_BYTES} bytes")
        return secret
    path = data_dir / SECRET_FILE
    if not path.exists():
        _create_secret(path)
    secret = path.read_bytes()
    if len(secret) < MIN_SECRET_BYTES:
        raise TokenError(f"{path} holds under {MIN_SECRET_BYTES} bytes: delete it to have a new one made")
    return secret


def _create_secret(path: Path) -> None:
    """Written whole to a private temporary file and then linked into place, so a concurrent
    caller either creates the one secret or reads the finished one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{SECRET_FILE}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(secrets.token_bytes(MIN_SECRET_BYTES))
            stream.flush()
            os.fsync(stream.fileno())
        with suppress(FileExistsError):  # another process made it first: theirs is kept
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def mint_token(
    officer_id: str,
    role: str,
    *,
    secret: bytes,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: datetime | None = None,
) -> str:
    """A signed token with the claims Cognito puts in an ID token, so handlers see what they will in production."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not officer_id or officer_id != officer_id.strip():
        raise ValueError("the officer id must be non-empty, without surrounding spaces")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    issued = int(_utc(now).timestamp())
    claims: dict[str, Any] = {
        "sub": str(uuid.uuid5(_SUB_NAMESPACE, officer_id)),  # stable per officer, as Cognito's is per user
        "cognito:username": officer_id,
        "cognito:groups": [role],
        "token_use": "id",
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "auth_time": issued,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def verify_token(token: str, *, secret: bytes, now: datetime | None = None) -> dict[str, str]:
    """Check the token as the Cognito authorizer would and return its claims as API Gateway presents them."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],  # never "none", never an algorithm the token picks
            audience=LOCAL_AUDIENCE,
            issuer=LOCAL_ISSUER,
            # Times are checked below, against the caller's clock (now), which PyJWT cannot take.
            options={"require": list(_REQUIRED), "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidSignatureError as error:
        raise TokenError("bad signature") from error
    except jwt.InvalidIssuerError as error:
        raise TokenError("wrong issuer") from error
    except jwt.InvalidAudienceError as error:
        raise TokenError("wrong audience") from error
    except jwt.MissingRequiredClaimError as error:
        raise TokenError(f"no {error.claim} claim") from error
    except jwt.DecodeError as error:
        raise TokenError("not a signed token") from error
    except jwt.InvalidTokenError as error:
        raise TokenError(f"invalid token ({type(error).__name__})") from error
    if payload["token_use"] != "id":  # noqa: S105 - Cognito's token kind, not a secret
        raise TokenError("not an ID token")
    current = _utc(now).timestamp()
    for claim in ("iat", "exp", "auth_time"):
        value = payload.get(claim)
        if claim in payload and (isinstance(value, bool) or not isinstance(value, int)):
            raise TokenError(f"{claim} is not a number")
    if current >= payload["exp"]:
        raise TokenError("token expired")
    if payload["iat"] > current:
        raise TokenError("token issued in the future")
    groups = payload["cognito:groups"]
    if not isinstance(groups, list) or not all(isinstance(group, str) for group in groups):
        raise TokenError("cognito:groups is not a list of group names")
    if not isinstance(payload["cognito:username"], str) or not isinstance(payload["sub"], str):
        raise TokenError("sub and cognito:username must be strings")
    try:
        return {name: _as_api_gateway_string(name, value) for name, value in payload.items()}
    except (OverflowError, ValueError, OSError) as error:  # a date no calendar can show
        raise TokenError("a time claim is out of range") from error


def _as_api_gateway_string(name: str, value: Any) -> str:
    """API Gateway's REST Cognito authorizer passes every claim to Lambda as a string."""
    if name in ("exp", "iat"):
        return _java_date(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def _java_date(epoch_seconds: int) -> str:
    """'Thu Dec 06 17:08:23 UTC 2018': how API Gateway renders exp and iat (Java's Date.toString)."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    weekday, month = _DAYS[moment.weekday()], _MONTHS[moment.month - 1]
    return f"{weekday} {month} {moment.day:02d} {moment:%H:%M:%S} UTC {moment.year}"


def _positive_seconds(text: str) -> int:
    seconds = int(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return seconds


def cmd_token(args: argparse.Namespace) -> int:
    """The token alone on stdout, so TOKEN=$(census token officer OFC-0001) works."""
    now = datetime.now(UTC)
    try:
        secret = local_secret(Path(args.data_dir))
        token = mint_token(args.officer_id, args.role, secret=secret, ttl_seconds=args.ttl, now=now)
    except (TokenError, ValueError) as error:
        print(f"census token: {error}", file=sys.stderr)
        return 2
    print(token)
    expires = now + timedelta(seconds=args.ttl)
    print(f"{args.role} {args.officer_id}, valid until {expires:%Y-%m-%d %H:%M} UTC", file=sys.stderr)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Adds `census token ROLE OFFICER_ID` to the census command line."""
    token = commands.add_parser("token", help="mint a local ID token for an officer or supervisor")
    token.add_argument("role", choices=ROLES)
    token.add_argument("officer_id", metavar="OFFICER_ID")
    token.add_argument("--data-dir", default=str(REPO_ROOT / ".data"), help="where the signing secret is kept")
    token.add_argument("--ttl", type=_positive_seconds, default=DEFAULT_TTL_SECONDS, help="lifetime in seconds")
    token.set_defaults(func=cmd_token)
