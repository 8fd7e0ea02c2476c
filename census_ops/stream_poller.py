"""The local stand-in for Lambda's stream poller (docs/decisions/0019): read the table's
stream (DynamoDB Local's, or moto's in the unit tests) with the dynamodbstreams API and pass
the records, in the shape Lambda gives them (the event source's filter applied: MODIFYs of
household META items), to the same handler AWS runs, functions/progress_stream.

`census serve` polls it in a thread; the unit tests call `drain()` before they read a
counter or a receipt. A batch the handler raises on is retried from the same records,
like Lambda without bisection (the handler counts a redelivered record once)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from census_ops.events import ACCOUNT_ID, LambdaContext
from shared.store.schema import META_SK, household_pk

BATCH_SIZE = 100  # template.yaml's ProgressStreamMapping
# The event source's FilterCriteria (template.yaml), as a function: household META items.
_HOUSEHOLD_PREFIX = household_pk("")

Handler = Callable[[dict[str, Any], Any], Any]


def stream_context() -> LambdaContext:
    name = "ProgressStreamFunction"
    return LambdaContext(
        function_name=name,
        invoked_function_arn=f"arn:aws:lambda:ap-southeast-3:{ACCOUNT_ID}:function:{name}",
        log_group_name=f"/aws/lambda/{name}",
        deadline=time.monotonic() + 60,
    )


def passes_filter(record: Mapping[str, Any]) -> bool:
    """template.yaml's FilterCriteria: a MODIFY of an `HH#…`/`META` item."""
    keys = record.get("dynamodb", {}).get("Keys", {})
    return (
        record.get("eventName") == "MODIFY"
        and keys.get("sk", {}).get("S") == META_SK
        and keys.get("pk", {}).get("S", "").startswith(_HOUSEHOLD_PREFIX)
    )


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A dynamodbstreams GetRecords record as Lambda passes it (creation time in epoch seconds)."""
    body = dict(record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        body["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", "local"),
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }


@dataclass
class StreamPoller:
    """Where each shard of one table's stream has been read to."""

    dynamodb: Any  # a boto3 dynamodb client (for the stream's ARN)
    streams: Any  # a boto3 dynamodbstreams client on the same endpoint
    table_name: str
    handler: Handler
    positions: dict[str, str] = field(default_factory=dict)  # shard id -> last sequence number handed over
    delivered: int = 0  # records handed to the handler (in batches it returned from)
    batch_size: int = BATCH_SIZE
    batches: int = 0
    # Like the event source mapping's MaximumRecordAgeInSeconds: older records are not handed
    # over (a restart after a long stop: `census recount --fix` repairs what they would have moved).
    max_record_age_seconds: float | None = None
    discarded: int = 0
    # Where the positions are kept between runs (`census serve`: in its data directory).
    positions_file: Path | None = None
    # One drain at a time (`census serve` drains from its poll thread and after each write).
    lock: Any = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.positions_file is not None and self.positions_file.exists():
            self.positions = json.loads(self.positions_file.read_text())

    def _fresh(self, record: Mapping[str, Any]) -> bool:
        if self.max_record_age_seconds is None:
            return True
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        epoch = created.timestamp() if isinstance(created, datetime) else float(created or 0)
        return time.time() - epoch <= self.max_record_age_seconds

    def stream_arn(self) -> str:
        return str(self.dynamodb.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"])

    def _shards(self, arn: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            answer = self.streams.describe_stream(StreamArn=arn, **({"ExclusiveStartShardId": start} if start else {}))[
                "StreamDescription"
            ]
            shards += answer.get("Shards", [])
            start = answer.get("LastEvaluatedShardId")
            if not start:
                # Parents before children, as Lambda processes them.
                order = {s["ShardId"]: i for i, s in enumerate(shards)}
                return sorted(shards, key=lambda s: (s.get("ParentShardId") in order, order[s["ShardId"]]))

    def _records(self, arn: str, shard: str) -> list[dict[str, Any]]:
        after = self.positions.get(shard)
        iterator = self.streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard,
            **(
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                if after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            ),
        )["ShardIterator"]
        found: list[dict[str, Any]] = []
        while iterator:
            answer = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            records = answer.get("Records", [])
            found += records
            iterator = answer.get("NextShardIterator")
            if not records:
                break
        return found

    def drain(self) -> int:
        """Hand every record written since the last drain to the handler, in batches of up
        to BATCH_SIZE per shard; the number of records that passed the filter."""
        with self.lock:
            return self._drain()

    def _drain(self) -> int:
        arn = self.stream_arn()
        handed = 0
        for shard in self._shards(arn):
            shard_id = shard["ShardId"]
            records = self._records(arn, shard_id)
            for start in range(0, len(records), self.batch_size):
                batch = records[start : start + self.batch_size]
                wanted = [lambda_record(r, arn) for r in batch if passes_filter(r)]
                fresh = [r for r in wanted if self._fresh(r)]
                self.discarded += len(wanted) - len(fresh)
                wanted = fresh
                if wanted:  # Lambda invokes nothing for a batch the filter empties
                    self.handler({"Records": wanted}, stream_context())
                    self.batches += 1
                    self.delivered += len(wanted)
                    handed += len(wanted)
                self.positions[shard_id] = batch[-1]["dynamodb"]["SequenceNumber"]
                self._save()
        return handed

    def _save(self) -> None:
        if self.positions_file is not None:
            temporary = self.positions_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.positions))
            temporary.replace(self.positions_file)


def poll_forever(
    poller: StreamPoller,
    stop: threading.Event,
    *,
    every_seconds: float = 0.2,
    lock: Any = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """`census serve`'s loop: drain, then wait `every_seconds`, until `stop` (under `lock`
    when the store is moto, which is not thread-safe)."""
    while not stop.is_set():
        try:
            if lock is not None:
                with lock:
                    poller.drain()
            else:
                poller.drain()
        except Exception as error:  # the next poll retries the same records
            if on_error is not None and not stop.is_set():
                on_error(error)
            stop.wait(1.0)
        stop.wait(every_seconds)


def batch_records(streams: Any, info: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The records of one failed batch, as the on-failure destination describes it
    (`DDBStreamBatchInfo`: streamArn, shardId, start/endSequenceNumber), in Lambda's shape
    and filtered as the event source filters. Records past the stream's 24 h retention are
    gone: then `census recount --fix` is the repair."""
    arn, shard = info["streamArn"], info["shardId"]
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=str(start)
    )["ShardIterator"]
    found: list[dict[str, Any]] = []
    while iterator:
        answer = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = answer.get("Records", [])
        for record in records:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return found
            if passes_filter(record):
                found.append(lambda_record(record, arn))
        iterator = answer.get("NextShardIterator")
        if not records:
            break
    return found


def _too_old(info: Mapping[str, Any], now: float) -> bool:
    """Whether a failed batch began before the consumer's checkpoints can still be trusted:
    those older than its maximum record age are pruned, so replaying it could count again
    what was counted before it failed."""
    from datetime import datetime

    from shared.progress_stream import CHECKPOINT_MARGIN_SECONDS, MAXIMUM_RECORD_AGE_SECONDS

    first = info.get("approximateArrivalOfFirstRecord")
    if not first:
        return False
    began = datetime.fromisoformat(str(first).replace("Z", "+00:00")).timestamp()
    return now - began > MAXIMUM_RECORD_AGE_SECONDS + CHECKPOINT_MARGIN_SECONDS


def replay_failed_batches(
    sqs: Any, streams: Any, queue_url: str, handler: Handler, *, limit: int = 100, now: float | None = None
) -> tuple[int, int, int]:
    """Read the consumer's failure queue, hand each failed batch's records to the handler
    (each record still counts once: the checkpoints) and delete the message once it
    succeeded. A batch too old for the checkpoints (see _too_old) or already trimmed from the
    stream is not replayed: its message is deleted and counted as left to `census recount
    --fix`. (messages replayed, records handed over, batches left to the recount)."""
    import time

    from botocore.exceptions import ClientError

    now = time.time() if now is None else now
    replayed = handed = left = 0
    while replayed + left < limit:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = answer.get("Messages", [])
        if not messages:
            break
        for message in messages:
            info = json.loads(message["Body"])["DDBStreamBatchInfo"]
            try:
                records = [] if _too_old(info, now) else batch_records(streams, info)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TrimmedDataAccessException":
                    raise
                records = []
            if records:
                handler({"Records": records}, stream_context())
                replayed += 1
                handed += len(records)
            else:
                left += 1
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return replayed, handed, left


def local_poller(table: str, **options: Any) -> StreamPoller:
    """A poller of this process's configured table (DYNAMODB_ENDPOINT_URL, or moto), handing
    records to the consumer AWS runs (functions/progress_stream)."""
    import os

    import boto3
    from botocore.config import Config

    from functions.progress_stream.app import lambda_handler
    from shared.settings import settings

    endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL")
    config = Config(account_id_endpoint_mode="disabled")  # moto has no account-based endpoints
    region = settings().region
    return StreamPoller(
        boto3.client("dynamodb", endpoint_url=endpoint, config=config, region_name=region),
        boto3.client("dynamodbstreams", endpoint_url=endpoint, config=config, region_name=region),
        table,
        lambda_handler,
        **options,
    )
