"""What every browser test shares: the check that Chromium, node and the npm packages are there,
`census serve` on a free port until a block ends, running a node script with its configuration,
and JSON calls to the API. The tests themselves (test_*.py + their .js scripts) keep only what
is theirs: the data they prepare and what they check.

Needs /usr/bin/chromium (`make test` installs it: the .tools/chromium.ok target) and
node_modules/playwright-core + axe-core (`npm ci`). Nothing here downloads a browser."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from census_ops.template import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
SERVE = [sys.executable, "-m", "census_ops.cli", "serve"]
READY_LINE = "Ctrl-C stops"  # census serve's last start-up line: the API answers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_browser() -> None:
    """Fail (never skip) when something the browser tests need is missing: `make install` installs it."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (run `make .tools/chromium.ok`: apt-get install chromium)")
    if shutil.which("node") is None:
        missing.append("node")
    for package in ("playwright-core", "axe-core"):
        if not (REPO_ROOT / "node_modules" / package / "package.json").exists():
            missing.append(f"node_modules/{package} (run `npm ci`)")
    assert not missing, "the browser tests need (make install): " + "; ".join(missing)


def _start(command: list[str], wait_seconds: float) -> tuple[subprocess.Popen[str], list[str], threading.Event]:
    """Spawn `census serve`; return once it is ready, has stopped, or wait_seconds have passed."""
    env = {k: v for k, v in os.environ.items() if k not in {"TABLE_NAME", "DYNAMODB_ENDPOINT_URL"}}
    proc = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env, cwd=REPO_ROOT
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            output.append(line)
            if READY_LINE in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + wait_seconds
    while not ready.wait(1) and proc.poll() is None and time.monotonic() < deadline:
        pass
    return proc, output, ready


@contextmanager
def running_service(
    data_dir: Path, *arguments: str, store: str = "memory", attempts: int = 1, wait_seconds: float = 600
) -> Iterator[dict[str, Any]]:
    """`census serve` on a free port with the given options, until the block ends. On a loaded
    machine DynamoDB Local can time out during a first import; the import is resumable, so up
    to `attempts` starts are made on the same data."""
    port = free_port()
    command = [*SERVE, "--store", store, "--port", str(port), "--data-dir", str(data_dir), *arguments]
    for _ in range(attempts):
        proc, output, ready = _start(command, wait_seconds)
        if ready.is_set():
            break
        proc.terminate()
        proc.wait(120)
    try:
        if not ready.is_set():
            raise AssertionError("census serve did not start:\n" + "".join(output))
        endpoint = next((line.split()[3].rstrip(",") for line in output if line.startswith("DynamoDB Local on")), None)
        yield {
            "url": f"http://127.0.0.1:{port}",
            "register": data_dir / "demo-register.csv",
            "roster": data_dir / "demo-roster.csv",
            "data_dir": data_dir,
            "endpoint": endpoint,
            "output": output,
        }
    finally:
        proc.terminate()
        proc.wait(120)


def run_node(
    script: Path,
    config: dict[str, Any],
    output: list[str] | None = None,
    *,
    variable: str = "CENSUS_BROWSER_CONFIG",
    timeout: float = 600,
) -> str:
    """Run a browser script with its configuration (JSON in `variable`); its stdout, which must
    end with OK, or the failure with the end of the service's log (tokens left out)."""
    run = subprocess.run(
        ["node", str(script)],
        cwd=REPO_ROOT,
        env={**os.environ, variable: json.dumps(config)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    print(run.stdout)
    log = "".join(line for line in (output or [])[-60:] if "eyJ" not in line)
    assert run.returncode == 0 and run.stdout.rstrip().endswith("OK"), (
        f"{script.name} failed:\n{run.stdout}\n{run.stderr}\n--- census serve ---\n{log}"
    )
    return run.stdout


def call(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """A JSON request as the apps make it: (status, decoded answer), error answers included."""
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")
