"""Local ID tokens: they must verify only when API Gateway's Cognito authorizer would accept the
real thing, and come out with the claims in the string form API Gateway hands to Lambda."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from census_ops import cli
from census_ops.tokens import (
    LOCAL_ISSUER,
    SECRET_ENV,
    TokenError,
    local_secret,
    mint_token,
    verify_token,
)

SECRET = b"s" * 32
NOW = datetime(2026, 11, 3, 9, 5, 7, tzinfo=UTC)  # a Tuesday; a one-digit day shows the padding
# Java's Date.toString, as API Gateway renders exp and iat: "Thu Dec 06 17:08:23 UTC 2018".
JAVA_DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}$")


@pytest.fixture(autouse=True)
def _no_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)


def _payload(token: str) -> dict[str, object]:
    segment = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def _resign(payload: dict[str, object], secret: bytes = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def test_round_trip_gives_the_claims_as_api_gateway_presents_them() -> None:
    token = mint_token("OFC-0001", "officer", secret=SECRET, ttl_seconds=3600, now=NOW)
    claims = verify_token(token, secret=SECRET, now=NOW + timedelta(minutes=5))

    assert all(isinstance(value, str) for value in claims.values())
    assert claims["cognito:username"] == "OFC-0001"
    assert claims["cognito:groups"] == "officer"
    assert claims["token_use"] == "id"
    assert claims["iss"] == LOCAL_ISSUER
    assert claims["aud"] == "census-local"
    assert claims["iat"] == "Tue Nov 03 09:05:07 UTC 2026"
    assert claims["exp"] == "Tue Nov 03 10:05:07 UTC 2026"
    assert claims["auth_time"] == str(int(NOW.timestamp()))  # epoch seconds, as API Gateway passes it
    assert JAVA_DATE.match(claims["exp"]) and JAVA_DATE.match(claims["iat"])
    assert str(uuid.UUID(claims["sub"])) == claims["sub"]


def test_the_token_itself_carries_cognitos_types() -> None:
    """Inside the JWT the claims are typed as in a Cognito ID token; only the presentation is strings."""
    payload = _payload(mint_token("SPV-0002", "supervisor", secret=SECRET, now=NOW))
    assert payload["cognito:groups"] == ["supervisor"]
    assert payload["iat"] == int(NOW.timestamp())
    assert payload["exp"] == int(NOW.timestamp()) + 8 * 3600  # the default lifetime: one shift


def test_sub_is_stable_per_officer_and_distinct_between_officers() -> None:
    first = verify_token(mint_token("OFC-0001", "officer", secret=SECRET, now=NOW), secret=SECRET, now=NOW)
    again = verify_token(mint_token("OFC-0001", "supervisor", secret=SECRET, now=NOW), secret=SECRET, now=NOW)
    other = verify_token(mint_token("OFC-0002", "officer", secret=SECRET, now=NOW), secret=SECRET, now=NOW)
    assert first["sub"] == again["sub"] != other["sub"]


def test_several_groups_are_joined_with_commas() -> None:
    payload = _payload(mint_token("SPV-0002", "supervisor", secret=SECRET, now=NOW))
    payload["cognito:groups"] = ["supervisor", "officer"]
    claims = verify_token(_resign(payload), secret=SECRET, now=NOW)
    assert claims["cognito:groups"] == "supervisor,officer"


def test_an_expired_token_is_refused() -> None:
    token = mint_token("OFC-0001", "officer", secret=SECRET, ttl_seconds=60, now=NOW)
    assert verify_token(token, secret=SECRET, now=NOW + timedelta(seconds=59))
    with pytest.raises(TokenError, match="expired"):
        verify_token(token, secret=SECRET, now=NOW + timedelta(seconds=60))


def test_a_token_from_the_future_is_refused() -> None:
    token = mint_token("OFC-0001", "officer", secret=SECRET, now=NOW)
    with pytest.raises(TokenError, match="future"):
        verify_token(token, secret=SECRET, now=NOW - timedelta(seconds=1))


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = mint_token("OFC-0001", "officer", secret=b"o" * 32, now=NOW)
    with pytest.raises(TokenError, match="signature"):
        verify_token(token, secret=SECRET, now=NOW)


def test_a_tampered_payload_is_refused() -> None:
    token = mint_token("OFC-0001", "officer", secret=SECRET, now=NOW)
    header, _, signature = token.split(".")
    payload = _payload(token)
    payload["cognito:groups"] = ["supervisor"]
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError, match="signature"):
        verify_token(f"{header}.{forged}.{signature}", secret=SECRET, now=NOW)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"iss": "https://cognito-idp.example/pool"}, "issuer", id="wrong-issuer"),
        pytest.param({"aud": "another-client"}, "audience", id="wrong-audience"),
        pytest.param({"token_use": "access"}, "ID token", id="access-token"),
        pytest.param({"exp": None}, "exp", id="no-exp"),
        pytest.param({"cognito:groups": None}, "cognito:groups", id="no-groups"),
        pytest.param({"cognito:groups": "officer"}, "cognito:groups", id="groups-not-a-list"),
        pytest.param({"exp": "tomorrow"}, "exp", id="exp-not-a-number"),
        pytest.param({"exp": 10**15}, "out of range", id="exp-past-any-calendar"),
    ],
)
def test_claims_the_authorizer_would_refuse(change: dict[str, object], reason: str) -> None:
    payload = _payload(mint_token("OFC-0001", "officer", secret=SECRET, now=NOW))
    payload.update(change)
    payload = {name: value for name, value in payload.items() if value is not None}
    with pytest.raises(TokenError, match=reason):
        verify_token(_resign(payload), secret=SECRET, now=NOW)


def test_unsigned_and_garbage_tokens_are_refused() -> None:
    payload = _payload(mint_token("OFC-0001", "officer", secret=SECRET, now=NOW))
    unsigned = jwt.encode(payload, "", algorithm="none")
    for token in (unsigned, "not-a-token", ""):
        with pytest.raises(TokenError):
            verify_token(token, secret=SECRET, now=NOW)


@pytest.mark.parametrize(
    ("officer_id", "role", "ttl"),
    [
        pytest.param("OFC-0001", "admin", 60, id="unknown-role"),
        pytest.param("OFC-0001", "Officer", 60, id="role-is-case-sensitive"),
        pytest.param("", "officer", 60, id="no-officer-id"),
        pytest.param(" OFC-0001", "officer", 60, id="padded-officer-id"),
        pytest.param("OFC-0001", "officer", 0, id="no-lifetime"),
    ],
)
def test_mint_refuses_what_no_cognito_user_could_have(officer_id: str, role: str, ttl: int) -> None:
    with pytest.raises(ValueError):
        mint_token(officer_id, role, secret=SECRET, ttl_seconds=ttl, now=NOW)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        mint_token("OFC-0001", "officer", secret=SECRET, now=datetime(2026, 11, 3, 9, 0))


def test_local_secret_is_created_private_once_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"  # not there yet: created on demand
    secret = local_secret(data_dir)
    path = data_dir / "local-token-secret"
    assert len(secret) == 32 and path.read_bytes() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_secret(data_dir) == secret
    assert os.listdir(data_dir) == ["local-token-secret"]  # no temporary file left behind
    assert local_secret(tmp_path / "elsewhere") != secret


def test_a_truncated_secret_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "local-token-secret").write_bytes(b"short")
    with pytest.raises(TokenError, match="delete it"):
        local_secret(tmp_path)


def test_the_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "x" * 40)
    assert local_secret(tmp_path) == b"x" * 40
    assert not (tmp_path / "local-token-secret").exists()
    monkeypatch.setenv(SECRET_ENV, "too-short")
    with pytest.raises(TokenError, match=SECRET_ENV):
        local_secret(tmp_path)


def test_census_token_prints_a_token_that_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["token", "officer", "OFC-0001", "--data-dir", str(tmp_path), "--ttl", "600"]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert out == token + "\n"  # the token alone, for TOKEN=$(census token ...)
    assert "OFC-0001" in err
    claims = verify_token(token, secret=local_secret(tmp_path))
    assert (claims["cognito:username"], claims["cognito:groups"]) == ("OFC-0001", "officer")
    payload = _payload(token)
    assert isinstance(payload["exp"], int) and isinstance(payload["iat"], int)
    assert payload["exp"] - payload["iat"] == 600


def test_census_token_refuses_an_unknown_role(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["token", "admin", "OFC-0001", "--data-dir", str(tmp_path)])
    assert capsys.readouterr().out == ""
    with pytest.raises(SystemExit):
        cli.main(["token", "officer", "OFC-0001", "--data-dir", str(tmp_path), "--ttl", "0"])
