"""Status lookup on DynamoDB Local: what it really costs (AWS's own capacity accounting)
and the failed-attempt counter under concurrent guessing."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from census_ops.capacity import CapacityMeter
from census_ops.register import RegisterHousehold
from tests.conftest import Invoke, invoke, submission_body, table_items

pytestmark = pytest.mark.dynamodb_local


def _status_handler() -> Any:
    from functions.status.app import lambda_handler

    return lambda_handler


def test_receipt_lookup_is_one_getitem_of_at_most_one_read_unit(
    local_store: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = max(households, key=lambda h: len(h.members))
    _, _, stored = submit(household.kk, submission_body(household))
    _status_handler()  # import (and bind) outside the measurement
    with CapacityMeter() as meter:
        answer = invoke(
            _status_handler(), "GET", "/v1/receipts/{receipt_code}", {"receipt_code": stored["receipt_code"]}
        )
    assert answer["statusCode"] == 200
    assert meter.operations == ["GetItem"]
    assert 0 < meter.read_units <= 1.0
    assert meter.write_units == 0


def test_concurrent_wrong_guesses_are_all_counted(
    local_store: str, dynamodb_local: Any, households: list[RegisterHousehold]
) -> None:
    household, stranger = households[20], households[21]
    wrong = {"respondent_nik": stranger.members[0].nik}
    barrier = threading.Barrier(12)
    statuses: list[int] = []

    def guess() -> None:
        barrier.wait()
        answer = invoke(_status_handler(), "POST", "/v1/households/{kk}/status", {"kk": household.kk}, body=wrong)
        statuses.append(answer["statusCode"])

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(statuses) == 12 and set(statuses) <= {401, 429}
    counter = next(
        i for i in table_items(local_store, dynamodb_local.endpoint_url) if i["pk"]["S"] == f"LOCK#{household.kk}"
    )
    failures = int(counter["failures"]["N"])
    assert failures == statuses.count(401), "every 401 was counted, none lost to a race"
    assert failures >= 5
    right = {"respondent_nik": household.members[0].nik}
    answer = invoke(_status_handler(), "POST", "/v1/households/{kk}/status", {"kk": household.kk}, body=right)
    assert (answer["statusCode"], json.loads(answer["body"])["error"]["code"]) == (429, "too_many_attempts")
