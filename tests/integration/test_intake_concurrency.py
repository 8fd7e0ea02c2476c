"""Concurrency guarantees of intake, on DynamoDB Local (AWS's own engine): moto does not
keep conditional transactions atomic across threads, so these cannot run there."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.ops.importer import import_register
from shared.register import RegisterHousehold
from tests.conftest import Invoke, submission_body, table_items, use_table

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


@pytest.fixture
def local_store(local_table: tuple[Any, str], dynamodb_local: Any, demo_register_file: Path) -> str:
    _, name = local_table
    use_table(name, dynamodb_local.endpoint_url)
    assert not import_register(demo_register_file).errors
    return name


def _race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) on `count` threads released at the same instant."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


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
    results = _race(16, lambda _: submit(household.kk, body, key="same-key-16"))
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

    results = _race(8, correct)
    assert {r[0] for r in results} == {200}, results
    assert sorted(r[2]["version"] for r in results) == list(range(2, 10))
    versions = _versions(local_store, dynamodb_local.endpoint_url, household.kk)
    assert [int(v["version"]["N"]) for v in versions] == list(range(1, 10))
    stored = {v["members"]["L"][0]["M"]["education"]["S"] for v in versions[1:]}
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
    results = _race(6, lambda i: submit(household.kk, body, key=f"device-{i}"))
    assert len({r[2]["receipt_code"] for r in results}) == 1
    assert sorted(r[2]["version"] for r in results) == list(range(1, 7))
    assert sorted(r[0] for r in results) == [200] * 5 + [201]
