"""`census load` in small: 200 submissions from 8 clients against the local service on
DynamoDB Local (with retries, simultaneous duplicates and reused keys), then the table
check - and the check itself catches what it is there to catch. The full run
(5,000 x 32) is on demand: see docs/security.md."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from census_ops.load import (
    NotLoopback,
    Outcome,
    Planned,
    cmd_load,
    household_partition,
    plan_requests,
    report,
    require_loopback,
    run_load,
    stored_versions,
    verify,
)
from census_ops.local_api import LocalApi
from census_ops.register import RegisterHousehold
from census_ops.template import api_routes, create_table
from tests.conftest import use_table

pytestmark = pytest.mark.dynamodb_local


@pytest.fixture(scope="module")
def service(dynamodb_local: Any, demo_register_file: Any) -> Iterator[tuple[str, Any, str]]:
    from census_ops.importer import import_register

    table = f"census-load-{uuid.uuid4().hex[:8]}"
    client = dynamodb_local.client()
    create_table(client, table)
    use_table(table, dynamodb_local.endpoint_url)
    assert not import_register(demo_register_file).errors
    api = LocalApi(api_routes(), port=0)
    api.start_in_thread()
    try:
        yield api.url, client, table
    finally:
        api.shutdown()


def test_a_bounded_load_run_keeps_every_answer_exactly_once(
    service: tuple[str, Any, str], households: list[RegisterHousehold]
) -> None:
    url, client, table = service
    plan = plan_requests(households, 200, seed=7)
    kinds = {p.kind for p in plan}
    assert {"new", "retry", "duplicate", "reused_key", "unkeyed"} <= kinds, kinds

    def read(kk: str) -> list[dict[str, Any]]:
        return household_partition(client, table, kk)

    baseline = stored_versions((p.kk for p in plan), read)
    outcomes, seconds = run_load(url, plan, concurrency=8, time_limit=120)
    assert len(outcomes) == 200
    check = verify(outcomes, read, baseline)
    print(report(outcomes, seconds, check))
    assert check.violations == []
    assert check.unanswered_versions == 0
    assert not [o for o in outcomes if o.status >= 500 and o.status != 503], "no 5xx but a retryable 503"
    assert all(o.code == "idempotency_key_reused" for o in outcomes if o.planned.kind == "reused_key")
    ok = [o for o in outcomes if 200 <= o.status < 300]
    assert len(ok) >= 150, report(outcomes, seconds, check)
    assert check.versions >= len({(o.planned.kk, o.answer["version"]) for o in ok if o.answer})


def test_the_check_catches_lost_and_doubled_versions() -> None:
    planned = Planned(0, "1671010101200001", {}, "k-1", "new")

    def answered(version: int, key: str | None = "k-1") -> Outcome:
        body = {"version": version, "receipt_code": "R"}
        return Outcome(Planned(version, planned.kk, {}, key, "new"), 201, "201", body, 0.01, False)

    def item(sk: str, **attributes: Any) -> dict[str, Any]:
        return {"sk": {"S": sk}, **attributes}

    meta = item("META", version={"N": "2"}, receipt_code={"S": "R"})
    good = [meta, item("V#1", version={"N": "1"}, idempotency_key={"S": "k-1"}), item("V#2", version={"N": "2"})]
    assert verify([answered(1), answered(2, None)], lambda _: good).violations == []
    gap = [meta, item("V#1", version={"N": "1"}, idempotency_key={"S": "k-1"}), item("V#3", version={"N": "3"})]
    assert verify([answered(1)], lambda _: gap).violations, "a gap in the versions"
    doubled = [
        item("META", version={"N": "2"}, receipt_code={"S": "R"}),
        item("V#1", version={"N": "1"}, idempotency_key={"S": "k-1"}),
        item("V#2", version={"N": "2"}, idempotency_key={"S": "k-1"}),
    ]
    assert verify([answered(1)], lambda _: doubled).violations, "one key stored twice"
    lost = [meta, item("V#1", version={"N": "1"})]
    assert verify([answered(2, None)], lambda _: lost).violations, "an answered version that is not stored"
    assert verify([answered(1), answered(1, None)], lambda _: good).violations, "one version answered twice as new"


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:3000", "http://example.com", "https://127.0.0.1:3000", "http://192.168.1.2", "ftp://x"]
)
def test_only_loopback_targets(url: str) -> None:
    with pytest.raises(NotLoopback):
        require_loopback(url)


def test_loopback_targets_are_allowed() -> None:
    assert require_loopback("http://127.0.0.1:3000") == ("127.0.0.1", 3000)
    assert require_loopback("http://localhost:8080") == ("localhost", 8080)
    assert require_loopback("http://[::1]:3000") == ("::1", 3000)


def test_census_load_refuses_a_remote_url(capsys: pytest.CaptureFixture[str]) -> None:
    from census_ops.cli import build_parser

    args = build_parser().parse_args(["load", "--url", "http://203.0.113.9:3000", "--count", "1"])
    assert cmd_load(args) == 2
    assert "not a loopback address" in capsys.readouterr().err
