"""Issue 24's "Done when", walked end to end on DynamoDB Local through the Lambda handlers:
a family whose card is missing from the register files a report (status `received`), the
next worklist generation puts its case on the SLS officer's worklist (`visit_planned`), the
officer enrols it with the interview (`resolved`, `enrolled`, audited), and the family then
signs in online with KK + NIK, sets a password and corrects its response. After every step
the SLS progress figures moved by exactly that step, once."""

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
from tests.conftest import drain_stream
from tests.integration.scenario import call, who

pytestmark = pytest.mark.dynamodb_local

OFFICER, SUPERVISOR = "OFC-J", "SPV-J"


def _counts(sls: str) -> dict[str, int]:
    drain_stream()  # the counters move from the table's stream (docs/decisions/0019)
    return next(dict(r.counts) for r in store.progress_counts(sls) if r.sls_code == sls)


class Figures:
    """The SLS's progress counters, and what each step moved them by."""

    def __init__(self, sls: str) -> None:
        self.sls, self.last = sls, _counts(sls)

    def moved(self) -> dict[str, int]:
        now = _counts(self.sls)
        delta = {k: now[k] - self.last.get(k, 0) for k in now if now[k] != self.last.get(k, 0)}
        self.last = now
        return delta


def _lookup(reference: str) -> dict[str, Any]:
    status, _, answer = call("reports", "GET", "/v1/reports/{reference}", {"reference": reference})
    assert status == 200, answer
    return dict(answer)


def test_a_family_missing_from_the_register_reports_is_enrolled_and_then_corrects_online(
    local_store: str, households: list[RegisterHousehold], tmp_path: Path
) -> None:
    sls = households[0].sls_code
    village = sls[:10]
    areas, roster = tmp_path / "areas.csv", tmp_path / "roster.csv"
    write_demo_areas(areas, sorted({h.sls_code for h in households}))
    assert not import_areas(areas).errors
    roster.write_text(
        f"officer_id,name,role,area_codes\n{OFFICER},Ani,officer,{sls}\n{SUPERVISOR},Sari,supervisor,{village}\n"
    )
    assert not import_roster(roster).errors
    figures = Figures(sls)

    # 1. The resident files a report: 202, a reference, status received; `reported` +1.
    kk = make_kk("167101", date(2025, 10, 1), 7101)
    head_nik = make_nik("167101", "male", date(1982, 6, 9), 7101)
    spouse_nik = make_nik("167101", "female", date(1986, 1, 21), 7102)
    report = {"kk": kk, "nik": head_nik, "head_name": "Agus Salim", "address": "Jl. Sukarela 9", "sls_code": sls,
              "phone": "0813 1111 2222"}  # fmt: skip
    status, _, filed = call("reports", "POST", "/v1/reports", body=report, headers={"Idempotency-Key": "journey-1"})
    assert status == 202 and filed["status"] == "received", filed
    reference = filed["reference"]
    assert _lookup(reference)["status"] == "received"
    assert figures.moved() == {"reported": 1}
    status, _, again = call("reports", "POST", "/v1/reports", body=report, headers={"Idempotency-Key": "journey-1"})
    assert (status, again["reference"]) == (202, reference)
    assert figures.moved() == {}, "a retried report files once"

    # 2. The supervisor generates the village's worklists: the case is on the SLS officer's
    #    worklist (reason not_on_register) and the lookup says visit planned; no figure moves.
    status, _, generated = call("worklists", "POST", "/v1/areas/{area_code}/worklists", {"area_code": village},
                                claims=who(SUPERVISOR, "supervisor"))  # fmt: skip
    assert status == 201, generated
    status, _, worklist = call("fieldwork", "GET", "/v1/officers/me/worklist", claims=who(OFFICER),
                               query={"limit": "200"})  # fmt: skip
    assert status == 200, worklist
    cases = [e for e in worklist["households"] if e.get("reason") == "not_on_register"]
    assert [c["reference"].replace("-", "") for c in cases] == [reference.replace("-", "")], cases
    assert (cases[0]["head_name"], cases[0]["address"]) == (report["head_name"], report["address"])
    found = _lookup(reference)
    assert (found["status"], found["next_step"]) == ("visit_planned", "wait_for_visit")
    assert figures.moved() == {}

    # 3. The officer enrols it with the interview: the household exists, the report is resolved,
    #    the figures moved once (also for a retry of the same enrolment), one audit record.
    def member(nik: str, name: str, relationship: str, sex: str, born: str) -> dict[str, Any]:
        return {"nik": nik, "name": name, "relationship": relationship, "sex": sex, "birth_date": born,
                "marital_status": "married", "religion": "islam", "education": "senior_secondary",
                "citizenship": "WNI", "lives_at_kk_address": True, "current_area_code": None}  # fmt: skip

    members = [
        member(head_nik, "Agus Salim", "head", "male", "1982-06-09"),
        member(spouse_nik, "Rina Wati", "spouse", "female", "1986-01-21"),
    ]
    enrolment = {"outcome": "enrolled", "response": {"respondent_nik": head_nik, "members": members}}
    path = {"reference": reference.replace("-", "")}
    for expected in (201, 200):
        status, _, enrolled = call("fieldwork", "POST", "/v1/reports/{reference}/resolution", path,
                                   body=enrolment, claims=who(OFFICER))  # fmt: skip
        assert status == expected, enrolled
    assert (enrolled["kk"], enrolled["status"], enrolled["version"]) == (kk, "interviewed", 1)
    assert figures.moved() == {"households": 1, "interviewed": 1, "enrolled": 1, "reported": -1}
    found = _lookup(reference)
    assert (found["status"], found["resolution"], found["next_step"]) == ("resolved", "enrolled", "sign_in")
    status, _, trail = call("console", "GET", "/v1/households/{kk}/audit", {"kk": kk},
                            claims=who(SUPERVISOR, "supervisor"))  # fmt: skip
    assert status == 200, trail
    assert [(r["action"], r["actor"], r["details"]["outcome"]) for r in trail["records"]] == [
        ("report_resolved", OFFICER, "enrolled")
    ]
    text = json.dumps(trail)
    assert not [v for v in (head_nik, spouse_nik, "Agus Salim", "Rina Wati", "Jl. Sukarela", "0813") if v in text]

    # 4. The family signs in online like any other household: KK + the spouse's NIK, a new
    #    password; it sees its members and corrects its response (version 2, online).
    status, _, session = call("sessions", "POST", "/v1/sessions",
                              body={"kk": kk, "nik": spouse_nik, "new_password": "rambutan-manis-42"})  # fmt: skip
    assert status == 201, session
    bearer = {"Authorization": f"Bearer {session['token']}"}
    status, _, mine = call("sessions", "GET", "/v1/session/household", headers=bearer)
    assert status == 200 and [m["nik"] for m in mine["register"]["members"]] == [head_nik, spouse_nik]
    assert figures.moved() == {}, "signing in moves nothing"
    corrected = [{**members[0], "education": "bachelor"}, members[1]]
    retried = {**bearer, "Idempotency-Key": "journey-fix"}
    for _ in range(2):  # the correction, and its retry with the same key
        status, _, result = call("intake", "POST", "/v1/households/{kk}/responses", {"kk": kk},
                                 body={"members": corrected}, headers=retried)  # fmt: skip
        assert status == 200, result
    assert (result["version"], result["status"], result["receipt_code"]) == (2, "clean", enrolled["receipt_code"])
    assert figures.moved() == {"interviewed": -1, "clean": 1}, "the correction moved the figures once"
    status, _, _ = call("sessions", "POST", "/v1/sessions",
                             body={"kk": kk, "nik": head_nik, "password": "rambutan-manis-42"})  # fmt: skip
    assert status == 201, "the password set online works for every member"
