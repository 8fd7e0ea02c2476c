"""The resident web page in a real browser, against the real local service: `census serve`
(moto in-process, the demo register) serves the page and the API on one origin, and
tests/browser/resident.js drives Debian's Chromium through playwright-core on a phone-sized
window. Screenshots and the proof PDF land in test-artifacts/browser/.

Needs /usr/bin/chromium (`make test` installs it: the .tools/chromium.ok target) and
node_modules/playwright-core + axe-core (`npm ci`). Nothing here downloads a browser."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from census_ops.template import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
SCRIPT = REPO_ROOT / "tests" / "browser" / "resident.js"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
MEMBERS = 5
SERVE = [sys.executable, "-m", "census_ops.cli", "serve"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _requirements() -> list[str]:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (run `make .tools/chromium.ok`: apt-get install chromium)")
    if shutil.which("node") is None:
        missing.append("node")
    for package in ("playwright-core", "axe-core"):
        if not (REPO_ROOT / "node_modules" / package / "package.json").exists():
            missing.append(f"node_modules/{package} (run `npm ci`)")
    return missing


@contextmanager
def running_service(data_dir: Path, *arguments: str, store: str = "memory") -> Iterator[dict[str, Any]]:
    """`census serve` on a free port with a small demo register, until the block ends."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"TABLE_NAME", "DYNAMODB_ENDPOINT_URL"}}
    proc = subprocess.Popen(
        [*SERVE, "--store", store, "--port", str(port), "--data-dir", str(data_dir), *arguments],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            output.append(line)
            if "Ctrl-C stops" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(300):
            raise AssertionError("census serve did not start:\n" + "".join(output))
        yield {
            "url": f"http://127.0.0.1:{port}",
            "register": data_dir / "demo-register.csv",
            "roster": data_dir / "demo-roster.csv",
            "data_dir": data_dir,
            "output": output,
        }
    finally:
        proc.terminate()
        proc.wait(60)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`census serve --store memory` on a free port with a 30-household demo register."""
    with running_service(tmp_path_factory.mktemp("serve"), "--households", "30", "--officers", "20") as running:
        yield running


def run_script(script: Path, config: dict[str, Any], output: list[str]) -> str:
    """Run a browser script with its configuration; its stdout, or the failure with the service's log."""
    run = subprocess.run(
        ["node", str(script)],
        cwd=REPO_ROOT,
        env={**os.environ, "CENSUS_BROWSER_CONFIG": json.dumps(config)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(run.stdout)
    assert run.returncode == 0, (
        f"the browser test failed:\n{run.stdout}\n{run.stderr}\n--- census serve ---\n"
        + "".join(line for line in output[-60:] if "eyJ" not in line)
    )
    assert run.stdout.rstrip().endswith("OK")
    return run.stdout


def households_of_size(register: Path, size: int) -> list[dict[str, Any]]:
    """The register's households with exactly `size` members, in file order."""
    households: dict[str, list[dict[str, str]]] = {}
    with register.open(newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            households.setdefault(row["kk"], []).append(
                {k: row[k] for k in ("nik", "name", "sex", "birth_date", "relationship")}
            )
    return [{"kk": kk, "members": members} for kk, members in households.items() if len(members) == size]


def test_a_resident_completes_the_census_in_the_browser(service: dict[str, Any]) -> None:
    missing = _requirements()
    assert not missing, "the browser tests need: " + "; ".join(missing)
    households = households_of_size(service["register"], MEMBERS)
    assert len(households) >= 2, "the demo register has fewer than two 5-member households"
    # Three more (of 2 to 4 members) for the races around draft saves and sign-out.
    others = [h for size in (3, 4, 2) for h in households_of_size(service["register"], size)][:3]
    assert len(others) == 3, "the demo register has too few households of 2 to 4 members"
    config = {"base_url": service["url"], "artifacts": str(ARTIFACTS), "households": households[:2], "others": others}
    output = run_script(SCRIPT, config, service["output"])
    figures = json.loads(output.split("FIGURES ", 1)[1].splitlines()[0])
    requests = figures["five_member_requests"]
    # Drafts reach the server once per completed card, on "review" and when the page is hidden:
    # a resident who pauses between answers (the test pauses longer than the old 1.2 s autosave
    # delay) costs no more requests than one who does not (docs/performance.md, section 7).
    assert figures["five_member_pauses"] >= MEMBERS
    assert 1 <= requests["PUT /v1/session/household/draft"] <= MEMBERS + 2
