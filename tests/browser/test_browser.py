"""The resident web page in a real browser, against the real local service: `census serve`
(moto in-process, the demo register) serves the page and the API on one origin, and
tests/browser/resident.js drives Debian's Chromium through playwright-core on a phone-sized
window. Screenshots and the proof PDF land in test-artifacts/browser/.
What every browser test needs and shares: tests/browser/harness.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from census_ops.bench.household import DRAFT, RESIDENT_REQUESTS, SESSIONS, SUBMIT
from census_ops.template import REPO_ROOT
from tests.browser.harness import ARTIFACTS, require_browser, run_node

SCRIPT = REPO_ROOT / "tests" / "browser" / "resident.js"
MEMBERS = 5


def households_of_size(register: Path, size: int) -> list[dict[str, Any]]:
    """The register's households with exactly `size` members, in file order."""
    households: dict[str, list[dict[str, str]]] = {}
    with register.open(newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            households.setdefault(row["kk"], []).append(
                {k: row[k] for k in ("nik", "name", "sex", "birth_date", "relationship")}
            )
    return [{"kk": kk, "members": members} for kk, members in households.items() if len(members) == size]


def test_a_resident_completes_the_census_in_the_browser(service: dict[str, Any]) -> None:
    require_browser()
    households = households_of_size(service["register"], MEMBERS)
    assert len(households) >= 2, "the demo register has fewer than two 5-member households"
    # Three more (of 2 to 4 members) for the races around draft saves and sign-out.
    others = [h for size in (3, 4, 2) for h in households_of_size(service["register"], size)][:3]
    assert len(others) == 3, "the demo register has too few households of 2 to 4 members"
    config = {"base_url": service["url"], "artifacts": str(ARTIFACTS), "households": households[:2], "others": others}
    output = run_node(SCRIPT, config, service["output"])
    figures = json.loads(output.split("FIGURES ", 1)[1].splitlines()[0])
    requests = figures["five_member_requests"]
    # Drafts reach the server once per completed card, on "review" and when the page is hidden:
    # a resident who pauses between answers (the test pauses longer than the old 1.2 s autosave
    # delay) costs no more requests than one who does not (docs/performance.md, section 7).
    assert figures["five_member_pauses"] >= MEMBERS
    assert 1 <= requests["PUT /v1/session/household/draft"] <= MEMBERS + 2
    # `make bench` prices a household by RESIDENT_REQUESTS: the page must make exactly those
    # (besides the test's own refused password and deliberately lost answer; the proof and the
    # status check are made when the resident asks, outside this count).
    extras = {SESSIONS: 1, SUBMIT: 1}
    for route in (SESSIONS, DRAFT, SUBMIT):
        assert requests.get(route, 0) - extras.get(route, 0) == RESIDENT_REQUESTS[route], (route, requests)
