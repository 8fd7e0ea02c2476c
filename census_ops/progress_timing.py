"""`census progress-timing`: how long the progress API takes to open a large area, against a
running `census serve` (DynamoDB Local). Writes synthetic per-SLS counters for a regency of
`--sls` SLS (10 districts x 10 villages x N SLS, regency 9171, outside the demo city), a
supervisor covering it, refreshes the large areas' rollup (as the 5-minute schedule does; timed),
then times the console's progress page for the regency, one of its districts and the demo city,
several times each (median and worst): GET /v1/areas/<area>/progress and
/v1/areas/<area>/progress/history sent together as the console sends them (Promise.all), each
route's time, and the page's (both answered: the slower of the two), and says where each
answer's current figures came from (`rollup` or `live`). Figures, not assertions:
docs/console.md quotes a run."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from census_ops import tokens
from census_ops.runtime import DEFAULT_DATA_DIR, LOCAL_TABLE, configure_environment

REGENCY = "9171"


def _write_counters(sls_total: int) -> None:
    from shared.store import schema
    from shared.store.fieldwork import save_officers

    per_village = max(1, sls_total // 100)
    rows = []
    for d in range(1, 11):
        for v in range(1, 11):
            for s in range(1, per_village + 1):
                sls = f"{REGENCY}{d:03d}{v:03d}{s:04d}"
                rows.append(
                    schema.ProgressCounter(
                        *schema.progress_key(sls),
                        households=100,
                        pending=20,
                        clean=70,
                        needs_review=5,
                        interviewed=5,
                        responded_online=75,
                        to_visit=25,
                        awaiting_review=3,
                    )
                )
    with schema.ProgressCounter.batch_write() as batch:
        for row in rows:
            batch.save(row)
    schema.AreaMarker(*schema.regency_marker_key(f"{REGENCY}0010010001")).save()
    save_officers(
        [
            schema.OfficerProfile(
                schema.officer_pk("SPV-TIMING"),
                schema.PROFILE_SK,
                name="Timing",
                role="supervisor",
                areas=[REGENCY, "1671"],
            )
        ]
    )
    print(f"wrote {len(rows)} SLS counters under regency {REGENCY}", file=sys.stderr)


def _refresh_rollup() -> None:
    from shared.rollups import refresh_rollups

    start = time.perf_counter()
    result = refresh_rollups()
    print(
        f"rollup refreshed in {time.perf_counter() - start:.2f}s: {result['areas']} areas, {result['sls']} SLS",
        file=sys.stderr,
    )


def _get(url: str, token: str) -> tuple[float, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - checked
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - checked by _time_page
        body = answer.read()
    return time.perf_counter() - start, body


def _source(route: str, body: bytes) -> str:
    """Where the answer's current figures came from (history: its last day, today's)."""
    answer = json.loads(body)
    if route == "history":
        return str((answer.get("days") or [{}])[-1].get("source", "live"))
    return str(answer.get("source", "live"))


def _time_page(base: str, token: str, runs: int) -> dict[str, tuple[float, float, str]]:
    """{route: (median, worst, source)} for "progress", "history" and "page" (both routes sent
    at once; the page is ready when the slower has answered)."""
    if not base.startswith(("http://", "https://")):
        raise ValueError("--url must be an http(s) URL")
    urls = {"progress": f"{base}/progress", "history": f"{base}/progress/history"}
    seconds: dict[str, list[float]] = {"progress": [], "history": [], "page": []}
    sources = {"progress": "", "history": ""}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(runs):
            start = time.perf_counter()
            futures = {route: pool.submit(_get, url, token) for route, url in urls.items()}
            answers = {route: future.result() for route, future in futures.items()}
            seconds["page"].append(time.perf_counter() - start)
            for route, (taken, body) in answers.items():
                seconds[route].append(taken)
                sources[route] = _source(route, body)
    sources["page"] = "/".join(sorted(set(sources.values())))
    return {route: (statistics.median(s), max(s), sources[route]) for route, s in seconds.items()}


def cmd_progress_timing(args: argparse.Namespace) -> int:
    configure_environment(args.table, args.endpoint_url)
    if not args.skip_write:
        _write_counters(args.sls)
    if not args.skip_rollup:
        _refresh_rollup()
    token = tokens.mint_token("SPV-TIMING", "supervisor", secret=tokens.local_secret(Path(args.data_dir)))
    print("area            SLS  route      median   worst  source")
    for area, sls in ((REGENCY, args.sls), (f"{REGENCY}001", args.sls // 10), ("1671", None)):
        timed = _time_page(f"{args.url}/v1/areas/{area}", token, args.runs)
        for route in ("progress", "history", "page"):
            median, worst, source = timed[route]
            print(f"{area:<12} {sls if sls else 'demo':>6}  {route:<8} {median:7.3f}s {worst:7.3f}s  {source}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    timing = commands.add_parser("progress-timing", help="time the progress API on a regency of --sls SLS")
    timing.add_argument("--url", required=True, help="a running census serve, e.g. http://127.0.0.1:3000")
    timing.add_argument("--endpoint-url", required=True, help="its DynamoDB Local (printed by census serve)")
    timing.add_argument("--table", default=LOCAL_TABLE)
    timing.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="census serve's data dir (token secret)")
    timing.add_argument("--sls", type=int, default=10_000)
    timing.add_argument("--runs", type=int, default=5)
    timing.add_argument("--skip-write", action="store_true", help="the counters are there from a previous run")
    timing.add_argument(
        "--skip-rollup", action="store_true", help="leave the rollup to census serve's timer (or stale: live answers)"
    )
    timing.set_defaults(func=cmd_progress_timing)
