"""The progress counters and receipts moved from the table's stream (docs/decisions/0019):
the consumer (functions/progress_stream) counts each record once however Lambda delivers
it (redelivered, bisected, out of order), a receipt never goes back to an older record, and
a recount agrees with the counters once the stream is drained. On moto, whose stream records
TransactWriteItems like DynamoDB's (and drops them with a cancelled transaction)."""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config

from census_ops.register import RegisterHousehold
from census_ops.stream_poller import StreamPoller
from functions.progress_stream.app import lambda_handler
from shared import store
from shared.progress import drift, recount
from shared.progress_stream import MAXIMUM_RECORD_AGE_SECONDS, apply_stream_records
from shared.store.recount import count_table, stored_counters
from shared.store.schema import ProgressCounter
from shared.store.stream_apply import PRUNE_NOW_AT
from tests.conftest import Invoke, LambdaContext, drain_stream, member_body, submission_body


def _capture() -> tuple[StreamPoller, list[dict[str, Any]]]:
    """A poller that keeps the records it would hand to the consumer (the event source's
    filter applied) instead of handing them over."""
    records: list[dict[str, Any]] = []
    poller = StreamPoller(
        boto3.client("dynamodb"),
        boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled")),
        os.environ["TABLE_NAME"],
        lambda event, _: records.extend(event["Records"]),
    )
    poller.drain()  # the register import: INSERTs, none passes
    assert records == []
    return poller, records


def _deliver(records: list[dict[str, Any]]) -> dict[str, int]:
    result: dict[str, int] = lambda_handler({"Records": records}, LambdaContext())
    return result


def _drift() -> dict[str, dict[str, int]]:
    table = count_table()
    recounted = recount(table.households)
    return drift(stored_counters(set(recounted) | set(table.counters)), recounted)


def _same_sls(households: list[RegisterHousehold], n: int) -> list[RegisterHousehold]:
    by_sls: dict[str, list[RegisterHousehold]] = defaultdict(list)
    for household in households:
        by_sls[household.sls_code].append(household)
    group = max(by_sls.values(), key=len)
    assert len(group) >= n
    return group[:n]


def _submitted_in_one_sls(
    households: list[RegisterHousehold], submit: Invoke, n: int
) -> tuple[list[RegisterHousehold], list[dict[str, Any]]]:
    """n households of one SLS, each submitted once: them, and their stream records, captured
    (not yet handed to the consumer)."""
    poller, records = _capture()
    group = _same_sls(households, n)
    for household in group:
        assert submit(household.kk, submission_body(household))[0] == 201
        poller.drain()
    return group, records


def _corrected(household: RegisterHousehold, members: int) -> dict[str, Any]:
    body = submission_body(household)
    body["members"] = [member_body(m) for m in household.members][:members] or body["members"]
    return body


def test_a_cancelled_transaction_leaves_nothing_on_the_stream(moto_table: str) -> None:
    """What the tests' drain relies on, moto's rollback included (tests/conftest.py shares the
    stream's records with the backup it takes before a transaction)."""
    poller, records = _capture()
    client = boto3.client("dynamodb")
    item = {"pk": {"S": "HH#cancelled-test"}, "sk": {"S": "META"}, "n": {"N": "1"}}
    client.put_item(TableName=moto_table, Item=item)
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": moto_table,
                        "Key": {"pk": item["pk"], "sk": item["sk"]},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": moto_table,
                        "Key": {"pk": {"S": "HH#absent-test"}, "sk": {"S": "META"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    client.update_item(
        TableName=moto_table,
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="SET n = :three",
        ExpressionAttributeValues={":three": {"N": "3"}},
    )
    poller.drain()
    # Only the update that happened reaches the consumer: 1 -> 3, never the cancelled 1 -> 2.
    changes = [(r["dynamodb"]["OldImage"]["n"]["N"], r["dynamodb"]["NewImage"]["n"]["N"]) for r in records]
    assert changes == [("1", "3")]


def test_a_status_change_moves_the_counters_from_the_stream_and_a_first_receipt_at_once(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[0]
    before = {r.sls_code: r.counts for r in store.progress_counts(household.sls_code)}[household.sls_code]
    status, _, answer = submit(household.kk, submission_body(household))
    assert status == 201
    # Status by receipt works the moment the answer arrives: the transaction wrote it.
    receipt = store.get_receipt(answer["receipt_code"])
    assert receipt is not None and receipt.status == answer["status"] and receipt.version == 1
    # The counter has not moved: its change is in the stream.
    assert {r.sls_code: r.counts for r in store.progress_counts(household.sls_code)}[household.sls_code] == before
    assert _drift() != {}
    assert drain_stream() == 1  # one MODIFY of META; the version and receipt items do not pass
    after = {r.sls_code: r.counts for r in store.progress_counts(household.sls_code)}[household.sls_code]
    assert after["pending"] == before["pending"] - 1 and after[answer["status"]] == before[answer["status"]] + 1
    assert after["responded_online"] == before["responded_online"] + 1
    assert _drift() == {}


def test_a_redelivered_batch_is_counted_once(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    poller, records = _capture()
    group = _same_sls(households, 3)
    for household in [*group, households[-1]]:
        assert submit(household.kk, submission_body(household))[0] == 201
    assert submit(group[0].kk, _corrected(group[0], 1))[0] == 200
    poller.drain()
    assert len(records) == 5
    first = _deliver(records)
    assert first["counted"] >= 4 and first["skipped"] == 0
    assert _drift() == {}
    again = _deliver(records)  # Lambda retries a batch whose invocation failed after it wrote
    assert again["counted"] == 0 and again["skipped"] == first["counted"]
    assert _drift() == {}


def test_a_bisected_retry_counts_each_record_once(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    poller, records = _capture()
    group = _same_sls(households, 4)
    for household in group:
        assert submit(household.kk, submission_body(household))[0] == 201
    for household in group[:2]:
        assert submit(household.kk, _corrected(household, 1))[0] == 200
    assert submit(households[-1].kk, submission_body(households[-1]))[0] == 201
    poller.drain()
    assert len(records) == 7
    half = len(records) // 2
    # The first attempt counted its first half, then failed (an SLS's update throttled):
    _deliver(records[:half])
    # Lambda retries the whole batch: each household above its checkpoint only...
    retried = _deliver(records)
    assert retried["skipped"] >= 1
    assert _drift() == {}
    # ...then, failing again, bisects it: both halves are already counted.
    for part in (records[:half], records[half:]):
        assert _deliver(part)["counted"] == 0
    assert _drift() == {}


def test_records_of_one_household_out_of_order_count_once_each(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    poller, records = _capture()
    household = households[1]
    assert submit(household.kk, submission_body(household))[0] == 201
    poller.drain()
    assert submit(household.kk, _corrected(household, 1))[0] == 200
    poller.drain()
    assert len(records) == 2
    # A later batch first, then (a replay) the earlier one: the earlier is not counted
    # again after the later, whose checkpoint is higher. Counted in order, it is exact.
    _deliver(records[:1])
    _deliver(records[1:])
    _deliver(records[:1])
    assert _drift() == {}


def test_a_receipt_refresh_never_goes_back_to_an_older_record(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    poller, records = _capture()
    household = households[2]
    status, _, first = submit(household.kk, submission_body(household))
    assert status == 201
    assert submit(household.kk, _corrected(household, 1))[0] == 200
    assert submit(household.kk, submission_body(household))[0] == 200
    poller.drain()
    assert len(records) == 3
    code = first["receipt_code"]
    receipt = store.get_receipt(code)
    assert receipt is not None and receipt.version == 1  # later changes: from the stream
    _deliver([records[2]])
    newest = store.get_receipt(code)
    assert newest is not None and newest.version == 3 and newest.member_count == len(household.members)
    result = _deliver([records[1]])  # an older record redelivered after the newer one
    assert result["receipts_kept"] == 1 and result["receipts"] == 0
    assert store.get_receipt(code) == newest
    _deliver(list(reversed(records)))  # and within one batch, out of order
    assert store.get_receipt(code) == newest


def test_a_visit_and_a_review_decision_reach_the_receipt_and_counters_once_drained(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[3]
    status, _, answer = submit(household.kk, submission_body(household))
    assert status == 201
    drain_stream()
    assert _drift() == {}
    state = store.household_states([household.kk])[household.kk]
    assert state.receipt_code == answer["receipt_code"]
    # A correction that moves nothing the counters count still refreshes the receipt.
    assert submit(household.kk, _corrected(household, 1))[0] == 200
    drain_stream()
    receipt = store.get_receipt(answer["receipt_code"])
    assert receipt is not None and receipt.version == 2 and receipt.member_count == 1
    assert receipt.status == store.household_states([household.kk])[household.kk].status
    assert _drift() == {}


def test_checkpoints_older_than_the_maximum_record_age_are_removed(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    group, records = _submitted_in_one_sls(households, submit, PRUNE_NOW_AT + 2)
    sls = group[0].sls_code
    later = int(time.time()) + MAXIMUM_RECORD_AGE_SECONDS + 3600

    def checkpoints() -> list[str]:
        item = boto3.client("dynamodb").get_item(
            TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": f"PROGRESS#{sls[:4]}"}, "sk": {"S": sls}}
        )["Item"]
        return sorted(name for name in item if name.startswith("seen#"))

    _deliver(records[:PRUNE_NOW_AT])  # their checkpoints, now
    assert len(checkpoints()) == PRUNE_NOW_AT
    # Far later, the next household's change finds them all stale: removed, each only because
    # it still is (a checkpoint another container refreshed meanwhile would stay).
    apply_stream_records(records[PRUNE_NOW_AT : PRUNE_NOW_AT + 1], now_epoch=later)
    assert checkpoints() == [f"seen#{group[PRUNE_NOW_AT].kk}"]
    apply_stream_records(records[PRUNE_NOW_AT + 1 :], now_epoch=later)
    assert checkpoints() == sorted(f"seen#{h.kk}" for h in group[PRUNE_NOW_AT:])
    assert _drift() == {}


def test_a_checkpoint_refreshed_while_a_prune_is_on_its_way_is_kept(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    """Between the update that shows a checkpoint stale and the REMOVE that follows it, another
    container counts a newer change of that household: its fresh checkpoint must stay, or a
    retry of that container's batch would count the change again."""
    group, records = _submitted_in_one_sls(households, submit, PRUNE_NOW_AT + 1)
    sls = group[0].sls_code
    key = {"pk": {"S": f"PROGRESS#{sls[:4]}"}, "sk": {"S": sls}}
    later = int(time.time()) + MAXIMUM_RECORD_AGE_SECONDS + 3600
    _deliver(records[:PRUNE_NOW_AT])  # checkpoints of the first eight, now
    refreshed = f"seen#{group[0].kk}"
    newer = {"M": {"s": {"S": "9" * 40}, "t": {"N": str(later)}}}
    other_container = boto3.client("dynamodb")
    removes: list[str] = []

    def meanwhile(params: dict[str, Any], **_: Any) -> None:
        if params.get("UpdateExpression", "").startswith("REMOVE"):
            removes.append(params["UpdateExpression"])
            other_container.update_item(
                TableName=os.environ["TABLE_NAME"],
                Key=key,
                UpdateExpression="SET #c = :c",
                ExpressionAttributeNames={"#c": refreshed},
                ExpressionAttributeValues={":c": newer},
            )

    events = ProgressCounter._get_connection().connection.client.meta.events
    events.register("provide-client-params.dynamodb.UpdateItem", meanwhile)
    try:
        # Far later, the ninth household's change shows the eight stale: the prune is sent.
        apply_stream_records(records[PRUNE_NOW_AT : PRUNE_NOW_AT + 1], now_epoch=later)
    finally:
        events.unregister("provide-client-params.dynamodb.UpdateItem", meanwhile)
    assert len(removes) == 1
    item = other_container.get_item(TableName=os.environ["TABLE_NAME"], Key=key, ConsistentRead=True)["Item"]
    assert item[refreshed] == newer


@pytest.mark.parametrize("event_name", ["INSERT", "REMOVE"])
def test_creations_and_removals_are_left_to_their_writers(moto_table: str, event_name: str) -> None:
    record = {
        "eventName": event_name,
        "dynamodb": {
            "Keys": {"pk": {"S": "HH#1671010101000001"}, "sk": {"S": "META"}},
            "NewImage": {"status": {"S": "pending"}, "sls_code": {"S": "16710101010001"}},
            "SequenceNumber": "100",
        },
    }
    assert _deliver([record])["records"] == 0


def test_a_failed_batch_is_replayed_from_the_failure_queue_and_counted_once(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    from census_ops.stream_poller import replay_failed_batches

    poller, records = _capture()
    for household in households[4:7]:
        assert submit(household.kk, submission_body(household))[0] == 201
    poller.drain()
    assert len(records) == 3
    _deliver(records[:1])  # the batch's first record was counted before the batch failed for good
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="progress-stream-failures")["QueueUrl"]
    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    info = {
        "shardId": next(iter(poller.positions)),
        "startSequenceNumber": sequences[0],
        "endSequenceNumber": sequences[-1],
        "streamArn": records[0]["eventSourceARN"],
        "batchSize": 3,
    }
    # What Lambda's on-failure destination sends for a stream batch (the records stay in the stream).
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"requestContext": {}, "DDBStreamBatchInfo": info}))
    assert _drift() != {}
    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    assert replay_failed_batches(sqs, streams, queue, lambda_handler) == (1, 3, 0)
    assert _drift() == {}
    # The same batch failing again, found over 70 minutes later: its checkpoints may be
    # pruned, so it is not replayed (it could count again); left to the recount.
    began = datetime.now(UTC) - timedelta(seconds=MAXIMUM_RECORD_AGE_SECONDS + 700)
    stale = {**info, "approximateArrivalOfFirstRecord": began.isoformat().replace("+00:00", "Z")}
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"requestContext": {}, "DDBStreamBatchInfo": stale}))
    assert replay_failed_batches(sqs, streams, queue, lambda_handler) == (0, 0, 1)
    assert _drift() == {}
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", []) == []
    assert sqs.receive_message(QueueUrl=queue).get("Messages") is None  # deleted once replayed
