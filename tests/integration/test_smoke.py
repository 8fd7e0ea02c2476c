"""`census smoke` against the local service, as an operator runs it after a deploy: every
step passes, one line each, and nothing personal is printed."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from census_ops.cli import main
from census_ops.register import read_register
from tests.integration.test_serve import Service

pytestmark = pytest.mark.dynamodb_local

STEPS = (
    "submit",
    "replay",
    "status by KK+NIK",
    "status by receipt",
    "proof PDF",
    "error shape",
    "officer route",
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_smoke_passes_against_the_local_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    service = Service(tmp_path)
    try:
        url = f"http://127.0.0.1:{service.port}"
        assert main(["smoke", "--url", url, "--data-dir", str(tmp_path)]) == 0
        first = capsys.readouterr().out
        # Again: the household is corrected (a new version) and every step still passes.
        assert main(["smoke", "--url", url, "--register", str(tmp_path / "demo-register.csv")]) == 0
        second = capsys.readouterr().out
    finally:
        service.stop()
    for output in (first, second):
        lines = output.strip().splitlines()
        assert len(lines) == len(STEPS) + 2, output  # a heading, one line per step, the verdict
        for line, step in zip(lines[1:-1], STEPS, strict=True):
            assert re.match(rf"ok\s+{re.escape(step)}\s", line), line
        assert lines[-1].startswith("smoke: every step passed")
    assert "version 1 " in first and "version 2 " in second
    with (tmp_path / "demo-register.csv").open(newline="", encoding="utf-8") as stream:
        people = [m for h in read_register(stream) if not isinstance(h, list) for m in h.members]
        stream.seek(0)
        kks = [h.kk for h in read_register(stream) if not isinstance(h, list)]
    printed = first + second
    assert not [p.nik for p in people if p.nik in printed]
    assert not [p.name for p in people if p.name in printed]
    assert kks[0] not in printed and f"{kks[0][:6]}******{kks[0][-4:]}" in printed


def test_smoke_reports_each_failed_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    register = tmp_path / "register.csv"
    assert main(["demo-register", "--households", "1", "--out", str(register)]) == 0
    url = f"http://127.0.0.1:{_closed_port()}"
    assert main(["smoke", "--url", url, "--register", str(register), "--timeout", "2"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    # Steps that need an earlier step's answer are skipped, not failed again.
    assert [line.split()[0] for line in lines[1:-1]] == ["FAIL", "skip", "FAIL", "skip", "skip", "FAIL", "FAIL"]
    assert lines[-1].startswith("smoke: 4 of 7 steps failed")


def test_a_deployed_stage_needs_the_reserved_household(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke", "--url", "https://abc123.execute-api.ap-southeast-3.amazonaws.com/prod"]) == 2
    assert "--register" in capsys.readouterr().err
