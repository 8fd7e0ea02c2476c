"""Measure what DynamoDB charges, without touching the code being measured: botocore
event hooks ask every DynamoDB request for `ReturnConsumedCapacity=INDEXES` and record
the answer. Meaningful on DynamoDB Local (AWS's own accounting); moto's is not faithful."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.handlers import BUILTIN_HANDLERS

from shared import store
from shared.settings import settings

if TYPE_CHECKING:  # the recorder extends CapacityMeter: imported where used
    from census_ops.bench.recorder import RequestLog

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
        store.bind(settings())  # new clients, which pick up the hooks
        return self

    def __exit__(self, *_: object) -> None:
        for event, method in self._HOOKS:
            BUILTIN_HANDLERS.remove((event, getattr(self, method)))
        store.bind(settings())

    @property
    def read_units(self) -> float:
        return sum(r.read_units for r in self.requests)

    @property
    def write_units(self) -> float:
        return sum(r.write_units for r in self.requests)

    @property
    def operations(self) -> list[str]:
        return [r.operation for r in self.requests]


# ---------------------------------------------------------------- `census capacity`


def measure_operations(households: int = 400) -> list[tuple[str, Request | None, RequestLog]]:
    """Each API operation once, through its Lambda handler, on a fresh in-memory DynamoDB
    Local holding a demo register: what DynamoDB charges for it."""
    import json
    import os
    import tempfile
    from pathlib import Path

    from census_ops.dynamodb_local import DynamoDBLocal
    from census_ops.examples import example_submission
    from census_ops.importer import import_register, import_roster
    from census_ops.register import read_register, write_demo_register
    from census_ops.roster import write_demo_roster
    from census_ops.runtime import configure_environment
    from census_ops.template import create_table

    folder = Path(tempfile.mkdtemp(prefix="census-capacity-"))
    register, roster = folder / "register.csv", folder / "roster.csv"
    write_demo_register(register, households, seed=5)
    with register.open(newline="", encoding="utf-8") as stream:
        found = [h for h in read_register(stream) if not isinstance(h, list)]
    write_demo_roster(roster, sorted({h.sls_code for h in found}), officers=2)
    results: list[tuple[str, Request | None, RequestLog]] = []
    with DynamoDBLocal(in_memory=True) as engine:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
        configure_environment("census-capacity", engine.endpoint_url)
        create_table(engine.client(), "census-capacity")
        import_register(register, fresh_table=True)
        import_roster(roster)
        from census_ops.events import lambda_context, route_event
        from functions.fieldwork.app import lambda_handler as fieldwork
        from functions.intake.app import lambda_handler as intake
        from functions.status.app import lambda_handler as status
        from functions.worklists.app import lambda_handler as worklists

        context = lambda_context("capacity", "capacity")

        from census_ops.bench.recorder import RequestLog, template_indexes

        raw, indexes = engine.client(), template_indexes()
        # The table's stream consumer (functions/progress_stream), as Lambda's poller runs it.
        from census_ops.stream_poller import StreamPoller
        from functions.progress_stream.app import lambda_handler as progress_stream

        streams = engine.client(service="dynamodbstreams")
        poller = StreamPoller(raw, streams, "census-capacity", progress_stream)
        poller.drain()  # the import's records (none passes the filter)

        def measure(label: str, handler: Any, request: dict[str, Any]) -> dict[str, Any]:
            # DynamoDB Local's own figures, and the requests' items for the published rules;
            # then the stream consumer's work the operation causes, on a line of its own.
            with RequestLog(raw=raw, table="census-capacity", indexes=indexes) as meter:
                answer = handler(request, context)
            results.append((label, None, meter))
            with RequestLog(raw=raw, table="census-capacity", indexes=indexes) as consumer:
                records = poller.drain()
            if records:
                results.append((f"  + stream consumer ({records} record{'s' if records > 1 else ''})", None, consumer))
            return dict(json.loads(answer["body"])) if answer.get("body") else {}

        submit = "/v1/households/{kk}/responses"
        receipt = ""
        for size in (1, 5, 15):
            household = next((h for h in found if len(h.members) == size), None)
            if household is None:
                continue
            body = example_submission(household)
            answer = measure(
                f"submission, {size} member(s)",
                intake,
                route_event("POST", submit, {"kk": household.kk}, body, headers={"Idempotency-Key": f"k{size}"}),
            )
            receipt = answer.get("receipt_code", receipt)
            if size == 5:
                measure(
                    "duplicate retry (same key), 5 members",
                    intake,
                    route_event("POST", submit, {"kk": household.kk}, body, headers={"Idempotency-Key": "k5"}),
                )
                body["members"][0]["education"] = "master"
                measure("correction, 5 members", intake, route_event("POST", submit, {"kk": household.kk}, body))
        lookup = "/v1/receipts/{receipt_code}"
        measure(
            "status lookup by receipt",
            status,
            route_event("GET", lookup, {"receipt_code": receipt}),
        )
        city = found[0].sls_code[:4]
        supervisor = {"cognito:username": f"SPV-{city}", "cognito:groups": "supervisor"}
        officer = {"cognito:username": "OFC-0001", "cognito:groups": "officer"}
        generate = "/v1/areas/{area_code}/worklists"
        summary = measure(
            f"worklist generation ({households} households, 2 officers)",
            worklists,
            route_event("POST", generate, {"area_code": city}, claims=supervisor),
        )
        page = measure(
            "worklist page of 50",
            fieldwork,
            route_event("GET", "/v1/officers/me/worklist", claims=officer, query={"limit": "50"}),
        )
        kk = page["households"][0]["kk"] if page.get("households") else found[-1].kk
        visits = "/v1/households/{kk}/visits"
        measure(
            "visit (not home)",
            fieldwork,
            route_event("POST", visits, {"kk": kk}, {"outcome": "not_home"}, claims=officer),
        )
        assert summary.get("households"), "the worklist generation found the backlog"
    return results


def print_capacity(results: list[tuple[str, Request | None, RequestLog]]) -> None:
    """DynamoDB Local's figures and, beside them, the published rules' on the same requests'
    items (DynamoDB Local undercounts every transaction of more than one item)."""
    print(f"{'operation':48} {'requests':>8} {'DynamoDB Local':>15} {'by the rules':>13}  index units (DynamoDB Local)")
    for label, _, meter in results:
        indexes: dict[str, float] = {}
        for request in meter.requests:
            for name, units in request.index_units.items():
                indexes[name] = indexes.get(name, 0.0) + units
        index_text = ", ".join(f"{k} {v:g}" for k, v in sorted(indexes.items())) or "-"
        local = f"R{meter.read_units:g} W{meter.write_units:g}"
        bill = meter.bill()
        rules = f"R{bill.read_units:g} W{bill.write_units:g}"
        print(f"{label:48} {len(meter.requests):>8} {local:>15} {rules:>13}  {index_text}")
        print(f"{'':48} {' '.join(meter.operations)}")
