"""The officers' app (web/field/) in a real browser, against `census serve` on DynamoDB Local:
tests/browser/field.js drives Debian's Chromium through playwright-core on a phone-sized
window (sign in through the local OAuth stand-in, sync, offline visits and an interview, a
reload while offline, an expired token, a lost answer, a household that responded online
meanwhile, then a resident's report of a household the register missed resolved as not
found, then a new household found on no list enrolled offline and synced). This wrapper
prepares the worklist through the API, hands the script the tokens and households it needs,
and the script checks the table (and the audit trail) through the API afterwards.
Screenshots go to test-artifacts/field/screenshots/, like every browser test's: the ones in
docs/field-app/ are copied from there by hand after looking at them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from census_ops import tokens
from census_ops.register import RegisterHousehold, read_register
from census_ops.template import REPO_ROOT
from shared.nik import make_nik
from tests.browser.harness import call, require_browser, run_node, running_service
from tests.conftest import submission_body

SCRIPT = REPO_ROOT / "tests" / "browser" / "field.js"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "field"
SCREENSHOTS = ARTIFACTS / "screenshots"
OFFICER, SUPERVISOR, VILLAGE = "OFC-0001", "SPV-1671", "1671010"


@pytest.fixture(scope="module")
def field_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """40 households in one SLS shared by 8 officers: five households each."""
    data_dir = tmp_path_factory.mktemp("field-serve")
    with running_service(data_dir, "--households", "40", "--officers", "8", store="dynamodb-local") as running:
        # A first start serves at once and imports in the background: wait for the roster.
        deadline = time.monotonic() + 300
        while not any("Register and roster imported" in line for line in running["output"]):
            assert time.monotonic() < deadline, "the import did not finish:\n" + "".join(running["output"][-20:])
            time.sleep(0.5)
        yield running


def _kk_not_on_register(kk: str, register: dict[str, RegisterHousehold], skip: int = 0) -> str:
    """A KK of the same area that the register does not have (the `skip`-th such one)."""
    free = (candidate for n in range(9999, 0, -1) if (candidate := f"{kk[:12]}{n:04d}") not in register)
    for _ in range(skip):
        next(free)
    return next(free)


def test_an_officer_works_offline_and_every_record_is_filed_once(field_service: dict[str, Any]) -> None:
    require_browser()
    base, secret = field_service["url"], tokens.local_secret(field_service["data_dir"])
    supervisor = tokens.mint_token(SUPERVISOR, "supervisor", secret=secret)
    officer = tokens.mint_token(OFFICER, "officer", secret=secret)
    status, summary = call(f"{base}/v1/areas/{VILLAGE}/worklists", "POST", {}, supervisor)
    assert status == 201 and summary["households"] == 40
    status, page = call(f"{base}/v1/officers/me/worklist?limit=200", token=officer)
    kks = [entry["kk"] for entry in page["households"]]
    assert len(kks) >= 4, page
    with field_service["register"].open(newline="", encoding="utf-8") as stream:
        register = {h.kk: h for h in read_register(stream) if isinstance(h, RegisterHousehold)}
    households = [register[kk] for kk in kks[:4]]
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    config = {
        "base_url": base,
        "artifacts": str(ARTIFACTS),
        "screenshots": str(SCREENSHOTS),
        "officer": OFFICER,
        "officer_token": officer,
        "supervisor_token": supervisor,
        # Signed correctly but expired: what a phone holds after a shift spent offline.
        "expired_token": tokens.mint_token(OFFICER, "officer", secret=secret, ttl_seconds=60, now=an_hour_ago),
        "village": VILLAGE,
        "sls": households[0].sls_code,
        "households": [
            {"kk": h.kk, "head": next(m.name for m in h.members if m.relationship == "head")} for h in households
        ],
        # The fourth household answers online while the officer is offline.
        "online_response": submission_body(households[3]),
        # A household the register missed reports itself in the first household's SLS: whichever
        # officer holds that SLS resolves its case in the app (tokens for all, the script finds them).
        "officer_tokens": {
            f"OFC-{i:04d}": tokens.mint_token(f"OFC-{i:04d}", "officer", secret=secret) for i in range(1, 9)
        },
        "report": {
            "kk": _kk_not_on_register(households[0].kk, register),
            "nik": households[0].members[0].nik,
            "head_name": "Rahmat Hidayat",
            "address": "Jl. Kebun Bunga No. 12",
            "sls_code": households[0].sls_code,
            "phone": "0812 3456 7890",
        },
        # A KK of the same SLS that has a household but is not this officer's: a "new" one refused (409).
        "taken_kk": next(
            kk for kk, h in register.items() if h.sls_code == households[0].sls_code and kk not in set(kks)
        ),
        # A household on no list that the first officer meets in the same SLS and enrols there.
        "found": {
            "kk": _kk_not_on_register(households[0].kk, register, skip=1),
            "sls_code": households[0].sls_code,
            "address": "Jl. Kebun Bunga No. 14",
            "head": {
                "name": "Budi Santoso",
                "nik": make_nik(households[0].sls_code[:6], "male", date(1979, 3, 14), 9871),
                "birth_date": "1979-03-14",
            },
        },
    }
    run_node(SCRIPT, config, field_service["output"])
