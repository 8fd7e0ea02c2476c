"""A family whose card is missing from the register, as a new user would meet the service on
`census serve`: it reports itself from the sign-in page, sees the officer's visit planned,
and after the officer's enrolment signs in and corrects its response online. The browser
part is tests/browser/report.js (Chromium via playwright-core, axe-core on each view); the
supervisor's generation and the officer's enrolment go through the API as their apps would."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from census_ops import tokens
from census_ops.template import REPO_ROOT
from shared.nik import make_kk, make_nik
from tests.browser.harness import ARTIFACTS, call, require_browser, run_node

SCRIPT = REPO_ROOT / "tests" / "browser" / "report.js"


def _browser(served: dict[str, Any], **config: Any) -> list[str]:
    return run_node(
        SCRIPT, {"base_url": served["url"], "artifacts": str(ARTIFACTS), **config}, timeout=300
    ).splitlines()


def _post(served: dict[str, Any], path: str, token: str, body: Any) -> tuple[int, Any]:
    return call(served["url"] + path, "POST", body, token)


def test_a_missing_family_reports_is_visited_enrolled_and_corrects_online(service: dict[str, Any]) -> None:
    require_browser()
    kk, head_nik = make_kk("167101", date(2025, 12, 1), 8801), make_nik("167101", "male", date(1979, 5, 6), 8801)
    lines = _browser(service, phase="report", kk=kk, nik=head_nik)
    reference = next(line.split()[1] for line in lines if line.startswith("REFERENCE "))
    sls = next(line.split()[1] for line in lines if line.startswith("SLS "))
    data_dir: Path = service["register"].parent
    secret = tokens.local_secret(data_dir)
    # The city's supervisor generates the district's worklists: the case goes to the SLS's officer.
    supervisor = tokens.mint_token("SPV-1671", "supervisor", secret=secret)
    status, _ = _post(service, f"/v1/areas/{sls[:7]}/worklists", supervisor, {})
    assert status == 201
    _browser(service, phase="planned", reference=reference)
    with (data_dir / "demo-roster.csv").open(newline="", encoding="utf-8") as stream:
        officer = next(r["officer_id"] for r in csv.DictReader(stream) if sls in r["area_codes"].split(";"))
    member = {
        "nik": head_nik, "name": "Rahmat Hidayat", "relationship": "head", "sex": "male", "birth_date": "1979-05-06",
        "marital_status": "married", "religion": "islam", "education": "senior_secondary", "citizenship": "WNI",
        "lives_at_kk_address": True, "current_area_code": None,
    }  # fmt: skip
    body = {"outcome": "enrolled", "response": {"respondent_nik": head_nik, "members": [member]}}
    status, enrolled = _post(
        service, f"/v1/reports/{reference}/resolution", tokens.mint_token(officer, "officer", secret=secret), body
    )
    assert status == 201 and enrolled["kk"] == kk and enrolled["version"] == 1
    _browser(service, phase="enrolled", reference=reference, kk=kk, nik=head_nik)
