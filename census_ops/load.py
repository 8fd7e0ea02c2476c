"""`census load`: a bounded load run against a local service, then a check of the table.

It sends a fixed number of submissions (first responses and corrections) from concurrent
clients to a service on this machine - never anywhere else: the URL and the DynamoDB
endpoint must be loopback - with a share of retries (the same key and body sent again
later), duplicates (the same key and body sent by two clients at the same instant) and
reused keys (a key sent again with another body: 422). It stops at the count or the time
limit, whichever comes first, and reports throughput, latency percentiles and answers by
code. Then it reads every household it touched from the table and checks what the API
promised: each 2xx answer's version stored exactly once under its key, every answer for
one key the same, every household's versions consecutive (1..n, META at n), no stored
version without an answer (unless a connection failed after the write).

    census serve --port 3000 &                 # prints the DynamoDB Local endpoint
    census load --url http://127.0.0.1:3000 --endpoint-url http://127.0.0.1:PORT \\
                --count 5000 --concurrency 32 --time-limit 300
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import ipaddress
import json
import queue
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from census_ops.examples import example_submission
from census_ops.register import RegisterHousehold, read_register
from census_ops.template import REPO_ROOT
from shared.store import schema

EDUCATION = ("none", "primary", "junior_secondary", "senior_secondary", "diploma", "bachelor", "master", "doctorate")
TRANSPORT_ERROR = "transport_error"


class NotLoopback(ValueError):
    """A load run only ever targets this machine."""


def require_loopback(url: str) -> tuple[str, int]:
    """(host, port) of an http URL on the loopback interface; anything else is refused."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise NotLoopback(f"{url!r}: give an http:// URL of a service on this machine")
    host = parts.hostname
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                raise NotLoopback(f"{url!r} is not a loopback address (127.0.0.0/8, ::1 or localhost)")
        except ValueError as error:
            if isinstance(error, NotLoopback):
                raise
            raise NotLoopback(f"{url!r}: give a loopback IP address or localhost, not a host name") from None
    return host, parts.port or 80


@dataclass(frozen=True)
class Planned:
    index: int
    kk: str
    body: dict[str, Any]
    key: str | None
    kind: str  # new, retry, duplicate, reused_key, unkeyed


@dataclass(frozen=True)
class Outcome:
    planned: Planned
    status: int  # 0: no HTTP answer
    code: str  # "201", "200", or the error code
    answer: dict[str, Any] | None
    seconds: float
    replayed: bool


def plan_requests(
    households: Sequence[RegisterHousehold],
    count: int,
    *,
    seed: int = 1,
    retry_share: float = 0.10,
    duplicate_share: float = 0.05,
    reused_key_share: float = 0.02,
    unkeyed_share: float = 0.10,
) -> list[Planned]:
    """`count` requests: mostly new keyed submissions (first versions and corrections, a
    different body each), plus retries, simultaneous duplicates and reused keys."""
    if not households:
        raise ValueError("the register has no households")
    rng = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
    plan: list[Planned] = []
    keyed: list[Planned] = []

    def body_for(household: RegisterHousehold) -> dict[str, Any]:
        body = example_submission(household)
        body["members"][0]["education"] = rng.choice(EDUCATION)
        body["members"][-1]["religion"] = rng.choice(("islam", "protestant", "catholic", "hindu", "buddhist"))
        return body

    while len(plan) < count:
        i = len(plan)
        roll = rng.random()
        if keyed and roll < retry_share:
            earlier = rng.choice(keyed)
            plan.append(Planned(i, earlier.kk, earlier.body, earlier.key, "retry"))
        elif keyed and roll < retry_share + reused_key_share:
            earlier = rng.choice(keyed)
            other = next(h for h in households if h.kk == earlier.kk)
            changed = body_for(other)
            if changed == earlier.body:
                first = earlier.body["members"][0]["education"]
                changed["members"][0]["education"] = "doctorate" if first != "doctorate" else "none"
            plan.append(Planned(i, earlier.kk, changed, earlier.key, "reused_key"))
        elif roll < retry_share + reused_key_share + duplicate_share and count - i >= 2:
            household = rng.choice(households)
            first = Planned(i, household.kk, body_for(household), f"load-{seed}-{i}", "new")
            plan += [first, Planned(i + 1, first.kk, first.body, first.key, "duplicate")]
            keyed.append(first)
        else:
            household = rng.choice(households)
            unkeyed = rng.random() < unkeyed_share
            planned = Planned(i, household.kk, body_for(household), None if unkeyed else f"load-{seed}-{i}", "new")
            plan.append(planned if not unkeyed else Planned(i, planned.kk, planned.body, None, "unkeyed"))
            if not unkeyed:
                keyed.append(planned)
    return plan[:count]


def _send(connection: http.client.HTTPConnection, planned: Planned) -> tuple[int, dict[str, Any] | None, bool]:
    headers = {"Content-Type": "application/json"}
    if planned.key is not None:
        headers["Idempotency-Key"] = planned.key
    connection.request(
        "POST", f"/v1/households/{planned.kk}/responses", body=json.dumps(planned.body).encode(), headers=headers
    )
    response = connection.getresponse()
    raw = response.read()
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = None
    return (
        response.status,
        answer if isinstance(answer, dict) else None,
        response.getheader("Idempotent-Replayed") == "true",
    )


def run_load(
    url: str,
    plan: Sequence[Planned],
    *,
    concurrency: int,
    time_limit: float,
    progress: Callable[[int], object] | None = None,
    timeout: float = 30.0,
) -> tuple[list[Outcome], float]:
    """Send the plan from `concurrency` clients (keep-alive connections); duplicates are
    released to two clients together. Returns the outcomes and the elapsed seconds."""
    host, port = require_loopback(url)
    work: queue.Queue[list[Planned]] = queue.Queue()
    i = 0
    while i < len(plan):
        if i + 1 < len(plan) and plan[i + 1].kind == "duplicate":
            work.put([plan[i], plan[i + 1]])
            i += 2
        else:
            work.put([plan[i]])
            i += 1
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + time_limit
    # Pairs are sent by two clients at once: each client takes one request of a pair
    # through this hand-off, so a duplicate really races its original.
    handoff: queue.Queue[tuple[Planned, threading.Barrier]] = queue.Queue()

    def one(connection: http.client.HTTPConnection, planned: Planned) -> http.client.HTTPConnection:
        began = time.perf_counter()
        try:
            status, answer, replayed = _send(connection, planned)
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
            status, answer, replayed = 0, None, False
        seconds = time.perf_counter() - began
        if status == 0:
            code = TRANSPORT_ERROR
        elif 200 <= status < 300:
            code = str(status)
        else:
            code = str(((answer or {}).get("error") or {}).get("code") or status)
        with lock:
            outcomes.append(Outcome(planned, status, code, answer, seconds, replayed))
        if progress:
            progress(1)
        return connection

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            while time.perf_counter() < deadline:
                try:
                    planned, barrier = handoff.get_nowait()
                    barrier.wait(timeout)
                    connection = one(connection, planned)
                    continue
                except queue.Empty:
                    pass
                try:
                    batch = work.get_nowait()
                except queue.Empty:
                    if handoff.empty():
                        return
                    continue
                if len(batch) == 2 and concurrency > 1:
                    barrier = threading.Barrier(2)
                    handoff.put((batch[1], barrier))
                    with contextlib.suppress(threading.BrokenBarrierError):
                        barrier.wait(timeout)
                    connection = one(connection, batch[0])
                else:
                    for planned in batch:
                        connection = one(connection, planned)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, name=f"load-{n}", daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + timeout + 5)
    return outcomes, time.perf_counter() - started


# ---------------------------------------------------------------- checking the table


@dataclass
class Check:
    households: int = 0
    versions: int = 0
    violations: list[str] = field(default_factory=list)
    unanswered_versions: int = 0


def household_partition(client: Any, table: str, kk: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": schema.household_pk(kk)}},
        "ConsistentRead": True,
    }
    while True:
        page = client.query(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _version_count(items: list[dict[str, Any]]) -> int:
    return sum(1 for i in items if i["sk"]["S"].startswith(schema.VERSION_PREFIX))


def stored_versions(kks: Iterable[str], read_partition: Callable[[str], list[dict[str, Any]]]) -> dict[str, int]:
    """Each household's version count now: the baseline a run's new versions start after."""
    wanted = sorted(set(kks))
    with ThreadPoolExecutor(16) as pool:
        parts = pool.map(read_partition, wanted)
        return {kk: _version_count(items) for kk, items in zip(wanted, parts, strict=True)}


def verify(
    outcomes: Iterable[Outcome],
    read_partition: Callable[[str], list[dict[str, Any]]],
    baseline: dict[str, int] | None = None,
) -> Check:
    """Check the promises of idempotency and versioning against the stored items;
    `baseline`: versions each household had before the run (not the run's to answer for)."""
    outcomes = list(outcomes)
    by_household: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_household[outcome.planned.kk].append(outcome)
    check = Check()
    transport_errors = sum(1 for o in outcomes if o.status == 0)
    with ThreadPoolExecutor(16) as pool:
        partitions = dict(zip(by_household, pool.map(read_partition, by_household), strict=True))
    for kk, answers in sorted(by_household.items()):
        check.households += 1
        items = partitions[kk]
        versions = {int(i["version"]["N"]): i for i in items if i["sk"]["S"].startswith(schema.VERSION_PREFIX)}
        meta = next((i for i in items if i["sk"]["S"] == "META"), None)
        check.versions += len(versions)
        if sorted(versions) != list(range(1, len(versions) + 1)):
            check.violations.append(f"{kk}: versions {sorted(versions)} are not 1..n")
        if meta is not None and int(meta["version"]["N"]) != len(versions):
            check.violations.append(f"{kk}: META says version {meta['version']['N']}, {len(versions)} stored")
        keys = Counter(v["idempotency_key"]["S"] for v in versions.values() if "idempotency_key" in v)
        for key, times in keys.items():
            if times > 1:
                check.violations.append(f"{kk}: key {key} stored in {times} versions")
        answered: dict[int, int] = Counter()
        by_key: dict[str, set[tuple[str, int]]] = defaultdict(set)
        for outcome in answers:
            if not 200 <= outcome.status < 300 or outcome.answer is None:
                continue
            version, code = int(outcome.answer["version"]), str(outcome.answer["receipt_code"])
            stored = versions.get(version)
            if stored is None:
                check.violations.append(f"{kk}: answered version {version} is not stored")
                continue
            if meta is not None and meta.get("receipt_code", {}).get("S") != code:
                check.violations.append(f"{kk}: receipt {code} answered, {meta.get('receipt_code')} stored")
            if outcome.planned.key is not None:
                by_key[outcome.planned.key].add((code, version))
                if stored.get("idempotency_key", {}).get("S") != outcome.planned.key:
                    check.violations.append(f"{kk}: version {version} answered for key {outcome.planned.key}")
            if not outcome.replayed:
                answered[version] += 1
        for key, seen in by_key.items():
            if len(seen) > 1:
                check.violations.append(f"{kk}: key {key} answered differently: {sorted(seen)}")
        for version, times in answered.items():
            if times > 1:
                check.violations.append(f"{kk}: version {version} answered as new {times} times")
        answered_any = {int(o.answer["version"]) for o in answers if 200 <= o.status < 300 and o.answer}
        before = (baseline or {}).get(kk, 0)
        check.unanswered_versions += sum(1 for v in versions if v > before and v not in answered_any)
    if check.unanswered_versions > transport_errors:
        check.violations.append(
            f"{check.unanswered_versions} stored versions have no answer, more than the "
            f"{transport_errors} requests whose connection failed"
        )
    return check


# ---------------------------------------------------------------- report


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def report(outcomes: Sequence[Outcome], seconds: float, check: Check | None) -> str:
    latencies = [o.seconds for o in outcomes]
    codes = Counter(f"{o.status} {o.code}" if o.status and o.status >= 300 else o.code for o in outcomes)
    kinds = Counter(o.planned.kind for o in outcomes)
    lines = [
        f"sent {len(outcomes)} requests in {seconds:.1f} s: {len(outcomes) / seconds if seconds else 0:.1f} requests/s",
        f"latency p50 {percentile(latencies, 0.50) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
        f"max {max(latencies, default=0) * 1000:.1f} ms",
        "answers: " + ", ".join(f"{code}: {n}" for code, n in sorted(codes.items())),
        "requests: " + ", ".join(f"{kind}: {n}" for kind, n in sorted(kinds.items())),
    ]
    if check is not None:
        lines.append(
            f"table: {check.households} households, {check.versions} versions checked; "
            f"{len(check.violations)} violations"
        )
        lines += [f"  VIOLATION {v}" for v in check.violations[:50]]
    return "\n".join(lines)


def read_households(path: Path) -> list[RegisterHousehold]:
    with path.open(newline="", encoding="utf-8") as stream:
        return [h for h in read_register(stream) if not isinstance(h, list)]


def cmd_load(args: argparse.Namespace) -> int:
    try:
        require_loopback(args.url)
        if args.endpoint_url:
            require_loopback(args.endpoint_url)
    except NotLoopback as error:
        print(f"census load: {error}", file=sys.stderr)
        return 2
    register = Path(args.register) if args.register else Path(args.data_dir) / "demo-register.csv"
    if not register.is_file():
        print(
            f"census load: no register at {register} (give --register, the file `census serve` loaded)", file=sys.stderr
        )
        return 2
    households = read_households(register)
    if args.households:
        households = households[: args.households]
    plan = plan_requests(households, args.count, seed=args.seed)
    read_partition: Callable[[str], list[dict[str, Any]]] | None = None
    baseline: dict[str, int] = {}
    if args.endpoint_url:
        import boto3

        client = boto3.client(
            "dynamodb",
            endpoint_url=args.endpoint_url,
            region_name="ap-southeast-3",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - DynamoDB Local ignores credentials
        )

        def read_partition(kk: str) -> list[dict[str, Any]]:
            return household_partition(client, args.table, kk)

        baseline = stored_versions((p.kk for p in plan), read_partition)
    from tqdm import tqdm

    with tqdm(total=len(plan), unit="req", desc="load", file=sys.stderr, dynamic_ncols=True) as bar:
        outcomes, seconds = run_load(
            args.url, plan, concurrency=args.concurrency, time_limit=args.time_limit, progress=bar.update
        )
    check = None
    if read_partition is not None:
        check = verify(outcomes, read_partition, baseline)
    else:
        print("no --endpoint-url: the table is not checked", file=sys.stderr)
    print(report(outcomes, seconds, check))
    return 1 if check is not None and check.violations else 0


def register(commands: argparse._SubParsersAction) -> None:
    """Adds `census load`."""
    parser = commands.add_parser("load", help="bounded load run against a local service, then check the table")
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="the local service (loopback only)")
    parser.add_argument("--count", type=int, default=5000, help="requests to send (at most)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds; no request starts after it")
    parser.add_argument(
        "--register", help="the register CSV the service imported (default: DATA_DIR/demo-register.csv)"
    )
    parser.add_argument("--data-dir", default=str(REPO_ROOT / ".data"))
    parser.add_argument("--households", type=int, default=0, help="use only the register's first N households")
    parser.add_argument(
        "--endpoint-url", help="the service's DynamoDB Local (printed by census serve), to check the table"
    )
    parser.add_argument("--table", default="census-local")
    parser.add_argument("--seed", type=int, default=1)
    parser.set_defaults(func=cmd_load)
