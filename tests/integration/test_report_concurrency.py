"""Enrolling a reported household concurrently, on DynamoDB Local (moto does not keep
conditional transactions atomic across threads): eight officers' apps sending the same
enrolment at the same instant (each with its own Idempotency-Key) create ONE household,
one response version and one receipt, close the report once, move each progress figure
exactly once and write one audit record. And the rate limits hold at a window's end."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from census_ops.area_list import import_areas, write_demo_areas
from census_ops.importer import import_roster
from census_ops.register import RegisterHousehold
from shared import store
from shared.nik import make_kk, make_nik
from tests.conftest import drain_stream, table_items
from tests.integration.conftest import race
from tests.integration.scenario import call, who

pytestmark = pytest.mark.dynamodb_local


def test_eight_concurrent_enrolments_of_one_report_create_one_household(
    local_store: str, dynamodb_local: Any, households: list[RegisterHousehold], tmp_path: Path
) -> None:
    sls = households[0].sls_code
    areas, roster = tmp_path / "areas.csv", tmp_path / "roster.csv"
    write_demo_areas(areas, [sls])
    assert not import_areas(areas).errors
    roster.write_text(f"officer_id,name,role,area_codes\nOFC-A,Ani,officer,{sls}\n")
    assert not import_roster(roster).errors
    kk, nik = make_kk("167101", date(2025, 10, 1), 7001), make_nik("167101", "female", date(1990, 2, 3), 7001)
    body = {"kk": kk, "nik": nik, "head_name": "Dewi Lestari", "address": "Jl. Sukarela 4", "sls_code": sls}
    status, _, filed = call("reports", "POST", "/v1/reports", body=body)
    assert status == 202
    reference = filed["reference"].replace("-", "")
    drain_stream()  # the counters move from the table's stream (docs/decisions/0019)
    before = next(r.counts for r in store.progress_counts(sls) if r.sls_code == sls)
    member = {
        "nik": nik, "name": "Dewi Lestari", "relationship": "head", "sex": "female", "birth_date": "1990-02-03",
        "marital_status": "married", "religion": "islam", "education": "bachelor", "citizenship": "WNI",
        "lives_at_kk_address": True, "current_area_code": None,
    }  # fmt: skip
    enrolment = {"outcome": "enrolled", "response": {"respondent_nik": nik, "members": [member]}}

    def enrol(phone: int) -> tuple[int, Any]:
        # Each phone's outbox sends its own Idempotency-Key, as the officers' app does.
        status, _, answer = call(
            "fieldwork", "POST", "/v1/reports/{reference}/resolution", {"reference": reference},
            body=enrolment, claims=who("OFC-A"), headers={"Idempotency-Key": f"phone-{phone}-{reference}"},
        )  # fmt: skip
        return status, answer

    results = race(8, enrol)
    assert {status for status, _ in results} <= {200, 201}, results
    assert sum(1 for status, _ in results if status == 201) == 1, "one enrolment created it; the rest answered again"
    assert len({answer["receipt_code"] for _, answer in results}) == 1
    assert {answer["version"] for _, answer in results} == {1}, "every phone is answered with the one version"
    items = table_items(local_store, dynamodb_local.endpoint_url)
    mine = [i for i in items if i["pk"]["S"] == f"HH#{kk}"]
    assert sorted(i["sk"]["S"] for i in mine if i["sk"]["S"] in ("META", "REGISTER")) == ["META", "REGISTER"]
    assert len([i for i in mine if i["sk"]["S"].startswith("V#")]) == 1, "one response version"
    assert len([i for i in items if i["pk"]["S"].startswith("RECEIPT#") and i["kk"]["S"] == kk]) == 1
    drain_stream()
    after = next(r.counts for r in store.progress_counts(sls) if r.sls_code == sls)
    moved = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    assert moved == {"households": 1, "interviewed": 1, "enrolled": 1, "reported": -1}, json.dumps(moved)
    trail = store.household_trail(kk)
    assert [(r.action, r.details["outcome"], r.details["reference"]) for r in trail] == [
        ("report_resolved", "enrolled", reference)
    ], "audited exactly once, by the enrolment that won"


def test_a_burst_at_the_rate_window_rollover_lets_at_most_the_limit_through(local_store: str) -> None:
    """Twelve requests in parallel the moment a full window has ended: the first resets the
    window (conditionally), the rest count in it, so no more than `limit` pass."""
    limit, window, now = 3, 60, 1_000_000
    for _ in range(limit):
        assert store.take_rate("BURST", "client", now - window, window, limit) is None
    assert store.take_rate("BURST", "client", now - window, window, limit) is not None, "the old window is full"
    answers = race(12, lambda _: ("done", store.take_rate("BURST", "client", now, window, limit)))
    assert all(a is not None for a in answers), "every request was answered"
    waits = [wait for _, wait in answers]
    assert sum(1 for wait in waits if wait is None) == limit, waits
    assert all(wait is None or 0 < wait <= window for wait in waits), waits
