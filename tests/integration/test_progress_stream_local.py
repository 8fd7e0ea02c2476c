"""The stream consumer under real races, on DynamoDB Local (its own stream, its own
conditional writes): submissions and corrections race each other while three consumers
read the same stream at once, each handing every record to the handler (every record
delivered three times, concurrently, in batches cut differently): the counters still equal
a recount, and every receipt shows its household's latest state."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from botocore.config import Config

from census_ops.register import RegisterHousehold
from census_ops.stream_poller import StreamPoller
from functions.progress_stream.app import lambda_handler
from shared import store
from shared.progress import drift, recount
from shared.store.recount import count_table, stored_counters
from tests.conftest import Invoke, member_body, submission_body
from tests.integration.conftest import race

pytestmark = pytest.mark.dynamodb_local


def _poller(endpoint: str, table: str, batch: int) -> StreamPoller:
    config = Config(account_id_endpoint_mode="disabled")
    poller = StreamPoller(
        boto3.client("dynamodb", endpoint_url=endpoint, config=config),
        boto3.client("dynamodbstreams", endpoint_url=endpoint, config=config),
        table,
        lambda_handler,
    )
    poller.batch_size = batch
    return poller


def test_counters_equal_a_recount_when_every_record_is_delivered_three_times_at_once(
    local_store: str, dynamodb_local: Any, households: list[RegisterHousehold], submit: Invoke
) -> None:
    endpoint = dynamodb_local.endpoint_url
    pollers = [_poller(endpoint, local_store, batch) for batch in (100, 7, 3)]
    stop = threading.Event()
    failures: list[BaseException] = []

    def consume(poller: StreamPoller) -> None:
        while not stop.is_set():
            try:
                poller.drain()
            except Exception as error:  # a lost race is retried by the next drain, as Lambda would
                failures.append(error)

    threads = [threading.Thread(target=consume, args=(p,)) for p in pollers]
    for thread in threads:
        thread.start()
    try:
        chosen = households[:12]

        def respond(i: int) -> int:
            household = chosen[i]
            status, _, _ = submit(household.kk, submission_body(household), key=f"race-{i}")
            body = submission_body(household)
            body["members"] = [member_body(household.members[0], education="master")]
            corrected, _, _ = submit(household.kk, body, key=f"race-correction-{i}")
            return status * 1000 + corrected

        assert race(len(chosen), respond) == [201200] * len(chosen)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    for poller in pollers:  # whatever each had not reached yet
        while poller.drain():
            pass
    table = count_table()
    recounted = recount(table.households)
    assert drift(stored_counters(set(recounted) | set(table.counters)), recounted) == {}
    for household in households[:12]:
        state = store.household_states([household.kk])[household.kk]
        receipt = store.get_receipt(state.receipt_code or "")
        assert receipt is not None
        assert (receipt.version, receipt.status, receipt.member_count) == (2, state.status, 1)
    # Every record reached the handler three times, yet moved the counters once.
    assert all(p.delivered == pollers[0].delivered for p in pollers) and pollers[0].delivered == 24
