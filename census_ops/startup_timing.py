"""`census startup-timing`: how soon `make run` is usable, as a newcomer meets it. Starts
`census serve` on an empty data folder (the first start: demo files written, DynamoDB Local
started, the import begun), stops it in the middle of the background import, and starts it
again (a restart), timing from the process's start until the resident page answers and until
the API answers (GET /v1/areas/16/children: the store is up and the handlers are loaded).
Figures, not assertions: docs/operations.md quotes a run."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from census_ops.dynamodb_local import free_port

_PATHS = {"page": "/", "api": "/v1/areas/16/children"}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - our own local URL
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _one_start(data_dir: Path, port: int, households: int, settle: float) -> dict[str, float]:
    """Seconds from spawning `census serve` until each of _PATHS answers 200; then SIGTERM."""
    env = {k: v for k, v in os.environ.items() if k not in {"TABLE_NAME", "DYNAMODB_ENDPOINT_URL"}}
    command = [sys.executable, "-m", "census_ops.cli", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    log = data_dir.parent / f"{data_dir.name}.log"
    found: dict[str, float] = {}
    with log.open("ab") as stderr:
        began = time.monotonic()
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [*command, "--households", str(households)], stdout=subprocess.DEVNULL, stderr=stderr, env=env
        )
        try:
            while len(found) < len(_PATHS) and time.monotonic() - began < 600:
                for name, path in _PATHS.items():
                    if name not in found and _answers(f"http://127.0.0.1:{port}{path}"):
                        found[name] = time.monotonic() - began
                if process.poll() is not None:
                    raise RuntimeError(f"census serve stopped (exit {process.returncode}); see {log}")
                time.sleep(0.1)
            time.sleep(settle)  # let the background import run a while, so the restart resumes it
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(120)
            except subprocess.TimeoutExpired:
                process.kill()  # its DynamoDB Local dies with it (started with a parent-death signal)
                process.wait(30)
    return found


def cmd_startup_timing(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="census-startup-"))
    data_dir = work / "data"
    port = free_port()
    print(f"load average {os.getloadavg()[0]:.1f}; {args.households} demo households; {data_dir}")
    print("start            page     API")
    for label in ("first start", "restart"):
        found = _one_start(data_dir, port, args.households, args.settle)  # on failure the folder stays, for its log
        page, api = found.get("page", float("nan")), found.get("api", float("nan"))
        print(f"{label:<14} {page:6.1f}s {api:6.1f}s")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    timing = commands.add_parser(
        "startup-timing", help="time census serve's first start and a restart (page and API ready)"
    )
    timing.add_argument("--households", type=int, default=27_000, help="size of the demo register (make run's)")
    timing.add_argument("--settle", type=float, default=5.0, help="seconds of background import before the stop")
    timing.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    timing.set_defaults(func=cmd_startup_timing)
