"""`census`: the operations command line. Every command goes through the same domain and
storage code as the Lambda functions."""

from __future__ import annotations

import argparse
import hmac
import json
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from shared.ops import fieldwork_cli, tokens
from shared.ops.template import REPO_ROOT

DEFAULT_DATA_DIR = REPO_ROOT / ".data"
LOCAL_TABLE = "census-local"
DEMO_HOUSEHOLDS = 27_000  # the seed city's register


def _configure_environment(table: str, endpoint: str | None) -> None:
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
def _store(kind: str, data_dir: Path, table: str) -> Iterator[bool]:
    """DynamoDB Local persisted under data_dir, or moto in-process; table created from the
    template if absent. Yields whether it was created now (so it is empty)."""
    import boto3

    from shared.ops.template import create_table

    if kind == "memory":
        from moto import mock_aws

        with mock_aws():
            _configure_environment(table, None)
            yield create_table(boto3.client("dynamodb", region_name=os.environ["AWS_REGION"]), table)
        return
    from shared.ops.dynamodb_local import DynamoDBLocal

    data_dir.mkdir(parents=True, exist_ok=True)
    with DynamoDBLocal(data_dir=data_dir / "dynamodb", log_path=data_dir / "dynamodb-local.log") as engine:
        _configure_environment(table, engine.endpoint_url)
        yield create_table(engine.client(), table)


def _progress_bar(total: int, unit: str, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True)


def _count_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


def _import(path: Path, restart: bool = False, *, store: str = "dynamodb-local", fresh_table: bool = False) -> int:
    from shared.ops.importer import WORKERS, import_register

    total = _count_lines(path)
    with _progress_bar(total, "lines", "import register") as bar:

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


def cmd_demo_register(args: argparse.Namespace) -> int:
    from shared.register import write_demo_register

    out = Path(args.out)
    with _progress_bar(args.households, "households", "demo register") as bar:
        rows = write_demo_register(out, args.households, seed=args.seed, progress=lambda n: bar.update(n - bar.n))
        bar.update(args.households - bar.n)
    print(f"wrote {rows} people in {args.households} households to {out}", file=sys.stderr)
    return 0


@contextmanager
def target_store(args: argparse.Namespace) -> Iterator[None]:
    """The table an operations command works on: the local service's (--local), any
    DynamoDB endpoint (--endpoint-url), or AWS (TABLE_NAME and credentials from the
    environment)."""
    if args.local:
        with _store("dynamodb-local", Path(args.data_dir), args.table):
            yield
    elif args.endpoint_url:
        _configure_environment(args.table, args.endpoint_url)
        yield
    else:
        from shared import store
        from shared.settings import settings

        store.bind(settings())
        yield


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--table", default=os.environ.get("TABLE_NAME", LOCAL_TABLE))
    parser.add_argument("--endpoint-url", help="a DynamoDB endpoint, e.g. a running DynamoDB Local")
    parser.add_argument("--local", action="store_true", help="into the local service's data dir (not running)")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))


def cmd_import_register(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"census: no such file: {path}", file=sys.stderr)
        return 2
    with target_store(args):
        return _import(path, args.restart)


def _example_submission(register_path: Path, data_dir: Path) -> tuple[str, Path] | None:
    """A ready-to-send body for the register's first household, for the printed curl."""
    from shared.ops.examples import example_submission
    from shared.register import read_register

    with register_path.open(newline="", encoding="utf-8") as stream:
        household = next((h for h in read_register(stream) if not isinstance(h, list)), None)
    if household is None:
        return None
    example = data_dir / "example-submission.json"
    example.write_text(json.dumps(example_submission(household), indent=2))
    return household.kk, example


def _print_demo_tokens(roster: Path, secret: bytes) -> None:
    """Tokens for a few officers and supervisors of the roster, valid for 8 hours."""
    from shared.roster import RosterOfficer, read_roster

    with roster.open(newline="", encoding="utf-8") as stream:
        people = [p for p in read_roster(stream) if isinstance(p, RosterOfficer)]
    officers = [p for p in people if p.role == "officer"][:2]
    supervisors = sorted((p for p in people if p.role == "supervisor"), key=lambda p: len(p.areas[0]))[:2]
    if not officers and not supervisors:
        return
    print("Officer routes take 'Authorization: Bearer <token>'. Demo tokens (8 h):", file=sys.stderr)
    for person in [*officers, *supervisors]:
        token = tokens.mint_token(person.officer_id, person.role, secret=secret)
        print(f"  {person.role} {person.officer_id} ({' '.join(person.areas)}):\n    {token}", file=sys.stderr)
    print("  more: .venv/bin/census token officer|supervisor ID", file=sys.stderr)


def _interrupt(*_: object) -> None:
    """SIGTERM stops the service like Ctrl-C, so DynamoDB Local is stopped too; a second
    signal must not interrupt that clean-up."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def cmd_serve(args: argparse.Namespace) -> int:
    from shared.ops.local_api import LocalApi
    from shared.ops.template import api_routes

    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    register = Path(args.register) if args.register else data_dir / "demo-register.csv"
    if not args.register and not register.exists():
        cmd_demo_register(argparse.Namespace(out=register, households=args.households, seed=2020))
    roster = Path(args.roster) if args.roster else data_dir / "demo-roster.csv"
    if not args.roster and not roster.exists():
        from shared.ops.fieldwork_cli import sls_codes_of
        from shared.roster import write_demo_roster

        write_demo_roster(roster, sls_codes_of(register), officers=args.officers)
    secret = tokens.local_secret(data_dir)
    # Residents' session tokens get a key of their own, derived from the local secret (in AWS
    # it is a Secrets Manager secret); set before _store() reads the settings.
    os.environ.setdefault("SESSION_SIGNING_KEY", hmac.new(secret, b"resident-sessions", "sha256").hexdigest())
    with _store(args.store, data_dir, LOCAL_TABLE) as fresh_table:
        _import(register, store=args.store, fresh_table=fresh_table)
        fieldwork_cli.import_roster_file(roster)
        api = LocalApi(
            api_routes(),
            port=args.port,
            serialize=args.store == "memory",
            authorize=lambda token: tokens.verify_token(token, secret=secret),
            site_dir=REPO_ROOT / "web",  # the resident web page at /, as CloudFront serves it
        )
        example = _example_submission(register, data_dir)
        print(f"\nCensus API on {api.url}  (store: {args.store}, data: {data_dir})", file=sys.stderr)
        if os.environ.get("DYNAMODB_ENDPOINT_URL"):  # for `census load --endpoint-url`, which checks the table
            print(f"DynamoDB Local on {os.environ['DYNAMODB_ENDPOINT_URL']}, table {LOCAL_TABLE}", file=sys.stderr)
        print(f"Resident web page: {api.url}/", file=sys.stderr)
        if example:
            kk, body = example
            print(
                "Try:\n"
                f"  curl -s -X POST {api.url}/v1/households/{kk}/responses \\\n"
                "       -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' \\\n"
                f"       --data @{body}",
                file=sys.stderr,
            )
        _print_demo_tokens(roster, secret)
        engine = " and DynamoDB Local" if args.store == "dynamodb-local" else ""
        print(f"Ctrl-C stops the service{engine}.\n", file=sys.stderr)
        signal.signal(signal.SIGTERM, _interrupt)
        with suppress(KeyboardInterrupt):
            api.serve_forever()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="census", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API locally on DynamoDB Local with a register")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--register", help="register CSV to import (default: a generated demo register)")
    serve.add_argument("--households", type=int, default=DEMO_HOUSEHOLDS, help="size of the demo register")
    serve.add_argument("--roster", help="officer roster CSV to import (default: a demo roster for the register)")
    serve.add_argument("--officers", type=int, default=2000, help="size of the demo roster")
    serve.add_argument("--store", choices=["dynamodb-local", "memory"], default="dynamodb-local")
    serve.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser("demo-register", help="write a synthetic register CSV")
    demo.add_argument("--households", type=int, default=DEMO_HOUSEHOLDS)
    demo.add_argument("--seed", type=int, default=2020)
    demo.add_argument("--out", required=True)
    demo.set_defaults(func=cmd_demo_register)

    imp = commands.add_parser("import-register", help="import a register CSV (idempotent, resumable)")
    imp.add_argument("file")
    add_target_arguments(imp)
    imp.add_argument("--restart", action="store_true", help="ignore the checkpoint and import from line 1")
    imp.set_defaults(func=cmd_import_register)
    tokens.register(commands)
    fieldwork_cli.register(commands)
    from shared.ops import export, smoke  # deployment operations: their own modules

    export.register(commands)
    smoke.register(commands)
    from shared.ops import load, openapi  # robustness checks: the load run and the OpenAPI document

    load.register(commands)
    openapi.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
