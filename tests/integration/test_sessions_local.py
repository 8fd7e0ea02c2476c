"""Resident sessions under concurrency, on DynamoDB Local (moto's conditional writes are not
atomic across threads): two family members claiming the household at once, and editing the
draft at once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from census_ops.register import RegisterHousehold
from shared import store
from tests.conftest import invoke, table_items
from tests.integration.conftest import race

pytestmark = pytest.mark.dynamodb_local


def _sessions() -> Any:
    from functions.sessions.app import lambda_handler

    return lambda_handler


def call(method: str, resource: str, **kwargs: Any) -> tuple[int, Any]:
    answer = invoke(_sessions(), method, resource, {}, **kwargs)
    return answer["statusCode"], json.loads(answer["body"])


def test_family_members_claiming_at_once_set_one_password(
    local_store: str, dynamodb_local: Any, households: list[RegisterHousehold]
) -> None:
    household = households[5]
    passwords = [f"rumah-kami-nomor-{i}" for i in range(6)]
    results = race(
        6,
        lambda i: call(
            "POST",
            "/v1/sessions",
            body={
                "kk": household.kk,
                "nik": household.members[i % len(household.members)].nik,
                "new_password": passwords[i],
            },
        ),
    )
    winners = [i for i, (status, _) in enumerate(results) if status == 201]
    assert len(winners) == 1, results
    assert all(results[i][1]["error"]["code"] == "password_required" for i in range(6) if i not in winners)
    credentials = [
        i for i in table_items(local_store, dynamodb_local.endpoint_url) if i["sk"]["S"] == "META#CREDENTIAL"
    ]
    assert len(credentials) == 1
    # The winner's password is the household's.
    status, answer = call(
        "POST",
        "/v1/sessions",
        body={"kk": household.kk, "nik": household.members[0].nik, "password": passwords[winners[0]]},
    )
    assert status == 201, answer


def test_concurrent_draft_saves_from_one_etag_keep_exactly_one(
    local_store: str, dynamodb_local: Any, households: list[RegisterHousehold]
) -> None:
    household = households[6]
    status, signed_in = call(
        "POST",
        "/v1/sessions",
        body={"kk": household.kk, "nik": household.members[0].nik, "new_password": "teh-manis-x9"},
    )
    assert status == 201
    auth = {"Authorization": f"Bearer {signed_in['token']}"}
    status, saved = call("PUT", "/v1/session/household/draft", body={"members": []}, headers=auth)
    assert status == 200 and saved["etag"] == '"0.1"'

    names = [f"Nama Versi {chr(65 + i)}" for i in range(8)]
    results = race(
        8,
        lambda i: call(
            "PUT",
            "/v1/session/household/draft",
            body={"members": [{"name": names[i]}]},
            headers=auth | {"If-Match": '"0.1"'},
        ),
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [412] * 7, results
    winner = next(i for i, (status, _) in enumerate(results) if status == 200)
    status, view = call("GET", "/v1/session/household", headers=auth)
    assert view["draft"]["members"] == [{"name": names[winner]}]
    assert view["draft"]["etag"] == '"0.2"'


def test_parallel_password_guesses_get_no_more_than_the_limit(
    local_store: str, dynamodb_local: Any, households: list[RegisterHousehold]
) -> None:
    """The lockout is checked before a failure is counted; for passwords an attempt is taken
    atomically first, so a burst cannot get more than the window's allowance."""
    from shared.settings import settings

    household = households[7]
    nik = household.members[0].nik
    status, _ = call("POST", "/v1/sessions", body={"kk": household.kk, "nik": nik, "new_password": "es-cendol-99x"})
    assert status == 201
    limit = settings().lockout_max_failures
    results = race(
        12, lambda i: call("POST", "/v1/sessions", body={"kk": household.kk, "nik": nik, "password": f"guess-{i:04d}"})
    )
    codes = sorted(answer["error"]["code"] for _, answer in results)
    assert codes.count("invalid_credentials") == limit, codes
    assert codes.count("too_many_attempts") == 12 - limit, codes
    # The right password is refused too until the window ends.
    status, answer = call("POST", "/v1/sessions", body={"kk": household.kk, "nik": nik, "password": "es-cendol-99x"})
    assert (status, answer["error"]["code"]) == (429, "too_many_attempts")


def _wrong_nik(household: RegisterHousehold, i: int) -> str:
    """A well-formed NIK of the household's region that is not on its register."""
    on_register = {m.nik for m in household.members}
    base = household.members[0].nik
    candidates = (base[:12] + f"{(int(base[12:]) + 1 + i + n) % 10000:04d}" for n in range(10000))
    return next(nik for nik in candidates if nik not in on_register)


def test_parallel_nik_guesses_get_exactly_the_limit_of_401s(
    local_store: str, dynamodb_local: Any, households: list[RegisterHousehold]
) -> None:
    """An unclaimed household: each wrong NIK takes one of the window's attempts atomically
    before it is answered, so 12 at once get exactly 5 x 401 and 7 x 429 - and then the
    right NIK is refused too until the window ends."""
    from shared.settings import settings

    household = households[9]
    limit = settings().lockout_max_failures
    results = race(
        12, lambda i: call("POST", "/v1/sessions", body={"kk": household.kk, "nik": _wrong_nik(household, i)})
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [401] * limit + [429] * (12 - limit), results
    assert {a["error"]["code"] for s, a in results if s == 401} == {"invalid_credentials"}
    assert {a["error"]["code"] for s, a in results if s == 429} == {"too_many_attempts"}
    status, answer = call("POST", "/v1/sessions", body={"kk": household.kk, "nik": household.members[0].nik})
    assert (status, answer["error"]["code"]) == (429, "too_many_attempts")


def test_a_right_nik_takes_no_attempt_and_clears_the_window(
    local_store: str, dynamodb_local: Any, households: list[RegisterHousehold]
) -> None:
    from shared.settings import settings

    household = households[10]
    limit = settings().lockout_max_failures
    right = {"kk": household.kk, "nik": household.members[-1].nik}
    for i in range(limit - 1):
        assert call("POST", "/v1/sessions", body={"kk": household.kk, "nik": _wrong_nik(household, i)})[0] == 401
    # The right NIK still works (an unclaimed household is asked for its password), and
    # clears the failures: the next wrong NIKs start a new count.
    status, answer = call("POST", "/v1/sessions", body=right)
    assert (status, answer["error"]["code"]) == (401, "password_setup_required")
    for _ in range(3):  # and, answered right, it counts nothing itself
        assert call("POST", "/v1/sessions", body=right)[1]["error"]["code"] == "password_setup_required"
    wrong = [call("POST", "/v1/sessions", body={"kk": household.kk, "nik": _wrong_nik(household, i)}) for i in range(6)]
    assert [status for status, _ in wrong] == [401] * limit + [429]


def test_a_burst_of_guesses_the_moment_a_lockout_window_ends_gets_no_more_than_the_limit(local_store: str) -> None:
    """The lockout's window restarts conditionally: twelve wrong guesses in parallel the moment
    a full window has ended get exactly `limit` attempts, not one each (every loser of the
    restart counts in the window the winner started)."""
    limit, window, now, kk = 5, 900, 2_000_000, "1671010101990001"
    for _ in range(limit):
        assert store.record_failed_guess(kk, now - window, window, below=limit) is not None
    assert store.record_failed_guess(kk, now - window, window, below=limit) is None, "the old window is full"
    answers = race(12, lambda _: ("done", store.record_failed_guess(kk, now, window, below=limit)))
    taken = sorted(guesses.failures for _, guesses in answers if guesses is not None)
    assert taken == list(range(1, limit + 1)), answers
    assert store.get_guesses(kk) == store.Guesses(limit, now + window)
    # Without a limit every failure counts, in the one window.
    other = "1671010101990002"
    store.record_failed_guess(other, now - window, window)
    counted = race(6, lambda _: ("done", store.record_failed_guess(other, now, window)))
    assert sorted(c.failures for _, c in counted if c is not None) == [1, 2, 3, 4, 5, 6], counted
