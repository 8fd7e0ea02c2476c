"""A CapacityMeter that also keeps what each request asked and got, and the images of the
items it wrote before and after, so an operation's bill can be recomputed from item
sizes (census_ops.bench.units) beside what DynamoDB Local charged."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

from census_ops.bench.units import (
    Bill,
    Charge,
    Index,
    item_label,
    item_size,
    read_units,
    write_charges,
    write_units,
)
from census_ops.capacity import CapacityMeter

_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


@dataclass
class Recorded:
    operation: str
    params: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict)
    before: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return str(item["pk"]["S"]), str(item["sk"]["S"])


def written_keys(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """Keys of the items a write request changes."""
    if operation == "PutItem":
        return [_key(params["Item"])]
    if operation in {"UpdateItem", "DeleteItem"}:
        return [_key(params["Key"])]
    if operation == "TransactWriteItems":
        keys = []
        for entry in params["TransactItems"]:
            ((kind, body),) = entry.items()
            if kind != "ConditionCheck":
                keys.append(_key(body["Item"] if kind == "Put" else body["Key"]))
        return keys
    if operation == "BatchWriteItem":
        return [
            _key(request["PutRequest"]["Item"] if "PutRequest" in request else request["DeleteRequest"]["Key"])
            for requests in params["RequestItems"].values()
            for request in requests
        ]
    return []


@dataclass
class RequestLog(CapacityMeter):
    """`with RequestLog(raw_client, table, indexes) as log:` ... `log.bill()`. The raw client
    must be created outside the log (without its hooks): it reads the before/after images."""

    raw: Any = None
    table: str = ""
    indexes: tuple[Index, ...] = ()
    recorded: list[Recorded] = field(default_factory=list)
    after: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)

    def _capture(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        entry = Recorded(model.name, copy.deepcopy(params))
        if model.name in _WRITES and self.raw is not None:
            for key in written_keys(model.name, params):
                entry.before.setdefault(key, self._image(key))
        self.recorded.append(entry)

    def _answer(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        for entry in reversed(self.recorded):
            if entry.operation == model.name and not entry.answer:
                entry.answer = copy.deepcopy(dict(parsed))
                break

    _HOOKS: ClassVar[tuple[tuple[str, str], ...]] = (  # type: ignore[assignment,misc]
        *CapacityMeter._HOOKS,
        ("before-parameter-build.dynamodb", "_capture"),
        ("after-call.dynamodb", "_answer"),
    )

    def _image(self, key: tuple[str, str]) -> dict[str, Any] | None:
        found = self.raw.get_item(
            TableName=self.table, Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}}, ConsistentRead=True
        )
        item = found.get("Item")
        return dict(item) if item else None

    def __enter__(self) -> RequestLog:
        super().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        if self.raw is None:
            return
        for entry in self.recorded:
            for key in entry.before:
                if key not in self.after:
                    self.after[key] = self._image(key)

    # ------------------------------------------------------------ the bill by the rules

    def bill(self) -> Bill:
        """What the published rules charge for the requests made, from the items' sizes."""
        bill = Bill()
        for entry in self.recorded:
            bill.charges.extend(self._charges(entry))
        return bill

    def _charges(self, entry: Recorded) -> list[Charge]:
        op, params, answer = entry.operation, entry.params, entry.answer
        if "Error" in answer:
            return []
        if op == "GetItem":
            item = answer.get("Item")
            size = item_size(item)
            label = item_label(params["Key"])
            return [Charge(op, label, size, read_units=read_units(size, consistent=bool(params.get("ConsistentRead"))))]
        if op == "Query":
            items = answer.get("Items") or []
            size = sum(item_size(i) for i in items)
            consistent = bool(params.get("ConsistentRead"))
            where = f"index {params['IndexName']}" if params.get("IndexName") else self._labels(items)
            return [Charge(op, where, size, read_units=read_units(size, consistent=consistent))]
        if op == "BatchGetItem":
            charges = []
            for table, items in (answer.get("Responses") or {}).items():
                consistent = bool(params["RequestItems"].get(table, {}).get("ConsistentRead"))
                for item in items:
                    size = item_size(item)
                    charges.append(
                        Charge(op, item_label(item), size, read_units=read_units(size, consistent=consistent))
                    )
            return charges
        if op in _WRITES:
            charges = []
            for key in written_keys(op, params):
                keyed = {"pk": {"S": key[0]}, "sk": {"S": key[1]}}
                charges += write_charges(
                    op,
                    keyed,
                    entry.before.get(key),
                    self.after.get(key),
                    self.indexes,
                    transactional=op == "TransactWriteItems",
                )
            return charges
        return []

    @staticmethod
    def _labels(items: list[dict[str, Any]]) -> str:
        return "+".join(sorted({item_label(i) for i in items})) or "(nothing found)"

    def read_items(self) -> list[tuple[str, int]]:
        """(label, size) of every item a read request returned (index entries included)."""
        found: list[tuple[str, int]] = []
        for entry in self.recorded:
            answer = entry.answer
            if entry.operation == "GetItem" and answer.get("Item"):
                found.append((item_label(answer["Item"]), item_size(answer["Item"])))
            elif entry.operation == "Query":
                prefix = f"index {entry.params['IndexName']}:" if entry.params.get("IndexName") else ""
                found += [(prefix + item_label(i), item_size(i)) for i in answer.get("Items") or []]
            elif entry.operation == "BatchGetItem":
                for items in (answer.get("Responses") or {}).values():
                    found += [(item_label(i), item_size(i)) for i in items]
            elif entry.operation == "TransactWriteItems":
                # A cancelled transaction returns the items whose condition failed (ALL_OLD).
                for reason in answer.get("CancellationReasons") or []:
                    if reason.get("Item"):
                        found.append((item_label(reason["Item"]), item_size(reason["Item"])))
        return found

    def cancelled_write_units(self) -> float:
        """Standard write units of the items of transactions that were cancelled: what one
        phase would cost if AWS charges a cancelled transaction (DynamoDB Local charges none)."""
        units = 0.0
        for entry in self.recorded:
            if entry.operation == "TransactWriteItems" and "Error" in entry.answer:
                for key in written_keys(entry.operation, entry.params):
                    image = entry.before.get(key) or self._put_image(entry.params, key)
                    units += write_units(max(item_size(image), 1))
        return units

    @staticmethod
    def _put_image(params: dict[str, Any], key: tuple[str, str]) -> dict[str, Any] | None:
        for entry in params.get("TransactItems", []):
            put = entry.get("Put")
            if put and _key(put["Item"]) == key:
                return dict(put["Item"])
        return None

    def written_items(self) -> list[tuple[str, int]]:
        """(label, size after) of every item written."""
        return [
            (item_label({"pk": {"S": k[0]}, "sk": {"S": k[1]}}), item_size(v))
            for k, v in self.after.items()
            if v is not None
        ]


def template_indexes() -> tuple[Index, ...]:
    """The table's global secondary indexes, read from template.yaml."""
    from census_ops.template import table_definition

    indexes = []
    for gsi in table_definition().get("GlobalSecondaryIndexes", []):
        projection = gsi["Projection"]
        projected = None if projection["ProjectionType"] == "ALL" else frozenset(projection.get("NonKeyAttributes", []))
        indexes.append(Index(gsi["IndexName"], tuple(k["AttributeName"] for k in gsi["KeySchema"]), projected))
    return tuple(indexes)
