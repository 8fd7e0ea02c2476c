"""What every operations command shares: the table it works on (the local service's
DynamoDB Local, moto in memory, any endpoint, or AWS), the process environment a Lambda
container would have, progress bars, and the register import with its report. The
commands import this module; it imports none of them."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from census_ops.template import REPO_ROOT

DEFAULT_DATA_DIR = REPO_ROOT / ".data"
LOCAL_TABLE = "census-local"
DEMO_HOUSEHOLDS = 27_000  # the seed city's register

# The Lambda functions' DynamoDB client (shared/store/client.py: 1 s connect, 2 s read, 3 attempts)
# answers 503 within the function's 10 s. An operations command has no such deadline and
# often talks to a DynamoDB Local whose JVM is still warming up on a busy laptop, or to AWS
# from far away: it waits longer and retries more (botocore's standard mode, jittered
# backoff up to 20 s) before it gives up. Worst case for one call: 6 x 30 s + backoff.
OPS_CONNECT_TIMEOUT_SECONDS = 5.0
OPS_READ_TIMEOUT_SECONDS = 30.0
OPS_ATTEMPTS = 6


@dataclass(frozen=True)
class ClientSettings:
    """Timeouts and attempts of every DynamoDB call this process makes."""

    connect_timeout_seconds: float = OPS_CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds: float = OPS_READ_TIMEOUT_SECONDS
    attempts: int = OPS_ATTEMPTS

    def bind(self) -> None:
        from shared import store
        from shared.settings import settings

        store.bind(
            settings(),
            connect_timeout_seconds=self.connect_timeout_seconds,
            read_timeout_seconds=self.read_timeout_seconds,
            retries={"mode": "standard", "total_max_attempts": self.attempts},
        )


PATIENT = ClientSettings()


def client_settings(args: argparse.Namespace) -> ClientSettings:
    """The patient defaults, or what --timeout / --attempts asked for."""
    return ClientSettings(
        connect_timeout_seconds=min(OPS_CONNECT_TIMEOUT_SECONDS, getattr(args, "timeout", None) or 1e9),
        read_timeout_seconds=getattr(args, "timeout", None) or OPS_READ_TIMEOUT_SECONDS,
        attempts=getattr(args, "attempts", None) or OPS_ATTEMPTS,
    )


def configure_environment(table: str, endpoint: str | None, client: ClientSettings = PATIENT) -> None:
    """Configure this process as a Lambda container would be, before any handler imports,
    with an operations command's patient DynamoDB client (`client`)."""
    os.environ["TABLE_NAME"] = table
    os.environ.setdefault("AWS_REGION", "ap-southeast-3")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "census")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Census")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF JSON on the console
    if endpoint:
        os.environ["DYNAMODB_ENDPOINT_URL"] = endpoint
    else:
        os.environ.pop("DYNAMODB_ENDPOINT_URL", None)
    from shared.settings import settings

    settings.cache_clear()
    client.bind()


@contextmanager
def local_store(kind: str, data_dir: Path, table: str, client: ClientSettings = PATIENT) -> Iterator[bool]:
    """DynamoDB Local persisted under data_dir, or moto in-process; table created from the
    template if absent. Yields whether it was created now (so it is empty)."""
    import boto3

    from census_ops.template import create_table

    if kind == "memory":
        from moto import mock_aws

        with mock_aws():
            configure_environment(table, None, client)
            yield create_table(boto3.client("dynamodb", region_name=os.environ["AWS_REGION"]), table)
        return
    from census_ops.dynamodb_local import DynamoDBLocal

    data_dir.mkdir(parents=True, exist_ok=True)
    with DynamoDBLocal(data_dir=data_dir / "dynamodb", log_path=data_dir / "dynamodb-local.log") as engine:
        configure_environment(table, engine.endpoint_url, client)
        yield create_table(engine.client(_engine_config(client)), table)


def _engine_config(client: ClientSettings) -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=client.connect_timeout_seconds,
        read_timeout=client.read_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": client.attempts},
    )


def progress_bar(total: int | None, unit: str, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True)


def count_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


RESUME_PAUSE_SECONDS = 5.0
RESUMES_WITHOUT_PROGRESS = 1  # a DynamoDB that answers nothing at all: give up after one more try


def import_register_file(
    path: Path,
    restart: bool = False,
    *,
    store: str = "dynamodb-local",
    fresh_table: bool = False,
    pause: float = RESUME_PAUSE_SECONDS,
    landed: Callable[[], object] | None = None,
) -> int:
    """Import with a progress bar and a report. When DynamoDB stops answering for a while
    (after the client's own retries), the import resumes from its checkpoint after `pause`
    seconds, as long as the last try made progress; otherwise the failure propagates.
    `landed()` is called once the file's first households are stored (or there are none)."""
    from census_ops.failures import explain, transient
    from census_ops.importer import WORKERS, import_register

    total = count_lines(path)
    resumes = 0
    with progress_bar(total, "lines", "import register") as bar:

        def advance(lines_done: int) -> None:
            bar.update(max(0, lines_done - bar.n))
            if landed is not None:
                landed()

        # moto (the memory store) is not thread-safe: one writer there.
        workers = 1 if store == "memory" else WORKERS
        stalled = 0
        while True:
            done_before = bar.n
            try:
                report = import_register(
                    path, progress=advance, restart=restart, workers=workers, fresh_table=fresh_table
                )
                break
            except Exception as failure:
                stalled = 0 if bar.n > done_before else stalled + 1
                if not transient(failure) or stalled > RESUMES_WITHOUT_PROGRESS:
                    raise
                bar.write(f"census: {explain(failure) or failure}\n  resuming from the checkpoint in {pause:.0f} s")
                time.sleep(pause)
                # From now on: the checkpoint, and households of a failed batch may exist already.
                restart, fresh_table, resumes = False, False, resumes + 1
        if report.already_complete:
            bar.update(total - bar.n)
    if landed is not None:
        landed()
    if report.already_complete:
        print(f"{path.name}: already imported ({report.households_skipped} households).", file=sys.stderr)
    else:
        resumed = f", resumed at line {report.resumed_from_line}" if report.resumed_from_line else ""
        print(
            f"{path.name}: {report.households_written} households imported{resumed}"
            f"{f' after {resumes} pauses' if resumes else ''}, {len(report.errors)} rows rejected.",
            file=sys.stderr,
        )
    for error in report.errors[:50]:
        print(f"  {error.message}", file=sys.stderr)
    if len(report.errors) > 50:
        print(f"  ... and {len(report.errors) - 50} more", file=sys.stderr)
    return 1 if report.errors else 0


def write_demo_register_file(out: Path, households: int, seed: int = 2020) -> int:
    """A synthetic register CSV of `households` households, with a progress bar."""
    from census_ops.register import write_demo_register

    with progress_bar(households, "households", "demo register") as bar:
        rows = write_demo_register(out, households, seed=seed, progress=lambda n: bar.update(n - bar.n))
        bar.update(households - bar.n)
    print(f"wrote {rows} people in {households} households to {out}", file=sys.stderr)
    return 0


@contextmanager
def target_store(args: argparse.Namespace) -> Iterator[None]:
    """The table an operations command works on: the local service's (--local), any
    DynamoDB endpoint (--endpoint-url), or AWS (TABLE_NAME and credentials from the
    environment)."""
    client = client_settings(args)
    if args.local:
        with local_store("dynamodb-local", Path(args.data_dir), args.table, client):
            yield
    elif args.endpoint_url:
        configure_environment(args.table, args.endpoint_url, client)
        yield
    else:
        from shared.settings import settings

        os.environ["TABLE_NAME"] = args.table  # --table, else TABLE_NAME as it was
        settings.cache_clear()
        client.bind()
        yield


def add_target_arguments(parser: argparse.ArgumentParser, table_flag: str = "--table") -> None:
    parser.add_argument(table_flag, dest="table", default=os.environ.get("TABLE_NAME", LOCAL_TABLE))
    parser.add_argument("--endpoint-url", help="a DynamoDB endpoint, e.g. a running DynamoDB Local")
    parser.add_argument("--local", action="store_true", help="into the local service's data dir (not running)")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument(
        "--timeout", type=float, help=f"seconds to wait for a DynamoDB answer (default {OPS_READ_TIMEOUT_SECONDS:.0f})"
    )
    parser.add_argument("--attempts", type=int, help=f"attempts per DynamoDB call (default {OPS_ATTEMPTS})")
