"""Concurrency guarantees of intake, on DynamoDB Local (AWS's own engine): moto does not
keep conditional transactions atomic across threads, so these cannot run there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from census_ops.register import RegisterHousehold
from shared import store
from tests.conftest import Invoke, submission_body, table_items, use_table
from tests.integration.conftest import race

pytestmark = pytest.mark.dynamodb_local

EDUCATION = [
    "none",
    "primary",
    "junior_secondary",
    "senior_secondary",
    "diploma",
    "bachelor",
    "master",
    "doctorate",
]


def _versions(table: str, endpoint: str, kk: str) -> list[dict[str, Any]]:
    return sorted(
        (i for i in table_items(table, endpoint) if i["pk"]["S"] == f"HH#{kk}" and i["sk"]["S"].startswith("V#")),
        key=lambda i: i["sk"]["S"],
    )


def test_sixteen_concurrent_retries_with_one_key_store_one_version(
    local_store: str, dynamodb_local: Any, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[10]
    body = submission_body(household)
    results = race(16, lambda _: submit(household.kk, body, key="same-key-16"))
    statuses = {r[0] for r in results}
    receipts = {r[2]["receipt_code"] for r in results}
    assert statuses == {201}, results
    assert len(receipts) == 1
    assert {r[2]["version"] for r in results} == {1}
    assert len(_versions(local_store, dynamodb_local.endpoint_url, household.kk)) == 1


def test_eight_concurrent_corrections_end_as_consecutive_versions(
    local_store: str, dynamodb_local: Any, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[11]
    assert submit(household.kk, submission_body(household))[0] == 201

    def correct(i: int) -> Any:
        body = submission_body(household)
        body["members"][0]["education"] = EDUCATION[i]
        return submit(household.kk, body)

    results = race(8, correct)
    assert {r[0] for r in results} == {200}, results
    assert sorted(r[2]["version"] for r in results) == list(range(2, 10))
    versions = _versions(local_store, dynamodb_local.endpoint_url, household.kk)
    assert [int(v["version"]["N"]) for v in versions] == list(range(1, 10))
    stored = {v.members[0]["education"] for v in store.list_versions(household.kk)[1:]}
    assert stored == set(EDUCATION), "every correction is kept, none lost"
    meta = next(
        i
        for i in table_items(local_store, dynamodb_local.endpoint_url)
        if i["pk"]["S"] == f"HH#{household.kk}" and i["sk"]["S"] == "META"
    )
    assert meta["version"]["N"] == "9"


def test_concurrent_first_submissions_with_different_keys_share_one_receipt(
    local_store: str, dynamodb_local: Any, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[12]
    body = submission_body(household)
    results = race(6, lambda i: submit(household.kk, body, key=f"device-{i}"))
    assert len({r[2]["receipt_code"] for r in results}) == 1
    assert sorted(r[2]["version"] for r in results) == list(range(1, 7))
    assert sorted(r[0] for r in results) == [200] * 5 + [201]


# ---------------------------------------------------------------- interviews recorded by an officer


@pytest.fixture
def field_store(local_table: tuple[Any, str], dynamodb_local: Any, tmp_path: Path) -> tuple[str, Any, str]:
    """A register, roster and worklists; (table, field, the officer with the most households)."""
    from tests.integration.scenario import populate

    _, name = local_table
    use_table(name, dynamodb_local.endpoint_url)
    field = populate(tmp_path, households=60, officers=4)
    officer = max(field.officers(), key=lambda o: len(field.assigned(o)))
    return name, field, officer


def _visit(officer: str, kk: str, body: dict[str, Any], key: str | None = None) -> tuple[int, dict[str, Any]]:
    from tests.integration.scenario import call, who

    status, _, answer = call(
        "fieldwork",
        "POST",
        "/v1/households/{kk}/visits",
        {"kk": kk},
        body=body,
        claims=who(officer),
        headers={"Idempotency-Key": key} if key else None,
    )
    return status, answer


def _partition(table: str, endpoint: str, kk: str, prefix: str) -> list[dict[str, Any]]:
    return sorted(
        (i for i in table_items(table, endpoint) if i["pk"]["S"] == f"HH#{kk}" and i["sk"]["S"].startswith(prefix)),
        key=lambda i: i["sk"]["S"],
    )


def test_twelve_concurrent_retries_of_one_interview_store_one_version_and_one_visit(
    field_store: tuple[str, Any, str], dynamodb_local: Any
) -> None:
    table, field, officer = field_store
    kk = field.assigned(officer)[0]
    interview = {"outcome": "interviewed", "response": submission_body(field.household(kk))}
    results = race(12, lambda _: _visit(officer, kk, interview, key="tablet-3-visit-1"))
    assert {r[0] for r in results} == {201}, results
    assert len({json.dumps(r[1], sort_keys=True) for r in results}) == 1, "every retry gets the same answer"
    assert results[0][1]["version"] == 1
    assert len(_partition(table, dynamodb_local.endpoint_url, kk, "V#")) == 1
    visits = store.list_visits(kk)  # on META or in VISIT# items: the store knows where
    assert [(v.outcome, v.attempt) for v in visits] == [("interviewed", 1)]


def test_eight_concurrent_interview_corrections_end_as_consecutive_versions(
    field_store: tuple[str, Any, str], dynamodb_local: Any
) -> None:
    table, field, officer = field_store
    kk = field.assigned(officer)[1]
    household = field.household(kk)

    def interview(i: int) -> tuple[int, dict[str, Any]]:
        response = submission_body(household)
        response["members"][0]["education"] = EDUCATION[i]
        return _visit(officer, kk, {"outcome": "interviewed", "response": response})

    results = race(8, interview)
    assert sorted(r[0] for r in results) == [200] * 7 + [201], results
    assert sorted(r[1]["version"] for r in results) == list(range(1, 9))
    versions = _partition(table, dynamodb_local.endpoint_url, kk, "V#")
    assert [int(v["version"]["N"]) for v in versions] == list(range(1, 9))
    assert {v.members[0]["education"] for v in store.list_versions(kk)} == set(EDUCATION), "none lost"
    assert {v["channel"]["S"] for v in versions} == {"interview"}
    visits = store.list_visits(kk)
    assert sorted(v.attempt for v in visits) == list(range(1, 9)), "every visit counted once"
    meta = _partition(table, dynamodb_local.endpoint_url, kk, "META")[0]
    assert (meta["version"]["N"], meta["status"]["S"], meta["visit_attempts"]["N"]) == ("8", "interviewed", "8")


def _six_concurrent_failed_visits(field_store: tuple[str, Any, str], dynamodb_local: Any, n: int) -> tuple[Any, ...]:
    table, field, officer = field_store
    kk = field.assigned(officer)[n]
    results = race(6, lambda i: _visit(officer, kk, {"outcome": "not_home"}, key=f"tablet-{i}"))
    visits = store.list_visits(kk)
    meta = _partition(table, dynamodb_local.endpoint_url, kk, "META")[0]
    return results, visits, meta


def test_concurrent_failed_visits_are_all_kept_and_counted(
    field_store: tuple[str, Any, str], dynamodb_local: Any
) -> None:
    """Six tablets at once: the allowed attempts (MAX_VISIT_ATTEMPTS, 3) are each kept and
    counted; the rest are refused, never lost silently nor counted twice (issue 22's rule)."""
    results, visits, meta = _six_concurrent_failed_visits(field_store, dynamodb_local, 2)
    assert sorted(r[0] for r in results) == [201] * 3 + [409] * 3, results
    assert {r[1]["error"]["code"] for r in results if r[0] == 409} == {"visit_attempts_exhausted"}
    assert len(visits) == 3
    assert meta["visit_attempts"]["N"] == "3"


def test_concurrent_failed_visits_get_consecutive_attempt_numbers(
    field_store: tuple[str, Any, str], dynamodb_local: Any
) -> None:
    results, visits, _ = _six_concurrent_failed_visits(field_store, dynamodb_local, 3)
    assert sorted(r[1]["attempt"] for r in results if r[0] == 201) == [1, 2, 3]
    assert sorted(v.attempt for v in visits) == [1, 2, 3]
