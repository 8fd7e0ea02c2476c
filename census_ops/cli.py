"""`census`: the operations command line. Every command goes through the same domain and
store code as the Lambda functions."""

from __future__ import annotations

import argparse
import hmac
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from census_ops import fieldwork_cli, tokens
from census_ops.runtime import (
    DEFAULT_DATA_DIR,
    DEMO_HOUSEHOLDS,
    LOCAL_TABLE,
    add_target_arguments,
    import_register_file,
    local_store,
    target_store,
    write_demo_register_file,
)

if TYPE_CHECKING:
    from census_ops.local_api import LocalApi, LocalStaffAuth


def cmd_demo_register(args: argparse.Namespace) -> int:
    return write_demo_register_file(Path(args.out), args.households, args.seed)


def cmd_import_register(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"census: no such file: {path}", file=sys.stderr)
        return 2
    with target_store(args):
        return import_register_file(path, args.restart)


def cmd_snapshot(args: argparse.Namespace) -> int:
    """The daily progress snapshot the schedule takes in AWS (ConsoleFunction), taken now."""
    from shared.snapshots import take_snapshots

    with target_store(args):
        result = take_snapshots(args.day)
    print(f"snapshot {result['day']}: {result['areas']} areas", file=sys.stderr)
    return 0


def cmd_rollup(args: argparse.Namespace) -> int:
    """The large areas' rollup the schedule refreshes every 5 minutes in AWS, refreshed now."""
    from shared.rollups import refresh_rollups

    with target_store(args):
        result = refresh_rollups()
    print(
        f"rollup as of {result['as_of']}: {result['areas']} areas, {result['sls']} SLS"
        f" ({result['skipped']} left as a newer refresh wrote them, {result['failed']} province(s) failed"
        f"{': ' + ', '.join(result['failed_provinces']) if result['failed'] else ''})",
        file=sys.stderr,
    )
    return 1 if result["failed"] else 0


def _refresh_rollups_every(
    seconds: float, api: LocalApi, importing: threading.Thread | None, stop: threading.Event
) -> None:
    """`census serve`'s stand-in for the ProgressRollup schedule: once the imports are done,
    then every `seconds` until `stop` (one refresh at a time with the requests on moto:
    invoke_lock)."""
    from census_ops.failures import explain
    from shared.rollups import refresh_rollups

    def loop() -> None:
        if importing is not None:
            importing.join()
        while not stop.is_set():
            try:
                with api.invoke_lock:
                    result = refresh_rollups()
                if result["failed"]:
                    failed = ", ".join(result["failed_provinces"])
                    print(f"census: the progress rollup failed for province(s) {failed}", file=sys.stderr)
            except Exception as error:  # the progress route answers live meanwhile
                if not stop.is_set():  # a store stopping under a refresh is no news
                    print(f"census: the progress rollup failed: {explain(error) or repr(error)}", file=sys.stderr)
            stop.wait(seconds)

    threading.Thread(target=loop, name="rollup", daemon=True).start()


def _poll_stream(api: LocalApi, data_dir: Path | None, stop: threading.Event) -> None:
    """`census serve`'s stand-in for the ProgressStreamMapping (template.yaml): poll the
    table's stream and hand its records, in Lambda's shape, to the same consumer AWS runs
    (functions/progress_stream), about every 0.2 s, and once more after each write route's
    answer (before it is sent: a page that reads the figures next sees them, where AWS
    shows them a second later); the positions are kept in the data directory, so a restart
    resumes where it stopped (on moto: under invoke_lock)."""
    from census_ops.failures import explain
    from census_ops.stream_poller import local_poller, poll_forever
    from shared.progress_stream import MAXIMUM_RECORD_AGE_SECONDS
    from shared.settings import settings

    poller = local_poller(
        settings().table_name,
        max_record_age_seconds=MAXIMUM_RECORD_AGE_SECONDS,
        positions_file=None if data_dir is None else data_dir / "stream-positions.json",
    )

    def failed(error: BaseException) -> None:
        reason = explain(error) or repr(error)
        print(f"census: the progress stream consumer failed (retrying): {reason}", file=sys.stderr)

    def after_write() -> None:
        with api.invoke_lock:
            poller.drain()

    api.after_write = after_write
    threading.Thread(
        target=poll_forever,
        args=(poller, stop),
        kwargs={"lock": api.invoke_lock, "on_error": failed},
        name="progress-stream",
        daemon=True,
    ).start()


def _example_submission(register_path: Path, data_dir: Path) -> tuple[str, Path] | None:
    """A ready-to-send body for the register's first household, for the printed curl."""
    from census_ops.examples import example_submission
    from census_ops.register import read_register

    with register_path.open(newline="", encoding="utf-8") as stream:
        household = next((h for h in read_register(stream) if not isinstance(h, list)), None)
    if household is None:
        return None
    example = data_dir / "example-submission.json"
    example.write_text(json.dumps(example_submission(household), indent=2))
    return household.kk, example


def _print_demo_tokens(roster: Path, secret: bytes) -> None:
    """Tokens for a few officers and supervisors of the roster, valid for 8 hours."""
    from census_ops.roster import RosterOfficer, read_roster

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


def _first_officer(roster: Path) -> str:
    from census_ops.roster import RosterOfficer, read_roster

    with roster.open(newline="", encoding="utf-8") as stream:
        officer = next((p for p in read_roster(stream) if isinstance(p, RosterOfficer) and p.role == "officer"), None)
    return officer.officer_id if officer else "-"


def _interrupt(*_: object) -> None:
    """SIGTERM stops the service like Ctrl-C, so DynamoDB Local is stopped too; a second
    signal must not interrupt that clean-up."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _staff_auth(secret: bytes) -> LocalStaffAuth:
    """The local stand-in for the staff user pool's hosted sign-in: an officer id from the
    roster gets the locally signed ID token of their roster role."""
    from census_ops.local_api import LocalStaffAuth
    from shared import store

    def mint(officer_id: str) -> str | None:
        profile = store.get_officer(officer_id)
        if profile is None or profile.role not in tokens.ROLES:
            return None
        return tokens.mint_token(officer_id, str(profile.role), secret=secret)

    return LocalStaffAuth(mint, client_id=tokens.LOCAL_AUDIENCE)


def staff_config_files(auth: LocalStaffAuth) -> dict[str, bytes]:
    """/field/config.json and /console/config.json: where the staff apps sign in, and when the
    field phase ends (FIELD_PHASE_END; the app wipes its data then)."""
    config = json.dumps(auth.config(os.environ.get("FIELD_PHASE_END") or None)).encode()
    return {"/field/config.json": config, "/console/config.json": config}


def _import_areas_quietly(areas: Path) -> None:
    from census_ops.area_list import import_areas_file
    from census_ops.failures import explain

    try:
        import_areas_file(areas)
    except Exception as error:  # the service keeps serving; a restart imports them again
        print(f"census: the area list import stopped: {explain(error) or repr(error)}", file=sys.stderr)


FIRST_HOUSEHOLDS_WAIT_SECONDS = 15.0  # then serve anyway: they land moments later


def _load_handlers() -> None:
    """Import every function now, as containers would (each binds the store with the Lambda
    client settings at import), then give this local process the operations' patient client:
    a JVM still warming up on a busy laptop must slow a request down, not fail it."""
    from census_ops.runtime import PATIENT
    from census_ops.template import api_routes, load_handler

    for route in api_routes():
        load_handler(route)
    PATIENT.bind()


def _start_imports(
    register: Path, roster: Path, areas: Path, *, store: str, fresh_table: bool
) -> threading.Thread | None:
    """The area list, register and roster imports. A first start imports in the background
    (households answer as they land, the register's first ones - the printed curl's - before
    the API answers; the area names, a few hundred, alongside); a restart finds the import
    done and skips it. On moto (one thread at a time) or after a finished import: in the
    foreground. Resumable either way: a stop in the middle resumes from the checkpoint on
    the next start."""
    from census_ops.area_list import import_areas_file
    from census_ops.importer import import_progress

    progress = None if store == "memory" else import_progress(register)
    if store == "memory" or progress == "done":
        import_areas_file(areas)
        import_register_file(register, store=store, fresh_table=fresh_table)
        fieldwork_cli.import_roster_file(roster)
        return None
    threading.Thread(target=_import_areas_quietly, args=(areas,), name="import-areas", daemon=True).start()
    landed = threading.Event()
    if progress == "partial":  # a restart in the middle: the first households are in already
        landed.set()
    began = time.monotonic()

    def work() -> None:
        from census_ops.failures import explain

        try:
            import_register_file(register, store=store, fresh_table=fresh_table, landed=landed.set)
            fieldwork_cli.import_roster_file(roster)
            print(f"Register and roster imported in {time.monotonic() - began:.0f} s.", file=sys.stderr)
        except Exception as error:  # the service keeps serving what has landed
            print(
                f"census: the import stopped: {explain(error) or repr(error)}; "
                "restart `census serve` to resume it from its checkpoint",
                file=sys.stderr,
            )
        finally:
            landed.set()

    thread = threading.Thread(target=work, name="import", daemon=True)
    thread.start()
    landed.wait(FIRST_HOUSEHOLDS_WAIT_SECONDS)
    return thread


def _demo_files(args: argparse.Namespace, data_dir: Path) -> tuple[Path, Path, Path]:
    """The register, roster and area list to load: the ones given, or demo ones generated
    once into data_dir (a restart finds them there)."""
    register = Path(args.register) if args.register else data_dir / "demo-register.csv"
    if not args.register and not register.exists():
        write_demo_register_file(register, args.households)
    roster = Path(args.roster) if args.roster else data_dir / "demo-roster.csv"
    areas = data_dir / "demo-areas.csv"
    missing = (not args.roster and not roster.exists()) or not areas.exists()
    sls_codes = fieldwork_cli.sls_codes_of(register) if missing else []
    if not args.roster and not roster.exists():
        from census_ops.roster import write_demo_roster

        write_demo_roster(roster, sls_codes, officers=args.officers)
    if not areas.exists():
        from census_ops.area_list import write_demo_areas

        write_demo_areas(areas, sls_codes)
    return register, roster, areas


def cmd_serve(args: argparse.Namespace) -> int:
    """Listen at once (the resident page, the officers' app and the console are there in the
    first second, on a restart too), then start DynamoDB Local and the imports behind it: API
    requests made meanwhile wait for the store (LocalApi's `ready`)."""
    from census_ops.local_api import LocalApi
    from census_ops.site import site_mounts
    from census_ops.template import api_routes
    from shared.progress import ROLLUP_EVERY_SECONDS, ROLLUP_STALE_SECONDS  # the schedule's period, the stale bound

    rollup_every = ROLLUP_EVERY_SECONDS if args.rollup_every is None else args.rollup_every
    if rollup_every > ROLLUP_STALE_SECONDS:
        print(
            f"census: --rollup-every {rollup_every:g} is longer than the {ROLLUP_STALE_SECONDS} s after which a rollup"
            f" is stale (every large area would answer live); give at most {ROLLUP_STALE_SECONDS}, or 0 for never",
            file=sys.stderr,
        )
        return 2
    began = time.monotonic()
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = tokens.local_secret(data_dir)
    # Residents' session tokens get a key of their own, derived from the local secret (in AWS
    # it is a Secrets Manager secret); set before local_store() reads the settings.
    os.environ.setdefault("SESSION_SIGNING_KEY", hmac.new(secret, b"resident-sessions", "sha256").hexdigest())
    staff_auth = _staff_auth(secret)
    ready = threading.Event()
    api = LocalApi(
        api_routes(),
        port=args.port,
        serialize=args.store == "memory",
        authorize=lambda token: tokens.verify_token(token, secret=secret),
        static=site_mounts(),  # the resident web page at /, the API reference at /api/, as CloudFront serves them
        site_files=staff_config_files(staff_auth),  # in AWS the deploy step uploads them (docs/field-app.md)
        staff_auth=staff_auth,
        ready=ready,
        # moto imports in the foreground (one thread at a time), minutes for the full demo city
        ready_wait_seconds=90.0 if args.store == "dynamodb-local" else 900.0,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    api.start_in_thread()
    rollups_stop = threading.Event()
    print(f"\nCensus on {api.url}/ - starting (the API answers once the store is up)\n", file=sys.stderr)
    try:
        with suppress(KeyboardInterrupt):
            # The demo files are written while DynamoDB Local's JVM starts (a first start only).
            files: list[tuple[Path, Path, Path] | BaseException] = []

            def write_files() -> None:
                try:
                    files.append(_demo_files(args, data_dir))
                except BaseException as error:  # raised again below, where the CLI reports it in one line
                    files.append(error)

            writer = threading.Thread(target=write_files, name="demo-files", daemon=True)
            writer.start()
            with local_store(args.store, data_dir, LOCAL_TABLE) as fresh_table:
                try:
                    _load_handlers()
                    writer.join()
                    if isinstance(files[0], BaseException):
                        raise files[0]
                    register, roster, areas = files[0]
                    importing = _start_imports(register, roster, areas, store=args.store, fresh_table=fresh_table)
                    if rollup_every > 0:
                        _refresh_rollups_every(rollup_every, api, importing, rollups_stop)
                    _poll_stream(api, data_dir if args.store == "dynamodb-local" else None, rollups_stop)
                    ready.set()
                    _print_welcome(api.url, args.store, data_dir, register, roster, secret, importing is not None)
                    print(f"Ready in {time.monotonic() - began:.0f} s.\n", file=sys.stderr)
                    threading.Event().wait()  # until Ctrl-C or SIGTERM
                finally:
                    rollups_stop.set()
                    api.shutdown()  # no request may reach a store that is stopping
    finally:
        api.shutdown()  # idempotent; the store may never have started
    return 0


def _print_welcome(
    url: str, store: str, data_dir: Path, register: Path, roster: Path, secret: bytes, importing: bool
) -> None:
    example = _example_submission(register, data_dir)
    print(f"\nCensus API on {url}  (store: {store}, data: {data_dir})", file=sys.stderr)
    if os.environ.get("DYNAMODB_ENDPOINT_URL"):  # for `census load --endpoint-url`, which checks the table
        print(f"DynamoDB Local on {os.environ['DYNAMODB_ENDPOINT_URL']}, table {LOCAL_TABLE}", file=sys.stderr)
    print(f"Resident web page: {url}/   API reference: {url}/api/", file=sys.stderr)
    print(
        f"Officers' app: {url}/field/  (sign in with an officer id of {roster.name}, e.g. {_first_officer(roster)})",
        file=sys.stderr,
    )
    print(f"Supervisors' console: {url}/console/", file=sys.stderr)
    if example:
        kk, body = example
        print(
            "Try:\n"
            f"  curl -s -X POST {url}/v1/households/{kk}/responses \\\n"
            "       -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' \\\n"
            f"       --data @{body}",
            file=sys.stderr,
        )
    _print_demo_tokens(roster, secret)
    if importing:
        print(
            "Importing the register in the background: households answer as they land "
            "(the one above already has). The bar shows the rest.",
            file=sys.stderr,
        )
    engine = " and DynamoDB Local" if store == "dynamodb-local" else ""
    print(f"Ctrl-C stops the service{engine}.", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="census",
        description=__doc__,
        epilog="--debug (or CENSUS_DEBUG=1): a traceback instead of a one-line error",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API locally on DynamoDB Local with a register")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--register", help="register CSV to import (default: a generated demo register)")
    serve.add_argument("--households", type=int, default=DEMO_HOUSEHOLDS, help="size of the demo register")
    serve.add_argument("--roster", help="officer roster CSV to import (default: a demo roster for the register)")
    serve.add_argument("--officers", type=int, default=2000, help="size of the demo roster")
    serve.add_argument("--store", choices=["dynamodb-local", "memory"], default="dynamodb-local")
    serve.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    serve.add_argument(
        "--rollup-every",
        type=float,
        default=None,
        help="seconds between refreshes of the large areas' progress rollup (default: the schedule's, 300; 0: never;"
        " at most the 900 after which a rollup is stale)",
    )
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
    snapshot = commands.add_parser("snapshot", help="take the daily progress snapshot of every area now")
    snapshot.add_argument("--day", help="the day to file it under (YYYY-MM-DD; default today, UTC)")
    add_target_arguments(snapshot)
    snapshot.set_defaults(func=cmd_snapshot)
    rollup = commands.add_parser("rollup", help="refresh the regencies' and provinces' progress rollup now")
    add_target_arguments(rollup)
    rollup.set_defaults(func=cmd_rollup)
    tokens.register(commands)
    fieldwork_cli.register(commands)
    from census_ops import area_list  # the area master list by name

    area_list.register(commands)
    from census_ops import analytics_cli, export, smoke  # deployment operations: their own modules

    export.register(commands)
    analytics_cli.register(commands)
    smoke.register(commands)
    from census_ops import load, openapi, recount, soak  # robustness: load, soak, counters, OpenAPI document

    load.register(commands)
    soak.register(commands)
    recount.register(commands)
    openapi.register(commands)
    from census_ops import progress_timing

    progress_timing.register(commands)
    from census_ops import startup_timing  # how soon `make run` answers: a first start and a restart

    startup_timing.register(commands)
    from census_ops import site  # the static site (web/ + the API reference) for the bucket

    site.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command. An expected failure (DynamoDB Local not starting, an endpoint that
    is unreachable or does not answer, a bad file) ends with one line, `census: <what
    happened>; <what to do>`, and exit code 1; `--debug` (anywhere on the command line) or
    CENSUS_DEBUG=1 shows the traceback instead."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments or os.environ.get("CENSUS_DEBUG", "") not in {"", "0"}
    args = build_parser().parse_args([a for a in arguments if a != "--debug"])
    try:
        return int(args.func(args))
    except Exception as error:
        from census_ops.failures import explain

        message = explain(error)
        if message is None or debug:
            raise
        print(f"census: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
