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
from census_ops.stream_poller import StreamPoller

SUBMIT = "/v1/households/{kk}/responses"
RECEIPT = "/v1/receipts/{receipt_code}"
WORKLIST = "/v1/officers/me/worklist"
GENERATE = "/v1/areas/{area_code}/worklists"
VISITS = "/v1/households/{kk}/visits"
SESSIONS, DRAFT = "/v1/sessions", "/v1/session/household/draft"


# The items an operation cannot do without, by the labels units.item_label gives them.
HOUSEHOLD_READ = ("HH#/META", "HH#/REGISTER")  # what proves and reads the household
HOUSEHOLD_STATE = ("HH#/META",)
HOUSEHOLD_SIDE_ITEM = ("HH#/META#",)  # its credential or its draft (META#CREDENTIAL, META#DRAFT)
VERSION = ("HH#/V#",)
RECEIPT_ITEM = ("RECEIPT#/RECEIPT",)


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
    # The table's stream consumer (functions/progress_stream), run right after the operation:
    # the records it was handed, its requests, and their units (rules; DynamoDB Local's).
    stream_records: int = 0
    stream_requests: list[str] = field(default_factory=list)
    stream_rule_read_units: float = 0.0
    stream_rule_write_units: float = 0.0
    stream_write_units: float = 0.0

    @property
    def total_read_units(self) -> float:
        """The operation's own requests and its consumer's, by the rules."""
        return self.rule_read_units + self.stream_rule_read_units

    @property
    def total_write_units(self) -> float:
        return self.rule_write_units + self.stream_rule_write_units

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "total_read_units": self.total_read_units, "total_write_units": self.total_write_units}


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
    poller: StreamPoller | None = None,
) -> tuple[OperationResult, dict[str, Any]]:
    from census_ops.bench.harness import TABLE

    raw = harness.raw_client()
    with RequestLog(raw=raw, table=TABLE, indexes=template_indexes()) as log:
        answer = handler(event, lambda_context())
    consumer = _consume(harness, poller)
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
    if consumer is not None:
        records, stream_log = consumer
        result.stream_records = records
        result.stream_requests = stream_log.operations
        stream_bill = stream_log.bill()
        result.stream_rule_read_units = stream_bill.read_units
        result.stream_rule_write_units = stream_bill.write_units
        result.stream_write_units = stream_log.write_units
        if stream_bill.write_units:
            result.difference += f"; stream consumer: {' '.join(stream_log.operations)} +{stream_bill.write_units:g} W"
    cancelled = log.cancelled_write_units()
    if cancelled:
        result.difference += (
            f"; a cancelled transaction (DynamoDB Local charges 0 for it; AWS does not say):"
            f" {cancelled:g} W if one phase is charged"
        )
    return result, body


def stream_poller(harness: Harness) -> StreamPoller:
    """The stream consumer AWS runs (functions/progress_stream), fed from DynamoDB Local's
    stream as Lambda's poller would; drained once (the import's records: none passes)."""
    from census_ops.bench.harness import TABLE
    from functions.progress_stream.app import lambda_handler

    poller = StreamPoller(harness.raw_client(), harness.engine.client(service="dynamodbstreams"), TABLE, lambda_handler)
    poller.drain()
    return poller


def _consume(harness: Harness, poller: StreamPoller | None) -> tuple[int, RequestLog] | None:
    """Run the consumer over what the operation wrote, its requests recorded apart."""
    from census_ops.bench.harness import TABLE

    if poller is None:
        return None
    with RequestLog(raw=harness.raw_client(), table=TABLE, indexes=template_indexes()) as log:
        records = poller.drain()
    return records, log


def measure_batch(harness: Harness, poller: StreamPoller, count: int = 20) -> OperationResult:
    """The consumer's writes amortised: `count` first submissions in one SLS, then one batch
    (at the peak a shard's batch holds several changes of one SLS: one UpdateItem for all)."""
    from census_ops.examples import example_submission
    from functions.intake.app import lambda_handler as intake

    by_sls: dict[str, list[Any]] = {}
    for household in harness.households:
        by_sls.setdefault(household.sls_code, []).append(household)
    group = max(by_sls.values(), key=len)
    pending = [h for h in group if h.kk not in USED_HOUSEHOLDS][:count]
    for household in pending:
        event = route_event("POST", SUBMIT, {"kk": household.kk}, example_submission(household))
        if intake(event, lambda_context())["statusCode"] != 201:
            raise RuntimeError("the batch benchmark's submission failed")
        USED_HOUSEHOLDS.add(household.kk)
    consumed = _consume(harness, poller)
    assert consumed is not None
    records, log = consumed
    bill = log.bill()
    n = max(records, 1)
    return OperationResult(
        label=f"stream consumer, per record of a batch of {records} changes in one SLS",
        status=200,
        requests=[],
        read_units=0.0,
        write_units=0.0,
        index_units={},
        rule_read_units=0.0,
        rule_write_units=0.0,
        min_read_units=0.0,
        min_write_units=0.0,
        difference=f"{' '.join(log.operations)}: {bill.write_units:g} W for {records} records",
        stream_records=records,
        stream_requests=log.operations,
        stream_rule_read_units=round(bill.read_units / n, 3),
        stream_rule_write_units=round(bill.write_units / n, 3),
        stream_write_units=round(log.write_units / n, 3),
    )


# Households a measurement has submitted or given a password: every later measurement that
# needs a fresh household picks one outside this set.
USED_HOUSEHOLDS: set[str] = set()


def measure_lag(harness: Harness, poller: StreamPoller, *, runs: int = 5, every_seconds: float = 0.2) -> dict[str, Any]:
    """Seconds from a submission's answer to its SLS counter having moved, with the consumer
    polling DynamoDB Local's stream every `every_seconds` (`census serve`'s interval) in a
    thread of its own, as Lambda's poller runs beside the API."""
    import statistics
    import threading
    import time

    from census_ops.examples import example_submission
    from census_ops.stream_poller import poll_forever
    from functions.intake.app import lambda_handler as intake
    from shared import store

    def pending(sls: str) -> int:
        return next(r.counts["pending"] for r in store.progress_counts(sls) if r.sls_code == sls)

    chosen = [h for h in harness.households if h.kk not in USED_HOUSEHOLDS][-runs:]
    stop = threading.Event()
    thread = threading.Thread(target=poll_forever, args=(poller, stop), kwargs={"every_seconds": every_seconds})
    thread.start()
    lags = []
    try:
        for household in chosen:
            before = pending(household.sls_code)
            event = route_event("POST", SUBMIT, {"kk": household.kk}, example_submission(household))
            if intake(event, lambda_context())["statusCode"] != 201:
                raise RuntimeError("the lag benchmark's submission failed")
            answered = time.monotonic()
            USED_HOUSEHOLDS.add(household.kk)
            while pending(household.sls_code) == before:
                if time.monotonic() - answered > 60:
                    raise RuntimeError("the counter did not move within 60 s")
                time.sleep(0.005)
            lags.append(time.monotonic() - answered)
    finally:
        stop.set()
        thread.join(30)
    return {
        "runs": len(lags),
        "poll_every_seconds": every_seconds,
        "median_seconds": round(statistics.median(lags), 3),
        "worst_seconds": round(max(lags), 3),
        "seconds": [round(x, 3) for x in lags],
    }


def measure_operations(harness: Harness, poller: StreamPoller | None = None) -> list[OperationResult]:
    """Every operation the issue names, in the order a household and an officer meet them."""
    from census_ops.examples import example_submission
    from functions.fieldwork.app import lambda_handler as fieldwork
    from functions.intake.app import lambda_handler as intake
    from functions.sessions.app import lambda_handler as sessions
    from functions.status.app import lambda_handler as status
    from functions.worklists.app import lambda_handler as worklists

    submission = Essentials(writes=VERSION, reads=HOUSEHOLD_READ)
    results: list[OperationResult] = []
    poller = poller or stream_poller(harness)
    receipt = ""
    for size in (1, 5, 15):
        household = harness.household_of_size(size)
        body = example_submission(household)
        event = route_event("POST", SUBMIT, {"kk": household.kk}, body, headers={"Idempotency-Key": f"bench-{size}"})
        result, answer = measure(
            harness, f"submission, {size} member{'s' if size > 1 else ''}", intake, event, submission, poller
        )
        USED_HOUSEHOLDS.add(household.kk)
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
                poller,
            )
            results.append(retry)
            body["members"][0]["education"] = "master"
            correction_event = route_event("POST", SUBMIT, {"kk": household.kk}, body)
            correction, _ = measure(harness, "correction, 5 members", intake, correction_event, submission, poller)
            results.append(correction)
    lookup, _ = measure(
        harness,
        "status lookup by receipt",
        status,
        route_event("GET", RECEIPT, {"receipt_code": receipt}),
        Essentials(reads=("RECEIPT#/RECEIPT",)),
        poller,
    )
    results.append(lookup)

    # A resident's draft of 5 members (their session's sign-in is not measured).
    drafting = harness.household_of_size(5, skip=1)
    USED_HOUSEHOLDS.add(drafting.kk)  # it gets a password: no later submission without one
    sign_in = {"kk": drafting.kk, "nik": drafting.members[-1].nik, "new_password": "kopi-tubruk-di-teras"}
    signed = sessions(route_event("POST", SESSIONS, body=sign_in), lambda_context())
    if signed["statusCode"] != 201:
        raise RuntimeError(f"the draft benchmark could not sign in: {signed['statusCode']}")
    bearer = {"Authorization": f"Bearer {json.loads(signed['body'])['token']}"}
    draft_body = {"members": example_submission(drafting)["members"]}
    draft, _ = measure(
        harness,
        "draft save, 5 members",
        sessions,
        route_event("PUT", DRAFT, body=draft_body, headers=bearer),
        Essentials(writes=("HH#/META#",), reads=("HH#/META", "HH#/REGISTER")),
    )
    results.append(draft)

    city = harness.households[0].sls_code[:4]
    supervisor = {"cognito:username": f"SPV-{city}", "cognito:groups": "supervisor"}
    officer = {"cognito:username": "OFC-0001", "cognito:groups": "officer"}
    generation, summary = measure(
        harness,
        f"worklist generation, city of {len(harness.households)} households",
        worklists,
        route_event("POST", GENERATE, {"area_code": city}, claims=supervisor),
        Essentials(writes=("ASSIGN#",), reads=("index needs_visit",), consistent=False),
        poller,
    )
    results.append(generation)
    page, listing = measure(
        harness,
        "worklist page of 50",
        fieldwork,
        route_event("GET", WORKLIST, claims=officer, query={"limit": "50"}),
        Essentials(reads=("index by_officer", "index needs_visit"), consistent=False),
        poller,
    )
    results.append(page)
    kk = listing["households"][0]["kk"]
    visit, _ = measure(
        harness,
        "visit (not home)",
        fieldwork,
        route_event("POST", VISITS, {"kk": kk}, {"outcome": "not_home"}, claims=officer),
        # The visit lives on META (docs/decisions/0018): META is the one item it must write.
        Essentials(writes=("HH#/META",), reads=("HH#/META",)),
        poller,
    )
    results.append(visit)
    results.append(measure_batch(harness, poller))
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
