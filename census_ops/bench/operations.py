"""Capacity per operation (issue items 1-2): each API operation once, through its Lambda
handler, on DynamoDB Local with ReturnConsumedCapacity=INDEXES added to every request
(botocore hooks; the handler code is untouched). Beside DynamoDB Local's figure: the same
requests billed by the published rules from the items' sizes, the minimum those sizes
allow, and where the difference goes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from census_ops.bench.harness import Harness, lambda_context
from census_ops.bench.recorder import RequestLog, template_indexes
from census_ops.bench.units import Bill, minimum_units, read_units
from census_ops.events import route_event

SUBMIT = "/v1/households/{kk}/responses"
RECEIPT = "/v1/receipts/{receipt_code}"
WORKLIST = "/v1/officers/me/worklist"
GENERATE = "/v1/areas/{area_code}/worklists"
VISITS = "/v1/households/{kk}/visits"


@dataclass
class Essentials:
    """Which items an operation cannot do without (labels from units.item_label)."""

    writes: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    consistent: bool = True  # False where the only way to read them is an index (eventual)


@dataclass
class OperationResult:
    label: str
    status: int
    requests: list[str]
    read_units: float  # DynamoDB Local's figure (table + indexes)
    write_units: float
    index_units: dict[str, float]
    rule_read_units: float  # the same requests by the published rules
    rule_write_units: float
    min_read_units: float
    min_write_units: float
    breakdown: list[dict[str, Any]] = field(default_factory=list)
    difference: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def explain(bill: Bill, essentials: Essentials, min_read: float, min_write: float) -> str:
    """Where the units above the minimum go, largest first, e.g. 'transaction x2 +3, HH#/META +2'."""
    parts: dict[str, float] = {}
    for charge in bill.charges:
        if charge.write_units:
            target = charge.target
            if target in essentials.writes and charge.request == "TransactWriteItems":
                parts["transaction x2"] = parts.get("transaction x2", 0) + charge.write_units / 2
            elif target not in essentials.writes:
                parts[f"W {target}"] = parts.get(f"W {target}", 0) + charge.write_units
    reads_above = bill.read_units - min_read
    if reads_above > 0:
        other = [c for c in bill.charges if c.read_units and not any(e in c.target for e in essentials.reads)]
        for charge in other:
            parts[f"R {charge.request} {charge.target}"] = (
                parts.get(f"R {charge.request} {charge.target}", 0) + charge.read_units
            )
        rest = reads_above - sum(c.read_units for c in other)
        if rest > 0:
            parts["R rounding per item/request"] = rest
    ordered = sorted(parts.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{name} +{units:g}" for name, units in ordered if units) or "-"


def measure(
    harness: Harness,
    label: str,
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    event: dict[str, Any],
    essentials: Essentials,
) -> tuple[OperationResult, dict[str, Any]]:
    from census_ops.bench.harness import TABLE

    raw = harness.raw_client()
    with RequestLog(raw=raw, table=TABLE, indexes=template_indexes()) as log:
        answer = handler(event, lambda_context())
    body = json.loads(answer["body"]) if answer.get("body") and not answer.get("isBase64Encoded") else {}
    bill = log.bill()
    reads = [size for name, size in log.read_items() if any(e in name for e in essentials.reads)]
    writes = [size for name, size in log.written_items() if name in essentials.writes]
    min_read, min_write = minimum_units(writes, reads)
    if reads and not essentials.consistent:
        min_read = read_units(sum(reads), consistent=False)
    indexes: dict[str, float] = {}
    for request in log.requests:
        for name, units in request.index_units.items():
            indexes[name] = indexes.get(name, 0.0) + units
    result = OperationResult(
        label=label,
        status=int(answer["statusCode"]),
        requests=log.operations,
        read_units=log.read_units,
        write_units=log.write_units,
        index_units=indexes,
        rule_read_units=bill.read_units,
        rule_write_units=bill.write_units,
        min_read_units=min_read,
        min_write_units=min_write,
        breakdown=[c.__dict__ for c in bill.charges],
        difference=explain(bill, essentials, min_read, min_write),
    )
    cancelled = log.cancelled_write_units()
    if cancelled:
        result.difference += (
            f"; a cancelled transaction (DynamoDB Local charges 0 for it; AWS does not say):"
            f" {cancelled:g} W if one phase is charged"
        )
    return result, body


def measure_operations(harness: Harness) -> list[OperationResult]:
    """Every operation the issue names, in the order a household and an officer meet them."""
    from census_ops.examples import example_submission
    from functions.fieldwork.app import lambda_handler as fieldwork
    from functions.intake.app import lambda_handler as intake
    from functions.status.app import lambda_handler as status
    from functions.worklists.app import lambda_handler as worklists

    submission = Essentials(writes=("HH#/V#",), reads=("HH#/META", "HH#/REGISTER"))
    results: list[OperationResult] = []
    receipt = ""
    for size in (1, 5, 15):
        household = harness.household_of_size(size)
        body = example_submission(household)
        event = route_event("POST", SUBMIT, {"kk": household.kk}, body, headers={"Idempotency-Key": f"bench-{size}"})
        result, answer = measure(
            harness, f"submission, {size} member{'s' if size > 1 else ''}", intake, event, submission
        )
        results.append(result)
        if size == 5:
            receipt = answer["receipt_code"]
            retry, _ = measure(
                harness,
                "duplicate retry (same key), 5 members",
                intake,
                event,
                # The household read that proves it; the key is found in META, the answer in V#.
                Essentials(reads=("HH#/META", "HH#/REGISTER")),
            )
            results.append(retry)
            body["members"][0]["education"] = "master"
            correction_event = route_event("POST", SUBMIT, {"kk": household.kk}, body)
            correction, _ = measure(harness, "correction, 5 members", intake, correction_event, submission)
            results.append(correction)
    lookup, _ = measure(
        harness,
        "status lookup by receipt",
        status,
        route_event("GET", RECEIPT, {"receipt_code": receipt}),
        Essentials(reads=("RECEIPT#/RECEIPT",)),
    )
    results.append(lookup)

    city = harness.households[0].sls_code[:4]
    supervisor = {"cognito:username": f"SPV-{city}", "cognito:groups": "supervisor"}
    officer = {"cognito:username": "OFC-0001", "cognito:groups": "officer"}
    generation, summary = measure(
        harness,
        f"worklist generation, city of {len(harness.households)} households",
        worklists,
        route_event("POST", GENERATE, {"area_code": city}, claims=supervisor),
        Essentials(writes=("ASSIGN#",), reads=("index needs_visit",), consistent=False),
    )
    results.append(generation)
    page, listing = measure(
        harness,
        "worklist page of 50",
        fieldwork,
        route_event("GET", WORKLIST, claims=officer, query={"limit": "50"}),
        Essentials(reads=("index by_officer", "index needs_visit"), consistent=False),
    )
    results.append(page)
    kk = listing["households"][0]["kk"]
    visit, _ = measure(
        harness,
        "visit (not home)",
        fieldwork,
        route_event("POST", VISITS, {"kk": kk}, {"outcome": "not_home"}, claims=officer),
        Essentials(writes=("HH#/VISIT#",), reads=("HH#/META",)),
    )
    results.append(visit)
    if not summary.get("households") or len(listing["households"]) != 50:
        raise RuntimeError("the worklist benchmark found no backlog or a short page")
    return results


@dataclass
class Probe:
    """A single request whose charge the published rules fix exactly: checks DynamoDB Local."""

    label: str
    local_units: float
    rule_units: float


def accounting_probes(client: Any, table: str) -> list[Probe]:
    """Single requests of known size on a scratch partition: where DynamoDB Local agrees
    with the published rules and where it does not (multi-item transactions)."""

    def item(pk: str, sk: str, size: int) -> dict[str, Any]:
        # pk + sk + "pad" names and values add up to `size` bytes exactly.
        base = len("pk") + len(pk) + len("sk") + len(sk) + len("pad")
        return {"pk": {"S": pk}, "sk": {"S": sk}, "pad": {"S": "x" * (size - base)}}

    def units(answer: dict[str, Any]) -> float:
        consumed = answer.get("ConsumedCapacity") or {}
        entries = consumed if isinstance(consumed, list) else [consumed]
        return float(sum(e.get("CapacityUnits", 0.0) for e in entries))

    rcc = {"ReturnConsumedCapacity": "INDEXES"}
    probes = [
        Probe(
            "PutItem, 3 KB item",
            units(client.put_item(TableName=table, Item=item("BENCH#1", "A", 3072), **rcc)),
            3.0,
        ),
        Probe(
            "GetItem, eventually consistent, 3 KB",
            units(client.get_item(TableName=table, Key={"pk": {"S": "BENCH#1"}, "sk": {"S": "A"}}, **rcc)),
            0.5,
        ),
        Probe(
            "TransactWriteItems, one 1.5 KB item",
            units(
                client.transact_write_items(
                    TransactItems=[{"Put": {"TableName": table, "Item": item("BENCH#2", "A", 1536)}}], **rcc
                )
            ),
            4.0,
        ),
        Probe(
            "TransactWriteItems, five 100 B items",
            units(
                client.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": table, "Item": item(f"BENCH#3{i}", "A", 100)}} for i in range(5)
                    ],
                    **rcc,
                )
            ),
            10.0,
        ),
        Probe(
            "TransactWriteItems, 1.5 KB + four 100 B items",
            units(
                client.transact_write_items(
                    TransactItems=[{"Put": {"TableName": table, "Item": item("BENCH#40", "A", 1536)}}]
                    + [{"Put": {"TableName": table, "Item": item(f"BENCH#4{i}", "A", 100)}} for i in range(1, 5)],
                    **rcc,
                )
            ),
            12.0,
        ),
    ]
    for pk in ["BENCH#1", "BENCH#2", *(f"BENCH#3{i}" for i in range(5)), *(f"BENCH#4{i}" for i in range(5))]:
        client.delete_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": "A"}})
    return probes
