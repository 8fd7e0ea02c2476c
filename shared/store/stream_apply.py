"""What the table's stream consumer (functions/progress_stream) writes: the SLS progress
counters and the receipts, moved from the households' META changes (docs/decisions/0019).

Counting exactly once: a counter item carries, per household whose change it counted, a
checkpoint attribute `seen#<kk>` = {"s": the highest stream sequence number of that
household counted (40 digits, zero-padded, so string order is number order), "t": that
record's creation time (epoch seconds)}. One UpdateItem per SLS (per chunk of households)
ADDs the batch's summed deltas and SETs the checkpoints, conditional on every household's
checkpoint being absent or lower than its smallest sequence number in the batch. A
household's records reach the consumer in order (one item: one shard lineage, processed
in order, parent shard first), so "counted" is exactly "sequence number <= checkpoint". A
failed condition means an earlier attempt counted some of them: the checkpoints are read
back and only the records above them are counted. Checkpoints older than the consumer's
maximum record age can never be redelivered and are removed (docs/decisions/0019)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
from botocore.exceptions import ClientError

from shared.store.faults import mapped_faults
from shared.store.schema import (
    META_SK,
    RECEIPT_SK,
    CensusItem,
    ProgressCounter,
    household_pk,
    kk_of,
    progress_key,
    receipt_pk,
)

_CHECKPOINT = "seen#"
SEQUENCE_DIGITS = 40  # DynamoDB Streams' sequence numbers: 21 to 40 decimal digits
HOUSEHOLDS_PER_UPDATE = 20  # keeps the condition expression far under its 4 KB limit
PRUNE_NOW_AT = 8  # stale checkpoints remembered on one counter before they are removed
PRUNE_AT_MOST = 100  # removed in one request (each adds a name and a condition to it)
_ATTEMPTS = 10  # conditional updates of one chunk before giving the batch back to Lambda
_HOUSEHOLD_PREFIX = household_pk("")


class HouseholdImage(msgspec.Struct, frozen=True):
    """A household's META as one stream image shows it (the fields progress and receipts use)."""

    kk: str
    sls_code: str
    status: str
    version: int
    channel: str | None
    on_worklist: bool
    in_review: bool
    receipt_code: str | None
    first_submitted_at: str | None
    last_submitted_at: str | None
    member_count: int | None

    def receipt_fields(self) -> tuple[Any, ...]:
        """What the receipt item copies from META."""
        return (self.status, self.version, self.channel, self.last_submitted_at, self.member_count)


class StreamRecordView(msgspec.Struct, frozen=True):
    """A MODIFY of a household's META: its two images and where it stands in the stream."""

    old: HouseholdImage
    new: HouseholdImage
    sequence: str  # zero-padded to SEQUENCE_DIGITS
    created_epoch: int


class CountedChange(msgspec.Struct, frozen=True):
    """One household change to count on its SLS's counter."""

    kk: str
    sequence: str
    created_epoch: int
    delta: Mapping[str, int]


class CounterResult(msgspec.Struct):
    counted: int = 0  # records whose deltas were added
    skipped: int = 0  # records already counted (a redelivery)
    writes: int = 0  # UpdateItem requests made
    reads: int = 0  # checkpoint reads after a failed condition


def _value(attribute: Mapping[str, Any] | None) -> Any:
    if not attribute:
        return None
    if "S" in attribute:
        return attribute["S"]
    if "N" in attribute:
        return int(attribute["N"])
    if "BOOL" in attribute:
        return attribute["BOOL"]
    return None


def _image(kk: str, image: Mapping[str, Any]) -> HouseholdImage:
    return HouseholdImage(
        kk=kk,
        sls_code=_value(image.get("sls_code")) or "",
        status=_value(image.get("status")) or "",
        version=_value(image.get("version")) or 0,
        channel=_value(image.get("channel")),
        on_worklist="visit_area" in image,
        in_review="review_area" in image,
        receipt_code=_value(image.get("receipt_code")),
        first_submitted_at=_value(image.get("first_submitted_at")),
        last_submitted_at=_value(image.get("last_submitted_at")),
        member_count=_value(image.get("member_count")),
    )


def padded_sequence(sequence: str) -> str:
    return sequence.zfill(SEQUENCE_DIGITS)


@mapped_faults
def household_modification(record: Mapping[str, Any]) -> StreamRecordView | None:
    """The record as a change of a household's META, or None (another item, an INSERT or a
    REMOVE: creators count their own households, docs/decisions/0019)."""
    if record.get("eventName") != "MODIFY":
        return None
    body = record.get("dynamodb", {})
    keys = body.get("Keys", {})
    pk, sk = _value(keys.get("pk")), _value(keys.get("sk"))
    if sk != META_SK or not isinstance(pk, str) or not pk.startswith(_HOUSEHOLD_PREFIX):
        return None
    old, new = body.get("OldImage"), body.get("NewImage")
    if old is None or new is None:
        raise ValueError("the stream must carry NEW_AND_OLD_IMAGES")
    kk = kk_of(pk)
    created = body.get("ApproximateCreationDateTime", 0)
    return StreamRecordView(_image(kk, old), _image(kk, new), padded_sequence(body["SequenceNumber"]), int(created))


# Stale checkpoint names seen on each counter (from UpdateItem's ALL_NEW): removed with the
# counter's next update from this container. Bounded: at most _REMEMBERED counters.
_stale: OrderedDict[str, list[str]] = OrderedDict()
_REMEMBERED = 10_000


def _client() -> Any:
    return ProgressCounter._get_connection().connection.client


def _table() -> str:
    return str(CensusItem.Meta.table_name)


def _failed_condition(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def _remember_stale(sls_code: str, item: Mapping[str, Any], before_epoch: int, fresh: Iterable[str]) -> list[str]:
    keep = set(fresh)
    stale = [
        name
        for name, value in item.items()
        if name.startswith(_CHECKPOINT)
        and name not in keep
        and int(value.get("M", {}).get("t", {}).get("N", "0")) < before_epoch
    ]
    if stale:
        _stale[sls_code] = stale
        _stale.move_to_end(sls_code)
        while len(_stale) > _REMEMBERED:
            _stale.popitem(last=False)
    else:
        _stale.pop(sls_code, None)
    return stale


def _update(
    sls_code: str, changes: Sequence[CountedChange], *, prune_before_epoch: int
) -> tuple[bool, Mapping[str, Any]]:
    """One conditional UpdateItem for `changes` (≤ HOUSEHOLDS_PER_UPDATE households):
    (True, the new item) or (False, {}) when an earlier attempt counted some of them."""
    delta: dict[str, int] = {}
    first: dict[str, str] = {}
    last: dict[str, CountedChange] = {}
    for change in changes:
        for name, value in change.delta.items():
            delta[name] = delta.get(name, 0) + value
        if change.kk not in first or change.sequence < first[change.kk]:
            first[change.kk] = change.sequence
        if change.kk not in last or change.sequence > last[change.kk].sequence:
            last[change.kk] = change
    names: dict[str, str] = {"#kind": "kind", "#s": "s"}
    values: dict[str, Any] = {":kind": {"S": "progress"}}
    adds, sets, conditions = [], ["#kind = :kind"], []
    for i, (name, value) in enumerate(sorted((n, v) for n, v in delta.items() if v)):
        names[f"#f{i}"], values[f":f{i}"] = name, {"N": str(value)}
        adds.append(f"#f{i} :f{i}")
    for i, kk in enumerate(sorted(last)):
        names[f"#c{i}"] = _CHECKPOINT + kk
        values[f":m{i}"] = {"S": first[kk]}
        values[f":c{i}"] = {"M": {"s": {"S": last[kk].sequence}, "t": {"N": str(last[kk].created_epoch)}}}
        sets.append(f"#c{i} = :c{i}")
        conditions.append(f"(attribute_not_exists(#c{i}) OR #c{i}.#s < :m{i})")
    fresh = {_CHECKPOINT + kk for kk in last}
    expression = "SET " + ", ".join(sets)
    if adds:
        expression += " ADD " + ", ".join(adds)
    pk, sk = progress_key(sls_code)
    try:
        answer = _client().update_item(
            TableName=_table(),
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression=expression,
            ConditionExpression=" AND ".join(conditions),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if _failed_condition(error):
            return False, {}
        raise
    item = answer.get("Attributes", {})
    _remember_stale(sls_code, item, prune_before_epoch, fresh)
    return True, item


def _checkpoints(sls_code: str, households: Iterable[str]) -> dict[str, str]:
    """The stored checkpoints of these households on the SLS's counter (strongly consistent)."""
    wanted = sorted(set(households))
    names = {f"#c{i}": _CHECKPOINT + kk for i, kk in enumerate(wanted)}
    pk, sk = progress_key(sls_code)
    item = (
        _client()
        .get_item(
            TableName=_table(),
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            ConsistentRead=True,
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
        )
        .get("Item", {})
    )
    return {
        name.removeprefix(_CHECKPOINT): value["M"]["s"]["S"] for name, value in item.items() if name in names.values()
    }


def _prune(sls_code: str, before_epoch: int) -> None:
    """Remove the stale checkpoints remembered for this counter, each only if it is still
    stale: another container may have counted a new change of that household since (a fresh
    checkpoint is never removed, or a retry of its batch would count it again). At most
    PRUNE_AT_MOST at once (the expression's size); if any has moved on, none is removed now."""
    stale = _stale.pop(sls_code, [])[:PRUNE_AT_MOST]
    if not stale:
        return
    pk, sk = progress_key(sls_code)
    names = {"#t": "t", **{f"#r{i}": name for i, name in enumerate(stale)}}
    try:
        _client().update_item(
            TableName=_table(),
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression="REMOVE " + ", ".join(f"#r{i}" for i in range(len(stale))),
            ConditionExpression=" AND ".join(
                f"(attribute_not_exists(#r{i}) OR #r{i}.#t < :before)" for i in range(len(stale))
            ),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":before": {"N": str(before_epoch)}},
        )
    except ClientError as error:
        if not _failed_condition(error):
            raise


@mapped_faults
def count_changes(sls_code: str, changes: Sequence[CountedChange], *, prune_before_epoch: int) -> CounterResult:
    """Add the changes' deltas to the SLS's counter, each record exactly once however often
    it is delivered (see the module's docstring)."""
    result = CounterResult()
    by_household: dict[str, list[CountedChange]] = {}
    for change in changes:
        by_household.setdefault(change.kk, []).append(change)
    households = sorted(by_household)
    for start in range(0, len(households), HOUSEHOLDS_PER_UPDATE):
        pending = [c for kk in households[start : start + HOUSEHOLDS_PER_UPDATE] for c in by_household[kk]]
        for _ in range(_ATTEMPTS):
            if not pending:
                break
            result.writes += 1
            done, _ = _update(sls_code, pending, prune_before_epoch=prune_before_epoch)
            if done:
                result.counted += len(pending)
                break
            # An earlier delivery counted some of these: count only what lies above the checkpoints.
            result.reads += 1
            stored = _checkpoints(sls_code, (c.kk for c in pending))
            above = [c for c in pending if c.sequence > stored.get(c.kk, "")]
            result.skipped += len(pending) - len(above)
            pending = above
        else:
            if pending:  # another writer kept moving the checkpoints: Lambda retries the batch
                raise RuntimeError(f"the counter of SLS {sls_code} kept changing under {len(pending)} records")
    if len(_stale.get(sls_code, ())) >= PRUNE_NOW_AT:
        result.writes += 1
        _prune(sls_code, prune_before_epoch)
    return result


@mapped_faults
def refresh_receipt(image: HouseholdImage, sequence: str) -> bool:
    """Copy META's receipt fields onto its receipt item, unless the receipt already holds a
    newer record's (its `seq`): False when nothing was written (older, or no receipt)."""
    if image.receipt_code is None:
        return False
    status, version, channel, last_submitted_at, member_count = image.receipt_fields()
    names = {"#status": "status", "#version": "version", "#seq": "seq"}
    values: dict[str, Any] = {":status": {"S": status}, ":version": {"N": str(version)}, ":seq": {"S": sequence}}
    # What META holds, never a made-up "" or 0 for what it does not.
    for key, name, value in (
        ("channel", "channel", None if channel is None else {"S": channel}),
        ("last", "last_submitted_at", None if last_submitted_at is None else {"S": last_submitted_at}),
        ("members", "member_count", None if member_count is None else {"N": str(member_count)}),
    ):
        if value is not None:
            names[f"#{key}"], values[f":{key}"] = name, value
    assignments = ", ".join(f"{name} = :{name[1:]}" for name in names)
    try:
        _client().update_item(
            TableName=_table(),
            Key={"pk": {"S": receipt_pk(image.receipt_code)}, "sk": {"S": RECEIPT_SK}},
            UpdateExpression="SET " + assignments,
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#seq) OR #seq < :seq)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if _failed_condition(error):
            return False
        raise
    return True
