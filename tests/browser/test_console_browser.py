"""The supervisors' console in a real browser against the real local service: `census serve`
on DynamoDB Local with a demo register, after demo-fieldwork-like activity done through the
API (online responses, some flagged for review, passwords set, the city's worklists, visits
and an interview, daily snapshots over three days, the large areas' rollup refreshed).
tests/browser/console.js then drives Debian's Chromium through playwright-core on a
laptop-sized window and checks each figure against the API. Screenshots of every view go to
test-artifacts/console/screenshots/; the ones in docs/console/ are copied from there by hand
after looking at them.

Needs /usr/bin/chromium, node, node_modules/playwright-core + axe-core, Java for DynamoDB Local."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from census_ops import tokens
from census_ops.register import RegisterHousehold, read_register
from census_ops.template import REPO_ROOT
from tests.browser.harness import call, require_browser, run_node, running_service
from tests.conftest import submission_body

SCRIPT = REPO_ROOT / "tests" / "browser" / "console.js"
SHOTS = REPO_ROOT / "test-artifacts" / "console" / "screenshots"  # docs/console/ has copies, made by hand after looking
HOUSEHOLDS, OFFICERS = 300, 30


def _preload(data_dir: Path) -> None:
    """The demo register and roster imported into the service's DynamoDB Local data before it
    starts, by one writer with patient timeouts (a loaded machine's DynamoDB Local answers a
    batch write slower than the service's 2-second read timeout); `census serve` then finds
    them imported and only checks."""
    from census_ops.dynamodb_local import DynamoDBLocal
    from census_ops.fieldwork_cli import sls_codes_of
    from census_ops.importer import import_register, import_roster
    from census_ops.register import write_demo_register
    from census_ops.roster import write_demo_roster
    from census_ops.runtime import LOCAL_TABLE, configure_environment
    from census_ops.template import create_table
    from shared import store
    from shared.settings import settings

    register, roster = data_dir / "demo-register.csv", data_dir / "demo-roster.csv"
    write_demo_register(register, HOUSEHOLDS, seed=2020)
    write_demo_roster(roster, sls_codes_of(register), officers=OFFICERS)
    saved = dict(os.environ)
    try:
        with DynamoDBLocal(data_dir=data_dir / "dynamodb", log_path=data_dir / "dynamodb-local.log") as engine:
            configure_environment(LOCAL_TABLE, engine.endpoint_url)
            create_table(engine.client(), LOCAL_TABLE)
            store.bind(settings(), connect_timeout_seconds=10, read_timeout_seconds=60)
            assert not import_register(register, workers=1, fresh_table=True).errors
            assert not import_roster(roster).errors
    finally:
        os.environ.clear()
        os.environ.update(saved)
        settings.cache_clear()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`census serve` on DynamoDB Local (its own data dir) with a small demo register and roster.
    On a loaded machine DynamoDB Local can time out during the register import: the import is
    resumable, so the service is started again on the same data (at most eight times)."""
    data_dir = tmp_path_factory.mktemp("console-serve")
    _preload(data_dir)
    arguments = ("--households", str(HOUSEHOLDS), "--officers", str(OFFICERS))
    with running_service(data_dir, *arguments, store="dynamodb-local", attempts=8) as running:
        yield running


def _roster_officers(path: Path) -> list[str]:
    import csv

    with path.open(newline="", encoding="utf-8") as stream:
        return [row["officer_id"] for row in csv.DictReader(stream) if row["role"] == "officer"]


def _flagged(household: RegisterHousehold) -> dict[str, Any]:
    """A response leaving out register members without a reason: accepted, needs review."""
    body = submission_body(household)
    body["members"] = [m for m in body["members"] if m["relationship"] == "head"]
    return body


def _activity(service: dict[str, Any]) -> dict[str, Any]:
    """Demo fieldwork through the API, with a snapshot at the end of each of three days."""
    url, data_dir = service["url"], Path(service["data_dir"])
    secret = tokens.local_secret(data_dir)
    city_token = tokens.mint_token("SPV-1671", "supervisor", secret=secret)
    with (data_dir / "demo-register.csv").open(newline="", encoding="utf-8") as stream:
        households = [h for h in read_register(stream) if not isinstance(h, list)]
    multi = [h for h in households if len(h.members) >= 3 and any(m.relationship == "head" for m in h.members)]
    flagged = multi[:8]
    passwords = multi[8:10]
    online = [h for h in households if h not in flagged and h not in passwords]
    snapshot_base = [
        sys.executable,
        "-m",
        "census_ops.cli",
        "snapshot",
        "--endpoint-url",
        service["endpoint"],
        "--table",
        "census-local",
    ]
    today = datetime.now(UTC).date()
    thirds = [
        online[: len(online) // 5],
        online[len(online) // 5 : len(online) // 3],
        online[len(online) // 3 : len(online) // 2],
    ]
    for back, batch in zip((3, 2, 1), thirds, strict=True):
        for household in batch:
            status, answer = call(f"{url}/v1/households/{household.kk}/responses", "POST", submission_body(household))
            assert status in (200, 201), answer
        day = (today - timedelta(days=back)).isoformat()
        subprocess.run([*snapshot_base, "--day", day], check=True, cwd=REPO_ROOT, capture_output=True, timeout=300)
    for household in flagged:
        status, answer = call(f"{url}/v1/households/{household.kk}/responses", "POST", _flagged(household))
        assert (status, answer["status"]) == (201, "needs_review"), answer
    for household in passwords:
        body = {"kk": household.kk, "nik": household.members[0].nik, "new_password": "Kopi-Tubruk-1945"}
        assert call(f"{url}/v1/sessions", "POST", body)[0] == 201
    status, generation = call(f"{url}/v1/areas/1671/worklists", "POST", {}, city_token)
    assert status == 201, generation
    # Field work: a failed visit, an interview and an address not found, by the officers holding them.
    visited: list[str] = []
    for row in generation["per_officer"]:
        if len(visited) == 3:
            break
        officer = tokens.mint_token(row["officer_id"], "officer", secret=secret)
        status, page = call(f"{url}/v1/officers/me/worklist?limit=50", token=officer)
        pending = [e for e in page["households"] if e["status"] == "pending"]
        if not pending:
            continue
        household = next(h for h in households if h.kk == pending[0]["kk"])
        interview = {"outcome": "interviewed", "response": submission_body(household)}
        visit = [{"outcome": "not_home"}, interview, {"outcome": "address_not_found"}][len(visited)]
        status, answer = call(f"{url}/v1/households/{household.kk}/visits", "POST", visit, officer)
        assert status == 201, answer
        visited.append(household.kk)
    assert len(visited) == 3, "a failed visit, an interview and an address not found"
    # A household the register missed reports itself: an open report in the figures.
    known = {h.kk for h in households}
    first = households[0]
    missing = next(kk for n in range(9999, 0, -1) if (kk := f"{first.kk[:12]}{n:04d}") not in known)
    report = {
        "kk": missing,
        "nik": first.members[0].nik,
        "head_name": "Rahmat Hidayat",
        "address": "Jl. Kebun Bunga No. 12",
    }
    status, answer = call(f"{url}/v1/reports", "POST", {**report, "sls_code": first.sls_code})
    assert status == 202, answer
    # The large areas' rollup as the 5-minute schedule takes it (census serve's timer does too):
    # the city's figures as of now, with this activity in them.
    rollup = [*snapshot_base[:3], "rollup", *snapshot_base[4:]]
    subprocess.run(rollup, check=True, cwd=REPO_ROOT, capture_output=True, timeout=300)
    return {
        "city_supervisor": "SPV-1671",
        "city_token": city_token,
        "secret_hex": secret.hex(),
        "flagged": [{"kk": h.kk, "sls_code": h.sls_code, "body": _flagged(h)} for h in flagged],
        "passwords": [{"kk": h.kk, "nik": h.members[0].nik, "sls_code": h.sls_code} for h in passwords],
        "visited": visited,
        "officer_tokens": {
            officer: tokens.mint_token(officer, "officer", secret=secret)
            for officer in _roster_officers(data_dir / "demo-roster.csv")
        },
        "district_tokens": {},
    }


def test_supervisors_run_the_census_from_the_console(service: dict[str, Any]) -> None:
    require_browser()
    activity = _activity(service)
    secret = bytes.fromhex(activity["secret_hex"])
    districts = sorted({f["sls_code"][:7] for f in activity["flagged"]})
    activity["district_tokens"] = {d: tokens.mint_token(f"SPV-{d}", "supervisor", secret=secret) for d in districts}
    config = {"base_url": service["url"], "shots": str(SHOTS), **activity}
    run_node(SCRIPT, config, service["output"], variable="CENSUS_CONSOLE_CONFIG", timeout=1200)
