"""`census progress-timing`: how long the progress API takes to open a large area, against a
running `census serve` (DynamoDB Local). Writes synthetic per-SLS counters for a regency of
`--sls` SLS (10 districts x 10 villages x N SLS, regency 9171, outside the demo city), a
supervisor covering it, refreshes the large areas' rollup (as the 5-minute schedule does; timed),
then times GET /v1/areas/<area>/progress for the regency, one of its districts and the demo
city, several times each (median and worst), and says where each answer came from (`rollup` or
`live`). Figures, not assertions: docs/console.md quotes a run."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
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


def _time(url: str, token: str, runs: int) -> tuple[float, float, int, str]:
    if not url.startswith(("http://", "https://")):
        raise ValueError("--url must be an http(s) URL")
    seconds = []
    body = b"{}"
    for _ in range(runs):
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - checked above
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - checked above
            body = answer.read()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), max(seconds), len(body), str(json.loads(body).get("source", "live"))


def cmd_progress_timing(args: argparse.Namespace) -> int:
    configure_environment(args.table, args.endpoint_url)
    if not args.skip_write:
        _write_counters(args.sls)
    if not args.skip_rollup:
        _refresh_rollup()
    token = tokens.mint_token("SPV-TIMING", "supervisor", secret=tokens.local_secret(Path(args.data_dir)))
    print("area            SLS    median   worst   bytes  source")
    for area, sls in ((REGENCY, args.sls), (f"{REGENCY}001", args.sls // 10), ("1671", None)):
        median, worst, size, source = _time(f"{args.url}/v1/areas/{area}/progress", token, args.runs)
        print(f"{area:<12} {sls if sls else 'demo':>6} {median:7.3f}s {worst:7.3f}s {size:7d}  {source}")
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
