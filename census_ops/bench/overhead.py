"""Handler overhead (issue item 3): the intake handler's CPU time per submission against
bare boto3 sending the same DynamoDB requests, interleaved in one process, with DynamoDB
Local in its own process so that only this process's work is counted.

Run in a process of its own (`python -m census_ops.bench.overhead OUT.json`) so that the
handler is configured as in Lambda: Powertools logs at INFO and flushes its metrics, both
written to a /dev/null stdout (the work of formatting them is counted, as it is in Lambda)."""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

PAIRS = 150
WARMUP = 10
FIRST_RUNS = 5

_FIRST_HANDLER = """
import json, sys, time
from functions.intake.app import lambda_handler
from census_ops.bench.harness import lambda_context
event = json.load(open(sys.argv[1]))
context = lambda_context()
cpu = time.process_time()
answer = lambda_handler(event, context)
cpu = time.process_time() - cpu
json.dump({"cpu": cpu, "status": answer["statusCode"]}, open(sys.argv[2], "w"))
"""
_FIRST_BARE = """
import json, os, sys, time
import boto3
from botocore.config import Config
plan = json.load(open(sys.argv[1]))
methods = {"GetItem": "get_item", "Query": "query", "TransactWriteItems": "transact_write_items"}
cpu = time.process_time()
client = boto3.session.Session().client(
    "dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"],
    config=Config(connect_timeout=2, read_timeout=4, retries={"max_attempts": 3, "mode": "standard"}),
)
for op, params in plan:
    getattr(client, methods[op])(**params)
cpu = time.process_time() - cpu
json.dump({"cpu": cpu, "status": 200}, open(sys.argv[2], "w"))
"""


def first_requests(events: list[dict[str, Any]], plans: list[Any], endpoint: str) -> dict[str, Any]:
    """CPU time of the first submission of a fresh process, after its imports: the intake
    handler's (PynamoDB creates its DynamoDB clients) against bare boto3's (one session and
    client, the same requests), interleaved, one process each."""
    import subprocess
    import tempfile

    from census_ops.template import REPO_ROOT

    env = {**os.environ, "DYNAMODB_ENDPOINT_URL": endpoint}
    samples: dict[str, list[float]] = {"handler": [], "bare": []}
    with tempfile.TemporaryDirectory(prefix="census-first-") as folder:
        for i, (event, plan) in enumerate(zip(events, plans, strict=True)):
            for name, script, payload in (("handler", _FIRST_HANDLER, event), ("bare", _FIRST_BARE, plan)):
                given, taken = Path(folder) / f"{name}-{i}.json", Path(folder) / f"{name}-{i}.out"
                given.write_text(json.dumps(payload))
                subprocess.run(  # noqa: S603 - this interpreter, fixed code
                    [sys.executable, "-c", script, str(given), str(taken)],
                    cwd=REPO_ROOT,
                    env=env,
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                answer = json.loads(taken.read_text())
                if answer["status"] >= 300:
                    raise RuntimeError(f"first {name} request answered {answer['status']}")
                samples[name].append(answer["cpu"] * 1000)
    return {name: {"min_ms": min(values), "median_ms": statistics.median(values)} for name, values in samples.items()}


def _template(log: Any) -> list[tuple[str, dict[str, Any]]]:
    """The requests one submission made, without the meter's own parameter."""
    requests = []
    for entry in log.recorded:
        params = {k: v for k, v in entry.params.items() if k != "ReturnConsumedCapacity"}
        requests.append((entry.operation, params))
    return requests


def _retarget(template: list[tuple[str, dict[str, Any]]], replace: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """The same requests for another household: its KK, a fresh receipt code and key."""
    text = json.dumps(template)
    for old, new in replace.items():
        text = text.replace(old, new)
    return [(op, params) for op, params in json.loads(text)]


def other_code(receipt: str, n: int) -> str:
    """A receipt code of the same length that is not `receipt` (the n-th such)."""
    prefix = "X" if receipt[0] != "X" else "Y"
    return f"{prefix}{n:0{len(receipt) - 1}d}"


_METHODS = {
    "GetItem": "get_item",
    "Query": "query",
    "PutItem": "put_item",
    "UpdateItem": "update_item",
    "TransactWriteItems": "transact_write_items",
}


def run(pairs: int = PAIRS, *, profile: bool = True) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    from census_ops.bench.harness import TABLE, harness, lambda_context
    from census_ops.bench.operations import SUBMIT
    from census_ops.bench.recorder import RequestLog
    from census_ops.events import route_event
    from census_ops.examples import example_submission

    households_needed = 2 * pairs + WARMUP + 2 + 2 * FIRST_RUNS
    with harness(households_needed + 50) as bench:
        from functions.intake.app import lambda_handler as intake

        fresh = [h for h in bench.households if len(h.members) <= 9]
        context = lambda_context()

        def event(household: Any, key: str) -> dict[str, Any]:
            return route_event(
                "POST", SUBMIT, {"kk": household.kk}, example_submission(household), headers={"Idempotency-Key": key}
            )

        # The requests of one submission, recorded first: the log rebinds storage on exit.
        model = fresh[WARMUP]
        with RequestLog(raw=None, table=TABLE) as log:
            answer = intake(event(model, "model-key"), context)
        for i, household in enumerate(fresh[:WARMUP]):
            intake(event(household, f"warm-{i}"), context)
        receipt = json.loads(answer["body"])["receipt_code"]
        template = _template(log)
        # Bare boto3 replays whatever the handler sent (in its order), so any request it knows.
        if not template or any(op not in _METHODS for op, _ in template):
            raise RuntimeError(f"unexpected intake requests: {[op for op, _ in template]}")
        client = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=bench.engine.endpoint_url,
            region_name=os.environ["AWS_REGION"],
            config=Config(connect_timeout=2, read_timeout=4, retries={"max_attempts": 3, "mode": "standard"}),
        )
        for op, params in _retarget(template, {model.kk: fresh[WARMUP + 1].kk, receipt: other_code(receipt, 0)}):
            getattr(client, _METHODS[op])(**params)  # warm the bare client too

        rest = fresh[WARMUP + 2 :]
        ours, bare = rest[0 : 2 * pairs : 2], rest[1 : 2 * pairs : 2]
        events = [event(h, f"bench-{i}") for i, h in enumerate(ours)]
        plans = [
            _retarget(template, {model.kk: h.kk, receipt: other_code(receipt, i + 1), "model-key": f"bare-{i}"})
            for i, h in enumerate(bare)
        ]
        handler_cpu, bare_cpu, handler_wall, bare_wall = [], [], [], []
        sys.stdout.flush()
        logged_before = os.fstat(1).st_size
        from tqdm import tqdm

        for i in tqdm(range(min(len(events), len(plans))), desc="handler overhead", unit="pair", file=sys.stderr):
            cpu, wall = time.process_time(), time.perf_counter()
            answer = intake(events[i], context)
            handler_cpu.append(time.process_time() - cpu)
            handler_wall.append(time.perf_counter() - wall)
            if answer["statusCode"] != 201:
                raise RuntimeError(f"submission failed: {answer['body']}")
            cpu, wall = time.process_time(), time.perf_counter()
            for op, params in plans[i]:
                getattr(client, _METHODS[op])(**params)
            bare_cpu.append(time.process_time() - cpu)
            bare_wall.append(time.perf_counter() - wall)

        sys.stdout.flush()
        log_bytes = (os.fstat(1).st_size - logged_before) / max(1, len(handler_cpu))
        spare = fresh[WARMUP + 2 + 2 * pairs :]
        first = first_requests(
            [event(h, f"first-{i}") for i, h in enumerate(spare[:FIRST_RUNS])],
            [
                _retarget(template, {model.kk: h.kk, receipt: other_code(receipt, 9000 + i), "model-key": f"fb-{i}"})
                for i, h in enumerate(spare[FIRST_RUNS : 2 * FIRST_RUNS])
            ],
            bench.engine.endpoint_url,
        )
        hotspots: list[dict[str, Any]] = []
        if profile:
            spare = spare[2 * FIRST_RUNS : 2 * FIRST_RUNS + 40]
            profiler = cProfile.Profile(time.process_time)  # CPU, not time spent waiting
            profiler.enable()
            for i, household in enumerate(spare):
                intake(event(household, f"profile-{i}"), context)
            profiler.disable()
            hotspots = _hotspots(profiler, len(spare))

    def ms(values: list[float]) -> dict[str, float]:
        return {
            "median_ms": statistics.median(values) * 1000,
            "mean_ms": statistics.fmean(values) * 1000,
            "min_ms": min(values) * 1000,
        }

    return {
        "requests": len(handler_cpu),
        "dynamodb_requests_per_submission": [op for op, _ in template],
        "handler_cpu": ms(handler_cpu),
        "bare_cpu": ms(bare_cpu),
        "handler_wall": ms(handler_wall),
        "bare_wall": ms(bare_wall),
        "handler_cpu_top_ms": sorted((round(x * 1000, 1) for x in handler_cpu), reverse=True)[:5],
        "handler_cpu_p90_ms": statistics.quantiles(handler_cpu, n=10)[-1] * 1000,
        "bare_cpu_p90_ms": statistics.quantiles(bare_cpu, n=10)[-1] * 1000,
        # A fresh process's first submission (after the import): creates the DynamoDB clients.
        "first_request_cpu_ms": first,
        "ratio_median": statistics.median(handler_cpu) / statistics.median(bare_cpu),
        "ratio_mean": statistics.fmean(handler_cpu) / statistics.fmean(bare_cpu),
        "log_bytes_per_request": log_bytes,
        "hotspots": hotspots,
    }


def _hotspots(profiler: cProfile.Profile, calls: int, top: int = 12) -> list[dict[str, Any]]:
    """Where a submission's CPU goes, grouped by package (cumulative time of the entry points
    would double count): own time per top-level package, per request."""
    stats = pstats.Stats(profiler)
    by_package: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_package[_package(filename)] = by_package.get(_package(filename), 0.0) + own
    ordered = sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
    return [{"package": name, "ms_per_request": seconds * 1000 / calls} for name, seconds in ordered]


def _package(filename: str) -> str:
    path = filename.replace("\\", "/")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for ours in ("/shared/", "/functions/"):
        if ours in path:
            return ours.strip("/") + "/" + path.split(ours, 1)[1]
    if path.startswith("<"):
        return "builtins"
    return "stdlib"


def main() -> int:
    out = Path(sys.argv[1])
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else PAIRS
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "census")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Census")
    # Lambda's stdout goes to CloudWatch Logs; here to a scratch file (its growth is the
    # bytes CloudWatch would ingest), after the same formatting work.
    sys.stdout.flush()
    scratch = out.with_suffix(".stdout")
    os.dup2(os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
    result = run(pairs)
    out.write_text(json.dumps(result, indent=2))
    scratch.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
