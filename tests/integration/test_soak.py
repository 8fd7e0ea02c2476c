"""A short `census soak`: submissions for 20 s while DynamoDB Local is stopped and
restarted, then while 30 % of its calls are slowed past the functions' read timeout. Every
2xx answer is stored exactly once, versions stay consecutive, the counters equal a recount,
503s carry Retry-After, and nothing hangs. (The long run's figures: docs/security.md.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.dynamodb_local


def test_a_short_soak_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    figures_file = tmp_path / "soak.json"
    run = subprocess.run(
        [
            *(sys.executable, "-m", "census_ops.cli", "soak"),
            *("--duration", "20", "--restart-at", "3", "--down", "2"),
            *("--slow-at", "12", "--slow-for", "6", "--slow-share", "0.3", "--delay", "2.5"),
            *("--concurrency", "4", "--households", "60", "--timeout", "30"),
            *("--json", str(figures_file)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    figures = json.loads(figures_file.read_text())
    assert figures["passed"] is True
    assert figures["ok"] > 0
    # The restart was felt, and answered as it should be: 503 with Retry-After, then retried.
    assert figures["busy_with_retry_after"] > 0
    assert figures["busy_without_retry_after"] == 0
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and figures["violations"] == []
    assert figures["counter_drift"] == 0 and figures["households_recounted"] == 60
    assert figures["hung"] == 0 and figures["gave_up"] == 0
    assert any("stopped" in e for e in figures["events"]) and any("slowed" in e for e in figures["events"])
    assert "PASSED" in run.stdout
