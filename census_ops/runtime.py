"""What every operations command shares: the table it works on (the local service's
DynamoDB Local, moto in memory, any endpoint, or AWS), the process environment a Lambda
container would have, progress bars, and the register import with its report. The
commands import this module; it imports none of them."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from census_ops.template import REPO_ROOT

DEFAULT_DATA_DIR = REPO_ROOT / ".data"
LOCAL_TABLE = "census-local"
DEMO_HOUSEHOLDS = 27_000  # the seed city's register


def configure_environment(table: str, endpoint: str | None) -> None:
    """Configure this process as a Lambda container would be, before any handler imports."""
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
    from shared import store
    from shared.settings import settings

    settings.cache_clear()
    store.bind(settings())


@contextmanager
def local_store(kind: str, data_dir: Path, table: str) -> Iterator[bool]:
    """DynamoDB Local persisted under data_dir, or moto in-process; table created from the
    template if absent. Yields whether it was created now (so it is empty)."""
    import boto3

    from census_ops.template import create_table

    if kind == "memory":
        from moto import mock_aws

        with mock_aws():
            configure_environment(table, None)
            yield create_table(boto3.client("dynamodb", region_name=os.environ["AWS_REGION"]), table)
        return
    from census_ops.dynamodb_local import DynamoDBLocal

    data_dir.mkdir(parents=True, exist_ok=True)
    with DynamoDBLocal(data_dir=data_dir / "dynamodb", log_path=data_dir / "dynamodb-local.log") as engine:
        configure_environment(table, engine.endpoint_url)
        yield create_table(engine.client(), table)


def progress_bar(total: int, unit: str, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True)


def count_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


def import_register_file(
    path: Path, restart: bool = False, *, store: str = "dynamodb-local", fresh_table: bool = False
) -> int:
    from census_ops.importer import WORKERS, import_register

    total = count_lines(path)
    with progress_bar(total, "lines", "import register") as bar:

        def advance(lines_done: int) -> None:
            bar.update(max(0, lines_done - bar.n))

        # moto (the memory store) is not thread-safe: one writer there.
        workers = 1 if store == "memory" else WORKERS
        report = import_register(path, progress=advance, restart=restart, workers=workers, fresh_table=fresh_table)
        if report.already_complete:
            bar.update(total - bar.n)
    if report.already_complete:
        print(f"{path.name}: already imported ({report.households_skipped} households).", file=sys.stderr)
    else:
        resumed = f", resumed at line {report.resumed_from_line}" if report.resumed_from_line else ""
        print(
            f"{path.name}: {report.households_written} households imported{resumed}, "
            f"{len(report.errors)} rows rejected.",
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
    if args.local:
        with local_store("dynamodb-local", Path(args.data_dir), args.table):
            yield
    elif args.endpoint_url:
        configure_environment(args.table, args.endpoint_url)
        yield
    else:
        from shared import store
        from shared.settings import settings

        if args.table and args.table != os.environ.get("TABLE_NAME"):
            os.environ["TABLE_NAME"] = args.table  # the table named, not the environment's
            settings.cache_clear()
        store.bind(settings())
        yield


def add_target_arguments(parser: argparse.ArgumentParser, table_flag: str = "--table") -> None:
    parser.add_argument(table_flag, dest="table", default=os.environ.get("TABLE_NAME", LOCAL_TABLE))
    parser.add_argument("--endpoint-url", help="a DynamoDB endpoint, e.g. a running DynamoDB Local")
    parser.add_argument("--local", action="store_true", help="into the local service's data dir (not running)")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
