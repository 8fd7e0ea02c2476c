"""The local stand-in for the staff user pool's hosted sign-in (census_ops.local_api.LocalStaffAuth):
the OAuth 2.0 authorization code flow with PKCE as Cognito speaks it, through the local API's
HTTP server, ending in the locally signed ID token that the API's authorizer accepts."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from census_ops import tokens
from census_ops.local_api import LocalApi, LocalStaffAuth

SECRET = secrets.token_bytes(32)
ROSTER = {"OFC-1": "officer", "SPV-1": "supervisor"}


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served() -> Iterator[tuple[LocalApi, Clock]]:
    clock = Clock()

    def mint(officer_id: str) -> str | None:
        role = ROSTER.get(officer_id)
        return tokens.mint_token(officer_id, role, secret=SECRET) if role else None

    auth = LocalStaffAuth(mint, client_id="census-local", clock=clock)
    api = LocalApi(
        [], port=0, staff_auth=auth, site_files={"/field/config.json": json.dumps(auth.config(None)).encode()}
    )
    with api:
        yield api, clock


def _request(api: LocalApi, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    connection = http.client.HTTPConnection(api.host, api.port, timeout=10)
    body = urlencode(form).encode() if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    return answer.status, answer.headers, answer.read()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def _params(api: LocalApi, challenge: str, **changes: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": "census-local",
        "redirect_uri": f"{api.url}/field/",
        "state": "s-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "openid",
    }
    return {**params, **changes}


def _code(api: LocalApi, challenge: str, officer: str = "OFC-1") -> str:
    status, headers, _ = _request(
        api, "POST", "/local-auth/oauth2/authorize", {**_params(api, challenge), "officer_id": officer}
    )
    assert status == 302
    target = urlsplit(headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{api.url}/field/"
    query = parse_qs(target.query)
    assert query["state"] == ["s-123"]
    return query["code"][0]


def _token(api: LocalApi, code: str, verifier: str, **changes: str) -> tuple[int, dict[str, Any]]:
    form = {
        "grant_type": "authorization_code",
        "client_id": "census-local",
        "code": code,
        "redirect_uri": f"{api.url}/field/",
        "code_verifier": verifier,
        **changes,
    }
    status, _, body = _request(api, "POST", "/local-auth/oauth2/token", form)
    return status, json.loads(body)


def test_the_code_flow_with_pkce_ends_in_the_officers_id_token(served: tuple[LocalApi, Clock]) -> None:
    api, _ = served
    verifier, challenge = _pkce()
    status, headers, page = _request(api, "GET", "/local-auth/oauth2/authorize?" + urlencode(_params(api, challenge)))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'name="officer_id"' in page and b"<script" not in page
    status, answer = _token(api, _code(api, challenge), verifier)
    assert status == 200, answer
    claims = tokens.verify_token(answer["id_token"], secret=SECRET)
    assert (claims["cognito:username"], claims["cognito:groups"]) == ("OFC-1", "officer")
    supervisor = _token(api, _code(api, challenge, "SPV-1"), verifier)[1]["id_token"]
    assert tokens.verify_token(supervisor, secret=SECRET)["cognito:groups"] == "supervisor"


def test_a_code_is_single_use_bound_to_its_verifier_client_and_callback(served: tuple[LocalApi, Clock]) -> None:
    api, clock = served
    verifier, challenge = _pkce()
    code = _code(api, challenge)
    assert _token(api, code, secrets.token_urlsafe(32)) == (400, {"error": "invalid_grant"})
    assert _token(api, code, verifier)[0] == 400, "a refused code is spent too"
    assert _token(api, _code(api, challenge), verifier, redirect_uri=f"{api.url}/console/")[0] == 400
    assert _token(api, _code(api, challenge), verifier, client_id="other")[0] == 400
    assert _token(api, _code(api, challenge), verifier, grant_type="password") == (
        400,
        {"error": "unsupported_grant_type"},
    )
    code = _code(api, challenge)
    assert _token(api, code, verifier)[0] == 200
    assert _token(api, code, verifier)[0] == 400, "used once"
    code = _code(api, challenge)
    clock.now += 301
    assert _token(api, code, verifier)[0] == 400, "expired after 5 minutes"


@pytest.mark.parametrize(
    "change",
    [
        {"response_type": "token"},
        {"client_id": "someone-else"},
        {"redirect_uri": "https://evil.example/field/"},
        {"redirect_uri": "http://127.0.0.1:1/elsewhere/"},
        {"code_challenge_method": "plain"},
        {"code_challenge": ""},
    ],
)
def test_a_bad_authorize_request_is_refused_and_never_redirects(
    served: tuple[LocalApi, Clock], change: dict[str, str]
) -> None:
    api, _ = served
    _, challenge = _pkce()
    params = _params(api, challenge, **change)
    assert _request(api, "GET", "/local-auth/oauth2/authorize?" + urlencode(params))[0] == 400
    status, headers, _ = _request(api, "POST", "/local-auth/oauth2/authorize", {**params, "officer_id": "OFC-1"})
    assert status == 400 and "Location" not in headers


def test_someone_not_on_the_roster_gets_the_page_again(served: tuple[LocalApi, Clock]) -> None:
    api, _ = served
    _, challenge = _pkce()
    status, headers, page = _request(
        api, "POST", "/local-auth/oauth2/authorize", {**_params(api, challenge), "officer_id": "NOBODY"}
    )
    assert status == 200 and "Location" not in headers
    assert b'aria-invalid="true"' in page and b"NOBODY" in page


def test_logout_returns_only_to_a_registered_app_and_config_is_served(served: tuple[LocalApi, Clock]) -> None:
    api, _ = served
    query = urlencode({"client_id": "census-local", "logout_uri": f"{api.url}/console/"})
    status, headers, _ = _request(api, "GET", "/local-auth/logout?" + query)
    assert (status, headers["Location"]) == (302, f"{api.url}/console/")
    query = urlencode({"client_id": "census-local", "logout_uri": "https://evil.example/"})
    assert _request(api, "GET", "/local-auth/logout?" + query)[0] == 400
    status, headers, body = _request(api, "GET", "/field/config.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["auth"]["token_url"] == "/local-auth/oauth2/token"
    assert _request(api, "GET", "/local-auth/elsewhere")[0] == 404
