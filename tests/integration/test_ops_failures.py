"""Operations commands end an expected failure with one line - what happened and what to
do - and exit code 1, never a traceback (unless asked for with --debug / CENSUS_DEBUG=1),
and within a bounded time even when DynamoDB accepts connections and never answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from census_ops import cli
from census_ops.dynamodb_local import DynamoDBLocalError
from census_ops.failures import explain, transient
from shared.errors import StoreBusy

CENSUS = [sys.executable, "-m", "census_ops.cli"]


@pytest.fixture
def black_hole() -> Iterator[str]:
    """An endpoint that accepts every connection and never answers a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for connection in held:
        connection.close()
    server.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _census(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> tuple[int, str, float]:
    environment = {k: v for k, v in os.environ.items() if k not in {"TABLE_NAME", "DYNAMODB_ENDPOINT_URL"}}
    environment.update(env or {})
    began = time.monotonic()
    done = subprocess.run(
        [*CENSUS, *args], capture_output=True, text=True, timeout=timeout, env=environment, check=False
    )
    return done.returncode, done.stderr, time.monotonic() - began


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("census: ")]


def test_an_import_against_a_dynamodb_that_never_answers_ends_in_one_line(
    black_hole: str, demo_register_file: Path
) -> None:
    code, stderr, seconds = _census(
        "import-register", str(demo_register_file), "--endpoint-url", black_hole, "--timeout", "1", "--attempts", "2"
    )
    assert code == 1
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"census: DynamoDB at {black_hole} did not answer in time"), stderr
    assert "run the command again" in last
    # One pause to resume (5 s) and two tries of 2 attempts x 1 s plus backoff: well inside a minute.
    assert seconds < 60


def test_the_traceback_is_there_when_asked_for(black_hole: str, demo_register_file: Path) -> None:
    code, stderr, _ = _census(
        "import-register",
        str(demo_register_file),
        "--endpoint-url",
        black_hole,
        "--timeout",
        "1",
        "--attempts",
        "1",
        env={"CENSUS_DEBUG": "1"},
    )
    assert code == 1
    assert "Traceback (most recent call last)" in stderr
    assert "ReadTimeoutError" in stderr or "Read timeout" in stderr


def test_an_unreachable_endpoint_says_so(demo_register_file: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    code, stderr, seconds = _census(
        "import-register", str(demo_register_file), "--endpoint-url", url, "--timeout", "1", "--attempts", "2"
    )
    assert code == 1
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith(f"census: nothing answers at {url}"), stderr
    assert seconds < 60


@pytest.mark.dynamodb_local
def test_a_file_that_is_not_utf8_is_one_line(
    local_table: tuple[Any, str], dynamodb_local: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, table = local_table
    bad = tmp_path / "register.csv"
    bad.write_bytes(b"kk,nik,name,sex,birth_date,relationship,address,sls_code\n1671\xff\xfe,\n")
    code = cli.main(["import-register", str(bad), "--endpoint-url", dynamodb_local.endpoint_url, "--table", table])
    stderr = capsys.readouterr().err
    assert code == 1
    assert _error_lines(stderr) == ["census: a file is not UTF-8 text; save the CSV as UTF-8 and try again"]


def test_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["import-register", str(tmp_path / "nope.csv"), "--endpoint-url", "http://127.0.0.1:1"])
    assert code == 2
    assert _error_lines(capsys.readouterr().err) == [f"census: no such file: {tmp_path / 'nope.csv'}"]


def test_expected_failures_are_explained_and_bugs_are_not() -> None:
    timeout = ReadTimeoutError(endpoint_url="http://127.0.0.1:8000")
    wrapped = StoreBusy(retry_after=1)
    wrapped.__cause__ = timeout
    assert transient(wrapped) and transient(timeout)
    assert str(explain(wrapped)).startswith("DynamoDB at http://127.0.0.1:8000 did not answer in time")
    assert str(explain(ConnectTimeoutError(endpoint_url="http://x"))).startswith("DynamoDB at http://x")
    assert str(explain(EndpointConnectionError(endpoint_url="http://y"))).startswith("nothing answers at http://y")
    started = explain(DynamoDBLocalError("DynamoDB Local did not answer within 60 s (log: x):\nlong tail"))
    assert started is not None and "\n" not in started and "make install" in started
    assert explain(KeyError("a bug")) is None
    assert not transient(KeyError("a bug"))
