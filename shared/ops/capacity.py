"""Measure what DynamoDB charges, without touching the code being measured: botocore
event hooks ask every DynamoDB request for `ReturnConsumedCapacity=INDEXES` and record
the answer. Meaningful on DynamoDB Local (AWS's own accounting); moto's is not faithful."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.handlers import BUILTIN_HANDLERS

from shared import storage
from shared.settings import settings

_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


@dataclass
class Request:
    """One DynamoDB request; units include those charged to indexes (also in index_units)."""

    operation: str
    read_units: float
    write_units: float
    index_units: dict[str, float]


@dataclass
class CapacityMeter:
    """`with CapacityMeter() as meter:` then `meter.requests`, `meter.read_units` ..."""

    requests: list[Request] = field(default_factory=list)

    def _ask(self, params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "INDEXES"

    def _record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity") or []
        entries = consumed if isinstance(consumed, list) else [consumed]
        table_units = 0.0
        indexes: dict[str, float] = {}
        for entry in entries:
            # With INDEXES, `Table` holds the base table's share; without, only the total.
            table_units += (entry.get("Table") or entry).get("CapacityUnits", 0.0)
            for name, units in (entry.get("GlobalSecondaryIndexes") or {}).items():
                indexes[name] = indexes.get(name, 0.0) + units.get("CapacityUnits", 0.0)
        index_units = sum(indexes.values())
        if model.name in _READS:
            self.requests.append(Request(model.name, table_units + index_units, 0.0, indexes))
        else:
            self.requests.append(Request(model.name, 0.0, table_units + index_units, indexes))

    _HOOKS = (
        ("before-parameter-build.dynamodb", "_ask"),
        ("after-call.dynamodb", "_record"),
    )

    def __enter__(self) -> CapacityMeter:
        for event, method in self._HOOKS:
            BUILTIN_HANDLERS.append((event, getattr(self, method)))
        storage.bind(settings())  # new clients, which pick up the hooks
        return self

    def __exit__(self, *_: object) -> None:
        for event, method in self._HOOKS:
            BUILTIN_HANDLERS.remove((event, getattr(self, method)))
        storage.bind(settings())

    @property
    def read_units(self) -> float:
        return sum(r.read_units for r in self.requests)

    @property
    def write_units(self) -> float:
        return sum(r.write_units for r in self.requests)

    @property
    def operations(self) -> list[str]:
        return [r.operation for r in self.requests]
