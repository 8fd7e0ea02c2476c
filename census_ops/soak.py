"""`census soak`: submissions for a fixed time against a local API on DynamoDB Local while
DynamoDB Local is stopped and restarted in the middle, and/or its calls are slowed by the
fault proxy (census_ops/faultproxy.py); then the table is checked.

Everything runs on this machine, in one process: a DynamoDB Local of its own persisted in a
temporary folder (so a restart keeps the data), the fault proxy in front of it, and the
local API (the handlers in-process, with the Lambda functions' own DynamoDB client settings:
2 s read timeout, 3 attempts). Clients behave as the resident page does: every submission
carries an Idempotency-Key, and a 503 (or a dropped connection) is sent again, with the same
key and body, after its Retry-After; a 2xx or 4xx is final.

Afterwards: every 2xx answer's version is stored, exactly once, under its key (lost = 0,
duplicated = 0); every household's versions are consecutive (1..n, META at n); the progress
counters equal a recount from the households (drift = 0); and no request took longer than
the client's timeout (hung = 0). Bounded: at most --duration seconds of load (an hour at
most) plus a minute for the last retries, at most --count submissions.

    census soak --duration 120 --restart-at 40                   # stop DynamoDB Local at 40 s
    census soak --duration 120 --slow-at 40 --slow-for 30        # slow 30 % of its calls by 2.5 s
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from census_ops.load import Outcome, Planned, percentile, plan_requests, read_households, verify

MAX_DURATION = 3600.0
MAX_COUNT = 200_000
RETRY_GRACE_SECONDS = 60.0  # after the duration, requests still being retried get this long
TABLE = "census-soak"


@dataclass(frozen=True)
class SoakPlan:
    duration: float = 120.0
    restart_at: float | None = 40.0  # seconds into the run; None: no restart
    down: float = 5.0  # seconds DynamoDB Local stays stopped
    slow_at: float | None = None
    slow_for: float = 30.0
    delay: float = 2.5  # seconds added to a slowed call (more than the functions' 2 s read timeout)
    slow_share: float = 0.3  # the share of calls slowed
    concurrency: int = 8
    households: int = 300
    count: int = 20_000
    timeout: float = 30.0  # the client's timeout for one HTTP request
    seed: int = 1


@dataclass
class SoakFigures:
    seconds: float = 0.0
    submissions: int = 0  # distinct planned submissions sent
    requests: int = 0  # HTTP requests, retries included
    answers: dict[str, int] = field(default_factory=dict)
    ok: int = 0  # 2xx
    busy_with_retry_after: int = 0  # 503 carrying Retry-After
    busy_without_retry_after: int = 0
    transport_errors: int = 0
    gave_up: int = 0  # submissions still without a final answer at the end of the grace period
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    hung: int = 0  # requests that took the whole client timeout
    households_checked: int = 0
    versions_checked: int = 0
    lost: int = 0
    duplicated: int = 0
    violations: list[str] = field(default_factory=list)
    households_recounted: int = 0
    counter_drift: int = 0
    events: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not (
            self.violations
            or self.lost
            or self.duplicated
            or self.counter_drift
            or self.hung
            or self.busy_without_retry_after
            or self.gave_up
        )


def _send(
    host: str, port: int, planned: Planned, timeout: float
) -> tuple[int, dict[str, Any] | None, bool, str | None, bool]:
    """(status, JSON answer, replayed, Retry-After, timed out); status 0: no HTTP answer."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    headers = {"Content-Type": "application/json", "Idempotency-Key": str(planned.key)}
    try:
        connection.request(
            "POST", f"/v1/households/{planned.kk}/responses", body=json.dumps(planned.body).encode(), headers=headers
        )
        response = connection.getresponse()
        raw = response.read()
    except TimeoutError:
        return 0, None, False, None, True
    except (OSError, http.client.HTTPException):
        return 0, None, False, None, False
    finally:
        connection.close()
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = None
    return (
        response.status,
        answer if isinstance(answer, dict) else None,
        response.getheader("Idempotent-Replayed") == "true",
        response.getheader("Retry-After"),
        False,
    )


def _drive(
    url_port: int, plan: list[Planned], soak: SoakPlan, figures: SoakFigures, tick: Callable[[], object] | None
) -> list[Outcome]:
    """The clients: until the duration is over, each takes the next submission and sends it
    until a final answer (2xx or 4xx), waiting Retry-After between tries."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    queue_ = iter(plan)
    started = time.monotonic()
    stop_new = started + soak.duration
    hard_stop = stop_new + RETRY_GRACE_SECONDS

    def client() -> None:
        while time.monotonic() < stop_new:
            with lock:
                planned = next(queue_, None)
                if planned is not None:
                    figures.submissions += 1
            if planned is None:
                return
            while True:
                began = time.monotonic()
                status, answer, replayed, retry_after, timed_out = _send("127.0.0.1", url_port, planned, soak.timeout)
                seconds = time.monotonic() - began
                if status == 0:
                    code = "transport_error"
                elif 200 <= status < 300:
                    code = str(status)
                else:
                    code = str(((answer or {}).get("error") or {}).get("code") or status)
                with lock:
                    outcomes.append(Outcome(planned, status, code, answer, seconds, replayed))
                    figures.hung += int(timed_out or seconds >= soak.timeout)
                    if status == 503:
                        if retry_after is not None:
                            figures.busy_with_retry_after += 1
                        else:
                            figures.busy_without_retry_after += 1
                if tick:
                    tick()
                if status not in (0, 503):
                    break
                wait = float(retry_after) if retry_after and retry_after.isdigit() else 1.0
                if time.monotonic() + wait > hard_stop:
                    with lock:
                        figures.gave_up += 1
                    break
                time.sleep(wait)

    threads = [threading.Thread(target=client, name=f"soak-{n}", daemon=True) for n in range(soak.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(soak.duration + RETRY_GRACE_SECONDS + soak.timeout + 10)
    return outcomes


def _faults(
    soak: SoakPlan, engine: Any, proxy: Any, started: float, done: threading.Event, figures: SoakFigures
) -> list[threading.Thread]:
    """The scheduled faults: DynamoDB Local stopped and started again; calls slowed."""
    from census_ops.faultproxy import Fault

    def at(moment: float) -> bool:
        """Sleep until `moment` seconds into the run; False if the run ended first."""
        return not done.wait(max(0.0, started + moment - time.monotonic()))

    def note(text: str) -> None:
        figures.events.append(f"{time.monotonic() - started:6.1f} s  {text}")

    def restart() -> None:
        assert soak.restart_at is not None
        if not at(soak.restart_at):
            return
        note("DynamoDB Local stopped (SIGTERM)")
        engine.stop()
        at(soak.restart_at + soak.down)
        engine.start()  # also when the run ended meanwhile: the checks need it
        note("DynamoDB Local answering again")

    def slow() -> None:
        assert soak.slow_at is not None
        if not at(soak.slow_at):
            return
        proxy.inject(Fault(f"delay:{soak.delay}", share=soak.slow_share))
        note(f"{soak.slow_share:.0%} of DynamoDB calls slowed by {soak.delay} s")
        at(soak.slow_at + soak.slow_for)
        proxy.clear()
        note("DynamoDB calls at full speed again")

    threads = [
        threading.Thread(target=work, name=f"soak-{work.__name__}", daemon=True)
        for work, planned in ((restart, soak.restart_at), (slow, soak.slow_at))
        if planned is not None
    ]
    for thread in threads:
        thread.start()
    return threads


def run_soak(soak: SoakPlan, work_dir: Path, *, progress: bool = True) -> SoakFigures:
    import warnings

    from census_ops import tokens
    from census_ops.dynamodb_local import DynamoDBLocal, free_port
    from census_ops.faultproxy import FaultProxy
    from census_ops.importer import import_register
    from census_ops.local_api import LocalApi
    from census_ops.recount import recount_table
    from census_ops.register import write_demo_register
    from census_ops.runtime import configure_environment
    from census_ops.template import api_routes, create_table, load_handler
    from shared import store
    from shared.settings import settings

    # Powertools warns on every 4xx/503 that no metric was added: the soak makes thousands.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    figures = SoakFigures()
    register = work_dir / "register.csv"
    write_demo_register(register, soak.households, seed=soak.seed)
    households = read_households(register)
    plan = plan_requests(households, soak.count, seed=soak.seed, unkeyed_share=0.0)
    engine = DynamoDBLocal(port=free_port(), data_dir=work_dir / "dynamodb", log_path=work_dir / "dynamodb.log")
    engine.start()
    proxy = FaultProxy(engine.endpoint_url, seed=soak.seed)
    try:
        configure_environment(TABLE, engine.endpoint_url)  # patient: the import
        create_table(engine.client(), TABLE)
        assert not import_register(register).errors
        # The service: the Lambda functions' own client settings, through the proxy.
        os.environ["DYNAMODB_ENDPOINT_URL"] = proxy.url
        os.environ.setdefault("SESSION_SIGNING_KEY", tokens.local_secret(work_dir).hex())
        settings.cache_clear()
        routes = api_routes()
        for route in routes:
            load_handler(route)  # imported now (each binds the store once, as a container would)
        store.bind(settings())
        api = LocalApi(routes, port=0, access_log=False)
        api.start_in_thread()
        # The table's stream consumer runs throughout, as Lambda's poller would: its writes
        # go through the fault proxy too (a failed batch is handed over again, whole).
        from census_ops.stream_poller import StreamPoller, poll_forever
        from functions.progress_stream.app import lambda_handler

        poller = StreamPoller(engine.client(), engine.client(service="dynamodbstreams"), TABLE, lambda_handler)
        stream_stop = threading.Event()
        consumer = threading.Thread(target=poll_forever, args=(poller, stream_stop), name="stream", daemon=True)
        consumer.start()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(unit="req", desc="soak", file=sys.stderr, dynamic_ncols=True)
        started = time.monotonic()
        done = threading.Event()
        faults = _faults(soak, engine, proxy, started, done, figures)
        try:
            outcomes = _drive(api.port, plan, soak, figures, bar.update if bar is not None else None)
        finally:
            figures.seconds = time.monotonic() - started
            done.set()
            for thread in faults:
                thread.join(120)
            if bar is not None:
                bar.close()
            api.shutdown()
            stream_stop.set()
            consumer.join(120)
        proxy.clear()
        # The checks read DynamoDB Local directly, patiently.
        configure_environment(TABLE, engine.endpoint_url)
        while poller.drain():  # what the consumer had not reached when the requests stopped
            pass
        _check(outcomes, engine, figures)
        recounted = recount_table()
        figures.households_recounted = recounted.households
        figures.counter_drift = recounted.total_drift
    finally:
        proxy.close()
        engine.stop()
    return figures


def _check(outcomes: list[Outcome], engine: Any, figures: SoakFigures) -> None:
    from census_ops.load import household_partition

    client = engine.client()
    figures.requests = len(outcomes)
    figures.answers = dict(sorted(Counter(o.code for o in outcomes).items()))
    figures.ok = sum(1 for o in outcomes if 200 <= o.status < 300)
    figures.transport_errors = sum(1 for o in outcomes if o.status == 0)
    latencies = [o.seconds for o in outcomes]
    figures.p50_ms = round(percentile(latencies, 0.50) * 1000, 1)
    figures.p99_ms = round(percentile(latencies, 0.99) * 1000, 1)
    figures.max_ms = round(max(latencies, default=0) * 1000, 1)
    check = verify(outcomes, lambda kk: household_partition(client, TABLE, kk))
    figures.households_checked, figures.versions_checked = check.households, check.versions
    figures.violations = check.violations
    figures.lost = sum(1 for v in check.violations if "is not stored" in v or "answered for key" in v)
    figures.duplicated = sum(1 for v in check.violations if "stored in" in v or "answered as new" in v)


def report(soak: SoakPlan, figures: SoakFigures) -> str:
    lines = [f"soak: {figures.seconds:.0f} s, {soak.concurrency} clients, {soak.households} households"]
    lines += [f"  {event}" for event in figures.events]
    lines += [
        f"requests {figures.requests} ({figures.submissions} submissions, retries included): "
        f"2xx {figures.ok}, 503 with Retry-After {figures.busy_with_retry_after}, "
        f"503 without {figures.busy_without_retry_after}, no answer {figures.transport_errors}",
        "answers: " + ", ".join(f"{code}: {n}" for code, n in figures.answers.items()),
        f"latency p50 {figures.p50_ms:.0f} ms, p99 {figures.p99_ms:.0f} ms, max {figures.max_ms:.0f} ms; "
        f"hung past the {soak.timeout:.0f} s timeout: {figures.hung}; gave up: {figures.gave_up}",
        f"table: {figures.households_checked} households, {figures.versions_checked} versions checked: "
        f"lost {figures.lost}, duplicated {figures.duplicated}, other violations "
        f"{len(figures.violations) - figures.lost - figures.duplicated}; "
        f"counter drift {figures.counter_drift} ({figures.households_recounted} households recounted)",
        "PASSED" if figures.passed else "FAILED",
    ]
    lines += [f"  VIOLATION {v}" for v in figures.violations[:20]]
    return "\n".join(lines)


def cmd_soak(args: argparse.Namespace) -> int:
    soak = SoakPlan(
        duration=args.duration,
        restart_at=args.restart_at if args.restart_at and args.restart_at > 0 else None,
        down=args.down,
        slow_at=args.slow_at,
        slow_for=args.slow_for,
        delay=args.delay,
        slow_share=args.slow_share,
        concurrency=args.concurrency,
        households=args.households,
        count=args.count,
        timeout=args.timeout,
        seed=args.seed,
    )
    if not 0 < soak.duration <= MAX_DURATION or not 0 < soak.count <= MAX_COUNT or not 1 <= soak.concurrency <= 64:
        print(
            f"census soak: --duration (0, {MAX_DURATION:.0f}], --count (0, {MAX_COUNT}], --concurrency 1-64",
            file=sys.stderr,
        )
        return 2
    work_dir = Path(tempfile.mkdtemp(prefix="census-soak-"))
    try:
        figures = run_soak(soak, work_dir)
    finally:
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    print(report(soak, figures))
    if args.json:
        Path(args.json).write_text(json.dumps({**asdict(figures), "passed": figures.passed}, indent=2))
    return 0 if figures.passed else 1


def register(commands: argparse._SubParsersAction) -> None:
    """Adds `census soak`."""
    parser = commands.add_parser("soak", help="submissions while DynamoDB Local restarts or slows down; then check")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load (at most 3600)")
    parser.add_argument("--restart-at", type=float, default=None, help="stop DynamoDB Local this many seconds in")
    parser.add_argument("--down", type=float, default=5.0, help="seconds it stays stopped")
    parser.add_argument("--slow-at", type=float, default=None, help="slow DynamoDB calls from this many seconds in")
    parser.add_argument("--slow-for", type=float, default=30.0, help="for this many seconds")
    parser.add_argument("--delay", type=float, default=2.5, help="seconds added to a slowed call")
    parser.add_argument("--slow-share", type=float, default=0.3, help="the share of calls slowed")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--households", type=int, default=300, help="size of the soak's register")
    parser.add_argument("--count", type=int, default=20_000, help="submissions at most")
    parser.add_argument("--timeout", type=float, default=30.0, help="the client's timeout for one request")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (DynamoDB Local's data, logs)")
    parser.set_defaults(func=cmd_soak)
