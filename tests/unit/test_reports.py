"""Households the register missed, end to end through the Lambda handlers on moto: the
report (same answer whatever the KK, idempotent, rate-limited), its lookup, the area lists,
the case on the officer's worklist, its resolution (enrolled, matched, not found), a new
household found in the field, the address outcomes of visits, the progress figures - and
the enrolled household signing in online and correcting its response."""

from __future__ import annotations

import json
import math
import os
import secrets
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest

from census_ops import events
from census_ops.area_list import import_areas, write_demo_areas
from census_ops.events import LambdaContext
from census_ops.register import RegisterHousehold
from shared import store
from shared.nik import make_kk, make_nik
from tests.conftest import drain_stream, member_body, response_headers, trim_moto_stream
from tests.integration.scenario import CITY, CITY_SUPERVISOR, Field, call, moto_field, who

SESSION_KEY = secrets.token_hex(32)
REPORTS, REPORT = "/v1/reports", "/v1/reports/{reference}"
RESOLUTION, FOUND = "/v1/reports/{reference}/resolution", "/v1/households"
PROVINCES, CHILDREN = "/v1/areas", "/v1/areas/{area_code}/children"
PROGRESS, WORKLIST = "/v1/areas/{area_code}/progress", "/v1/officers/me/worklist"


class World:
    def __init__(self, field: Field, table: str, folder: Path) -> None:
        self.field, self.table = field, table
        sls = sorted({h.sls_code for h in field.households})
        self.sls = sls[0]
        # An SLS on the area list with no household and no officer: reports there wait.
        self.empty_sls = sls[0][:10] + "0999"
        areas = folder / "areas.csv"
        write_demo_areas(areas, [*sls, self.empty_sls])
        assert not import_areas(areas).errors
        self.officer = next(r["officer_id"] for r in field.roster if r["area_codes"] == self.sls)
        self.used: set[str] = set()

    def household(self, sls: str | None = None) -> RegisterHousehold:
        """A register household not used by another test."""
        found = next(h for h in self.field.households if h.kk not in self.used and (sls is None or h.sls_code == sls))
        self.used.add(found.kk)
        return found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("reports")
    with moto_field(folder, "reports", households=300, officers=6, session_key=SESSION_KEY) as (field, table):
        yield World(field, table, folder)


@pytest.fixture
def w(world: World) -> World:
    os.environ["SESSION_SIGNING_KEY"] = SESSION_KEY
    return world


_serial = iter(range(1, 9999))


def new_kk() -> str:
    """A well-formed KK that no register household has (a reissued card)."""
    return make_kk("167105", date(2025, 11, 3), 5000 + next(_serial))


def new_nik(sex: str = "male", born: date = date(1980, 4, 2)) -> str:
    return make_nik("167105", sex, born, 5000 + next(_serial))


def report_body(kk: str, nik: str, sls: str, **extra: Any) -> dict[str, Any]:
    return {
        "kk": kk,
        "nik": nik,
        "head_name": "Rahmat Hidayat",
        "address": "Jl. Merdeka No. 7",
        "sls_code": sls,
        **extra,
    }


def file(
    body: Any, *, key: str | None = None, ip: str = "10.0.0.1", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    """POST /v1/reports from `ip`, as API Gateway hands it to the function."""
    from functions.reports.app import lambda_handler

    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {}), **(headers or {})}
    event = events.api_event("POST", REPORTS, resource=REPORTS, body=body, headers=headers, source_ip=ip)
    answer = lambda_handler(event, LambdaContext())
    return answer["statusCode"], response_headers(answer), json.loads(answer["body"])


def lookup(reference: str) -> tuple[int, Any]:
    status, _, answer = call("reports", "GET", REPORT, {"reference": reference})
    return status, answer


def interview(kk_members: list[dict[str, Any]], respondent: str) -> dict[str, Any]:
    return {"respondent_nik": respondent, "members": kk_members}


def new_family() -> list[dict[str, Any]]:
    head_born, wife_born = date(1980, 4, 2), date(1984, 9, 12)

    class Person:
        def __init__(self, nik: str, name: str, relationship: str, sex: str, born: date) -> None:
            self.nik, self.name, self.relationship, self.sex, self.birth_date = nik, name, relationship, sex, born

    return [
        member_body(Person(new_nik("male", head_born), "Rahmat Hidayat", "head", "male", head_born)),
        member_body(Person(new_nik("female", wife_born), "Siti Aminah", "spouse", "female", wife_born)),
    ]


def sls_counts(sls: str) -> dict[str, int]:
    drain_stream()  # the counters move from the table's stream (docs/decisions/0019)
    return next(r.counts for r in store.progress_counts(sls) if r.sls_code == sls)


# ---------------------------------------------------------------- filing and looking up


def test_a_report_answers_202_alike_for_a_kk_on_the_register_and_one_not(w: World) -> None:
    on_register = w.household()
    status_a, _, a = file(report_body(on_register.kk, on_register.members[0].nik, w.sls))
    status_b, _, b = file(report_body(new_kk(), new_nik(), w.sls))
    status_c, _, c = file(report_body(on_register.kk, new_nik(), w.sls))  # a NIK not on that KK
    assert status_a == status_b == status_c == 202
    assert set(a) == set(b) == set(c) == {"reference", "status"}
    assert a["status"] == b["status"] == c["status"] == "received"
    assert len({a["reference"], b["reference"], c["reference"]}) == 3
    status, found = lookup(a["reference"])
    assert status == 200 and found["reference"] == a["reference"]
    text = json.dumps(found)
    assert on_register.kk not in text and on_register.members[0].nik not in text and "Rahmat" not in text


def test_the_lookup_says_received_then_visit_planned_after_generation(w: World, tmp_path: Path) -> None:
    status, _, filed = file(report_body(new_kk(), new_nik(), w.empty_sls))
    assert status == 202
    assert lookup(filed["reference"])[1]["status"] == "received"
    assert lookup(filed["reference"].replace("-", "").lower())[0] == 200  # typed loosely
    # The SLS gets an officer on the roster; the next generation puts the case on their worklist.
    from census_ops.importer import import_roster

    roster = tmp_path / "roster.csv"
    roster.write_text(f"officer_id,name,role,area_codes\nOFC-NEW,Ani Lestari,officer,{w.empty_sls}\n")
    assert not import_roster(roster).errors
    status, _ = call("worklists", "POST", "/v1/areas/{area_code}/worklists", {"area_code": CITY},
                     claims=who(CITY_SUPERVISOR, "supervisor"))[:2]  # fmt: skip
    assert status == 201
    assert lookup(filed["reference"])[1]["status"] == "visit_planned"
    _, _, page = call("fieldwork", "GET", WORKLIST, claims=who("OFC-NEW"))
    cases = [e for e in page["households"] if e.get("reference")]
    assert [(c["reason"], c["status"], c["done"], c["head_name"]) for c in cases] == [
        ("not_on_register", "reported", False, "Rahmat Hidayat")
    ]


def test_a_report_in_an_assigned_sls_is_on_its_officers_worklist_at_once(w: World) -> None:
    kk = new_kk()
    status, _, filed = file(report_body(kk, new_nik(), w.sls, phone="+62 812-3456-7890"))
    assert status == 202
    reference = filed["reference"].replace("-", "")
    assert lookup(reference)[1]["status"] == "visit_planned"
    _, _, page = call("fieldwork", "GET", WORKLIST, claims=who(w.officer), query={"limit": "200"})
    case = next(e for e in page["households"] if e.get("reference") == reference)
    assert (case["kk"], case["reason"], case["phone"]) == (kk, "not_on_register", "+62 812-3456-7890")


def test_a_retried_report_files_once_and_a_reused_key_is_refused(w: World) -> None:
    body = report_body(new_kk(), new_nik(), w.sls)
    before = sls_counts(w.sls)["reported"]
    first = file(body, key="report-retry-1")
    again = file(body, key="report-retry-1")
    assert first[0] == again[0] == 202 and first[2] == again[2]
    assert sls_counts(w.sls)["reported"] == before + 1, "the retry counted once"
    status, _, refused = file({**body, "head_name": "Someone Else"}, key="report-retry-1")
    assert (status, refused["error"]["code"]) == (422, "idempotency_key_reused")


def test_reports_are_limited_per_kk_and_per_client(w: World) -> None:
    kk = new_kk()
    answers = [file(report_body(kk, new_nik(), w.sls), ip=f"10.1.0.{i}")[0] for i in range(4)]
    assert answers == [202, 202, 202, 429], "3 reports a day per KK, from wherever"
    status, headers, refused = file(report_body(kk, new_nik(), w.sls), ip="10.1.0.9")
    assert (status, refused["error"]["code"]) == (429, "too_many_reports") and int(headers["Retry-After"]) > 0
    os.environ["REPORTS_PER_CLIENT"] = "2"
    from shared.settings import settings

    settings.cache_clear()
    try:
        ip = "10.2.0.1"
        statuses = [file(report_body(new_kk(), new_nik(), w.sls), ip=ip)[0] for _ in range(3)]
        assert statuses == [202, 202, 429], "the per-client limit (REPORTS_PER_CLIENT)"
        assert file(report_body(new_kk(), new_nik(), w.sls), ip="10.2.0.2")[0] == 202, "another client is not held"
    finally:
        os.environ.pop("REPORTS_PER_CLIENT")
        settings.cache_clear()


EDGE = "6f1c2a70-0000-11ef-9d1c-0a1b2c3d4e5f"  # the stack id part the distribution sends


def test_behind_cloudfront_the_per_client_limit_counts_viewers_not_edge_servers(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.settings import settings

    monkeypatch.setenv("REPORTS_PER_CLIENT", "2")
    monkeypatch.setenv("EDGE_SECRET", EDGE)
    settings.cache_clear()
    try:
        edge_ip = "130.176.9.1"  # one CloudFront edge server relays many residents

        def through_cloudfront(viewer: str, *, secret: str = EDGE, forwarded: str | None = None) -> int:
            headers = {"x-census-edge": secret}
            headers.update({"X-Forwarded-For": forwarded} if forwarded else {"CloudFront-Viewer-Address": viewer})
            return file(report_body(new_kk(), new_nik(), w.sls), ip=edge_ip, headers=headers)[0]

        viewers = [f"198.51.100.{i}:4{i}321" for i in range(1, 5)]
        assert [through_cloudfront(v) for v in viewers] == [202] * 4, "four residents behind one edge"
        one = ["2001:db8::7:51000", "2001:db8::7:51001", "2001:db8::7:51002"]  # one IPv6 viewer, three ports
        assert [through_cloudfront(v) for v in one] == [202, 202, 429], "one resident, limited"
        rotating = ["2001:db8:0:9::1:443", "2001:db8:0:9::2:443", "2001:db8:0:9:ffff::3:443"]
        assert [through_cloudfront(v) for v in rotating] == [202, 202, 429], "one IPv6 client is its /64"
        # Without CloudFront's Viewer-Address: the entry CloudFront appended to X-Forwarded-For
        # (API Gateway appends the edge's own); what the client wrote first is not trusted.
        hops = [f"{spoof}, 203.0.113.5, {edge_ip}" for spoof in ("1.1.1.1", "2.2.2.2", "3.3.3.3")]
        assert [through_cloudfront("", forwarded=h) for h in hops] == [202, 202, 429]
        # A direct caller naming a viewer (no secret, or a wrong one) is its own address.
        direct = "192.0.2.77"
        answers = [
            file(report_body(new_kk(), new_nik(), w.sls), ip=direct,
                 headers={"x-census-edge": secret, "CloudFront-Viewer-Address": f"198.51.100.{50 + i}:443"})[0]
            for i, secret in enumerate(["wrong", "", "wrong"])
        ]  # fmt: skip
        assert answers == [202, 202, 429]
    finally:
        monkeypatch.delenv("EDGE_SECRET")
        monkeypatch.delenv("REPORTS_PER_CLIENT")
        settings.cache_clear()


def metrics_emitted(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The metric names the functions flushed (CloudWatch embedded metric format on stdout)."""
    names: list[str] = []
    for line in capsys.readouterr().out.splitlines():
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if isinstance(blob, dict) and "_aws" in blob:
            names += [m["Name"] for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
    return names


def test_metrics_count_first_filings_and_resolutions_not_retries(w: World, capsys: pytest.CaptureFixture[str]) -> None:
    body = report_body(new_kk(), new_nik(), w.sls)
    capsys.readouterr()
    assert [file(body, key="metric-report", ip="10.7.7.7")[0] for _ in range(2)] == [202, 202]
    assert metrics_emitted(capsys).count("MissingHouseholdReports") == 1, "the retry is not another report"
    reference, _ = _file_case(w)
    capsys.readouterr()
    resolution = {"outcome": "not_found", "reason": "nobody_lives_here"}
    assert [resolve(reference, resolution, w.officer)[0] for _ in range(2)] == [201, 200]
    assert metrics_emitted(capsys).count("Reports_not_found") == 1
    family = new_family()
    found = {"kk": new_kk(), "sls_code": w.sls, "address": "Jl. Kebun Bunga No. 11",
             "response": interview(family, family[0]["nik"])}  # fmt: skip
    statuses = [
        call(
            "fieldwork", "POST", FOUND, body=found, claims=who(w.officer), headers={"Idempotency-Key": "metric-found"}
        )[0]
        for _ in range(2)
    ]
    assert statuses == [201, 200]
    assert metrics_emitted(capsys).count("HouseholdsFound") == 1


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"kk": "123"}, "invalid_kk", "kk"),
        ({"nik": "1671050000000000"}, "invalid_nik", "nik"),
        ({"sls_code": "1671"}, "invalid_area_code", "sls_code"),
        ({"sls_code": "16710100019998"}, "unknown_area", "sls_code"),
        ({"phone": "call me"}, "invalid_phone", "phone"),
        ({"head_name": "Rahmat\u202eHidayat"}, "invalid_name", "head_name"),
        ({"extra": 1}, "unknown_field", "extra"),
    ],
)
def test_a_bad_report_is_refused_by_field_and_files_nothing(
    w: World, change: dict[str, Any], code: str, field: str
) -> None:
    before = sls_counts(w.sls)["reported"]
    status, _, answer = file({**report_body(new_kk(), new_nik(), w.sls), **change})
    assert status == 422
    assert (code, field) in {(p["code"], p["field"]) for p in answer["error"]["details"]}
    assert sls_counts(w.sls)["reported"] == before


def test_a_reference_lookup_refuses_bad_and_unknown_references(w: World) -> None:
    assert lookup("nonsense")[1]["error"]["code"] == "invalid_report_reference"
    from shared.receipts import new_receipt_code

    status, answer = lookup(new_receipt_code())
    assert (status, answer["error"]["code"]) == (404, "report_not_found")


def test_the_area_lists_name_each_level_and_are_cacheable(w: World) -> None:
    status, headers, provinces = call("reports", "GET", PROVINCES)
    assert status == 200 and provinces["children"] == [{"code": "16", "name": "Sumatera Selatan"}]
    assert "max-age" in headers["Cache-Control"]
    code = "16"
    for expected_length in (4, 7, 10, 14):
        status, headers, listed = call("reports", "GET", CHILDREN, {"area_code": code})
        assert status == 200 and listed["area_code"] == code and "max-age" in headers["Cache-Control"]
        children = listed["children"]
        assert children and all(len(c["code"]) == expected_length and c["name"] for c in children)
        code = next(c["code"] for c in children if w.sls.startswith(c["code"]))
    assert call("reports", "GET", CHILDREN, {"area_code": w.sls})[2]["children"] == []
    assert call("reports", "GET", CHILDREN, {"area_code": "99x"})[0] == 422


# ---------------------------------------------------------------- the officer resolves


def _file_case(w: World, kk: str | None = None) -> tuple[str, str]:
    kk = kk or new_kk()
    status, _, filed = file(report_body(kk, new_nik(), w.sls), ip=f"10.9.{next(_serial) % 250}.1")
    assert status == 202
    return filed["reference"].replace("-", ""), kk


def resolve(reference: str, body: Any, officer: str, role: str = "officer", **kwargs: Any) -> tuple[int, Any]:
    status, _, answer = call("fieldwork", "POST", RESOLUTION, {"reference": reference}, body=body,
                             claims=who(officer, role), **kwargs)  # fmt: skip
    return status, answer


def test_enrolled_creates_the_household_which_then_signs_in_and_corrects_online(w: World) -> None:
    reference, kk = _file_case(w)
    before = sls_counts(w.sls)
    family = new_family()
    status, answer = resolve(
        reference, {"outcome": "enrolled", "response": interview(family, family[0]["nik"])}, w.officer
    )
    assert status == 201, answer
    assert (answer["outcome"], answer["kk"], answer["status"], answer["version"]) == ("enrolled", kk, "interviewed", 1)
    assert answer["receipt_code"] and answer["enrolled_in_field"] is True
    after = sls_counts(w.sls)
    moved = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    assert moved == {"households": 1, "interviewed": 1, "enrolled": 1, "reported": -1}
    household = store.load_household(kk)
    assert household is not None and household.state.enrolled_in_field and household.state.channel == "interview"
    assert [m.nik for m in household.register.members] == [m["nik"] for m in family]
    found = lookup(reference)[1]
    assert (found["status"], found["resolution"], found["next_step"]) == ("resolved", "enrolled", "sign_in")
    # The family signs in online like any other: KK + a member's NIK, a password, a correction.
    status, _, session = call(
        "sessions", "POST", "/v1/sessions", body={"kk": kk, "nik": family[1]["nik"], "new_password": "durian-musang-88"}
    )
    assert status == 201, session
    bearer = {"Authorization": f"Bearer {session['token']}"}
    status, _, mine = call("sessions", "GET", "/v1/session/household", headers=bearer)
    assert status == 200 and [m["nik"] for m in mine["register"]["members"]] == [m["nik"] for m in family]
    corrected = [{**family[0], "education": "bachelor"}, family[1]]
    status, _, result = call("intake", "POST", "/v1/households/{kk}/responses", {"kk": kk},
                             body={"members": corrected}, headers=bearer)  # fmt: skip
    assert (status, result["version"], result["status"]) == (200, 2, "clean"), result
    assert result["receipt_code"] == answer["receipt_code"]
    final = sls_counts(w.sls)
    assert final["interviewed"] == after["interviewed"] - 1 and final["clean"] == after["clean"] + 1


def test_a_retried_enrolment_answers_again_and_a_second_outcome_is_refused(w: World) -> None:
    reference, _ = _file_case(w)
    family = new_family()
    body = {"outcome": "enrolled", "response": interview(family, family[0]["nik"])}
    assert resolve(reference, body, w.officer)[0] == 201
    counts = sls_counts(w.sls)
    status, again = resolve(reference, body, w.officer)
    assert status == 200 and again["version"] == 1
    status, refused = resolve(reference, {"outcome": "not_found", "reason": "address_not_found"}, w.officer)
    assert (status, refused["error"]["code"]) == (409, "report_already_resolved")
    assert sls_counts(w.sls) == counts, "neither the retry nor the refusal moved the figures"


def versions_of(w: World, kk: str) -> list[str]:
    """The household's stored response versions (sort keys), read straight from the table."""
    items = boto3.client("dynamodb").query(
        TableName=w.table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
        ExpressionAttributeValues={":pk": {"S": f"HH#{kk}"}, ":v": {"S": "V#"}},
        ConsistentRead=True,
    )["Items"]
    return [i["sk"]["S"] for i in items]


def test_a_second_phone_enrolling_the_same_report_writes_nothing_and_answers_the_first(w: World) -> None:
    """Two officers' phones (each its own Idempotency-Key) enrol one report: the second is
    answered with the first's version; a different interview is refused, not stored."""
    reference, kk = _file_case(w)
    family = new_family()
    body = {"outcome": "enrolled", "response": interview(family, family[0]["nik"])}
    status, first = resolve(reference, body, w.officer, headers={"Idempotency-Key": "phone-a"})
    assert status == 201, first
    counts = sls_counts(w.sls)
    status, second = resolve(reference, body, w.officer, headers={"Idempotency-Key": "phone-b"})
    assert (status, second["version"], second["receipt_code"]) == (200, 1, first["receipt_code"]), second
    other = [{**family[0], "education": "bachelor"}, family[1]]
    status, refused = resolve(reference, {**body, "response": interview(other, family[0]["nik"])}, w.officer,
                              headers={"Idempotency-Key": "phone-c"})  # fmt: skip
    assert (status, refused["error"]["code"]) == (409, "report_already_resolved"), refused
    assert len(versions_of(w, kk)) == 1, "one version: the first interview"
    assert sls_counts(w.sls) == counts
    assert [r["action"] for r in household_audit(kk)] == ["report_resolved"]


def test_enrolling_a_kk_that_is_on_the_register_is_refused_match_it_instead(w: World) -> None:
    on_register = w.household(w.sls)
    reference, _ = _file_case(w, on_register.kk)
    family = new_family()
    status, answer = resolve(
        reference, {"outcome": "enrolled", "response": interview(family, family[0]["nik"])}, w.officer
    )
    assert (status, answer["error"]["code"]) == (409, "household_exists")
    state_before = store.household_states([on_register.kk])[on_register.kk]
    counts = sls_counts(w.sls)
    status, answer = resolve(reference, {"outcome": "matched", "kk": on_register.kk}, w.officer)
    assert status == 201 and answer["kk"] == on_register.kk
    assert store.household_states([on_register.kk])[on_register.kk] == state_before, "X's status unchanged"
    after = sls_counts(w.sls)
    assert {k: after[k] - counts[k] for k in after if after[k] != counts[k]} == {"reported": -1}
    found = lookup(reference)[1]
    assert (found["resolution"], found["next_step"]) == ("matched", "sign_in_register_kk")
    assert on_register.kk not in json.dumps(found)


def test_matched_needs_a_household_and_not_found_a_reason(w: World) -> None:
    reference, _ = _file_case(w)
    status, answer = resolve(reference, {"outcome": "matched", "kk": new_kk()}, w.officer)
    assert (status, answer["error"]["code"]) == (422, "unknown_household")
    assert resolve(reference, {"outcome": "not_found"}, w.officer)[0] == 422
    counts = sls_counts(w.sls)
    status, answer = resolve(reference, {"outcome": "not_found", "reason": "nobody_lives_here"}, w.officer)
    assert status == 201 and answer["reason"] == "nobody_lives_here"
    assert sls_counts(w.sls)["reported"] == counts["reported"] - 1
    assert lookup(reference)[1]["next_step"] == "contact_office"


def test_only_the_cases_officer_or_a_supervisor_of_its_area_resolves_it(w: World) -> None:
    reference, _ = _file_case(w)
    other = next(r["officer_id"] for r in w.field.roster if r["role"] == "officer" and r["area_codes"] != w.sls)
    body = {"outcome": "not_found", "reason": "not_residential"}
    assert resolve(reference, body, other)[0] == 403
    assert resolve(reference, body, "SPV-" + ("1671990" if not w.sls.startswith("1671990") else "1671980"),
                   "supervisor")[0] in (403,)  # fmt: skip
    assert resolve(reference, body, f"SPV-{w.sls[:7]}", "supervisor")[0] == 201


# ---------------------------------------------------------------- found in the field, address outcomes


def test_an_officer_enrols_a_household_found_on_no_list(w: World) -> None:
    kk, family = new_kk(), new_family()
    body = {"kk": kk, "sls_code": w.sls, "address": "Jl. Kebun Bunga No. 3",
            "response": interview(family, family[0]["nik"])}  # fmt: skip
    counts = sls_counts(w.sls)
    status, _, answer = call(
        "fieldwork", "POST", FOUND, body=body, claims=who(w.officer), headers={"Idempotency-Key": "found-1"}
    )
    assert status == 201 and (answer["outcome"], answer["status"]) == ("new_household", "interviewed")
    status, _, again = call(
        "fieldwork", "POST", FOUND, body=body, claims=who(w.officer), headers={"Idempotency-Key": "found-1"}
    )
    assert status == 200 and again["receipt_code"] == answer["receipt_code"]
    after = sls_counts(w.sls)
    assert {k: after[k] - counts[k] for k in after if after[k] != counts[k]} == {
        "households": 1, "interviewed": 1, "enrolled": 1
    }  # fmt: skip
    registered = w.household(w.sls)
    status, _, refused = call("fieldwork", "POST", FOUND, body={**body, "kk": registered.kk}, claims=who(w.officer))
    assert (status, refused["error"]["code"]) == (409, "household_exists")
    elsewhere = next(s for s in {h.sls_code for h in w.field.households} if s != w.sls)
    assert call("fieldwork", "POST", FOUND, body={**body, "kk": new_kk(), "sls_code": elsewhere},
                claims=who(w.officer))[0] == 403  # fmt: skip


def test_a_found_household_not_yet_interviewed_takes_the_interview_only_from_its_creator(w: World) -> None:
    """A household created by one request whose interview was never stored (the phone lost
    its connection in between) is version 0: only a retry with that request's key stores
    the interview; another key (another officer) finding the KK is refused."""
    kk, family = new_kk(), new_family()
    head = family[0]
    members = tuple(
        store.MemberRecord(m["nik"], m["name"], m["sex"], m["birth_date"], m["relationship"]) for m in family
    )
    household = store.EnrolledHousehold(kk=kk, sls_code=w.sls, address="Jl. Kebun Bunga No. 5", head_nik=head["nik"],
                                         head_name=head["name"], members=members, key="found-creator")  # fmt: skip
    store.resolve(None, household)
    body = {"kk": kk, "sls_code": w.sls, "address": "Jl. Kebun Bunga No. 5",
            "response": interview(family, head["nik"])}  # fmt: skip
    for key in ("someone-else", None):
        headers = {"Idempotency-Key": key} if key else None
        status, _, refused = call("fieldwork", "POST", FOUND, body=body, claims=who(w.officer), headers=headers)
        assert (status, refused["error"]["code"]) == (409, "household_exists"), refused
    assert versions_of(w, kk) == []
    status, _, answer = call("fieldwork", "POST", FOUND, body=body, claims=who(w.officer),
                             headers={"Idempotency-Key": "found-creator"})  # fmt: skip
    assert (status, answer["version"]) == (201, 1), answer
    assert len(versions_of(w, kk)) == 1


def test_an_enrolment_refused_for_its_content_writes_nothing(w: World) -> None:
    """Whatever the interview would be refused for is judged before the household is created:
    a `departed` member (an enrolment's register is its members, so none can have departed)
    is a 422 that leaves no household without its interview, no figure moved and no audit
    record, and the corrected request (a new key, as the app's fix sends) then enrols it."""
    kk, family = new_kk(), new_family()
    head = family[0]
    response = interview(family, head["nik"])
    departed = {**response, "departed": [{"nik": new_family()[0]["nik"], "reason": "moved_out"}]}
    body = {"kk": kk, "sls_code": w.sls, "address": "Jl. Kebun Bunga No. 7", "response": departed}
    before = sls_counts(w.sls)
    status, _, refused = call("fieldwork", "POST", FOUND, body=body, claims=who(w.officer),
                              headers={"Idempotency-Key": "found-departed-1"})  # fmt: skip
    assert (status, refused["error"]["code"]) == (422, "departed_not_on_register"), refused
    assert store.load_household(kk) is None and sls_counts(w.sls) == before
    status, _, answer = call("fieldwork", "POST", FOUND, body={**body, "response": response}, claims=who(w.officer),
                             headers={"Idempotency-Key": "found-departed-2"})  # fmt: skip
    assert (status, answer["version"]) == (201, 1), answer


@pytest.mark.parametrize("outcome", ["address_not_found", "not_residential", "duplicate"])
def test_address_outcomes_take_a_household_off_the_worklist_counted_once(w: World, outcome: str) -> None:
    assigned = set(w.field.assigned(w.officer))
    household = next(h for h in w.field.households if h.kk in assigned and h.kk not in w.used)
    w.used.add(household.kk)
    body: dict[str, Any] = {"outcome": outcome}
    if outcome == "duplicate":
        body["duplicate_of"] = household.kk
        status, _, refused = call("fieldwork", "POST", "/v1/households/{kk}/visits", {"kk": household.kk},
                                  body=body, claims=who(w.officer))  # fmt: skip
        assert (status, refused["error"]["code"]) == (422, "unknown_household"), "not a duplicate of itself"
        body["duplicate_of"] = next(h.kk for h in w.field.households if h.kk != household.kk)
    counts = sls_counts(household.sls_code)
    status, _, answer = call("fieldwork", "POST", "/v1/households/{kk}/visits", {"kk": household.kk},
                             body=body, claims=who(w.officer), headers={"Idempotency-Key": f"v-{outcome}"})  # fmt: skip
    assert status == 201 and answer["status"] == outcome and answer["stays_on_worklist"] is False
    call("fieldwork", "POST", "/v1/households/{kk}/visits", {"kk": household.kk},
         body=body, claims=who(w.officer), headers={"Idempotency-Key": f"v-{outcome}"})  # fmt: skip
    after = sls_counts(household.sls_code)
    assert {k: after[k] - counts[k] for k in after if after[k] != counts[k]} == {
        "pending": -1, outcome: 1, "to_visit": -1
    }  # fmt: skip
    visits = [(r["action"], r["details"]["outcome"], r["actor"]) for r in household_audit(household.kk)]
    assert visits == [("visit", outcome, w.officer)], "audited once, the retry added nothing"
    status, _, progress = call(
        "fieldwork", "GET", PROGRESS, {"area_code": CITY}, claims=who(CITY_SUPERVISOR, "supervisor")
    )
    assert status == 200 and progress[outcome] >= 1 and "reported" in progress and "enrolled" in progress


# ---------------------------------------------------------------- the audit trail


def household_audit(kk: str) -> list[dict[str, Any]]:
    status, _, trail = call("console", "GET", "/v1/households/{kk}/audit", {"kk": kk},
                            claims=who(CITY_SUPERVISOR, "supervisor"))  # fmt: skip
    assert status == 200, trail
    return list(trail["records"])


def area_audit(area: str) -> list[dict[str, Any]]:
    status, _, trail = call("console", "GET", "/v1/areas/{area_code}/audit", {"area_code": area},
                            claims=who(CITY_SUPERVISOR, "supervisor"), query={"limit": "1000"})  # fmt: skip
    assert status == 200, trail
    return list(trail["records"])


def test_each_resolution_and_found_household_is_audited_once_with_identifiers_only(w: World) -> None:
    """Enrolled, matched, not found and a household found: one record each (retries add
    none), readable per household and per area, with no name, NIK, address or phone."""
    personal: list[str] = ["Jl. Merdeka No. 7", "Rahmat Hidayat", "0812 3456 7890", "Jl. Kebun Bunga No. 9"]
    cases = {}
    for outcome in ("enrolled", "matched", "not_found"):
        kk = new_kk()
        nik = new_nik()
        status, _, filed = file(report_body(kk, nik, w.sls, phone="0812 3456 7890"), ip=f"10.8.{next(_serial) % 250}.1")
        assert status == 202
        cases[outcome] = (filed["reference"].replace("-", ""), kk)
        personal += [kk if outcome != "enrolled" else "", nik]
    family = new_family()
    personal += [m["nik"] for m in family] + [m["name"] for m in family]
    enrolled = {"outcome": "enrolled", "response": interview(family, family[0]["nik"]), "note": "Rahmat Hidayat"}
    matched_kk = w.household(w.sls).kk
    bodies = {
        "enrolled": enrolled,
        "matched": {"outcome": "matched", "kk": matched_kk},
        "not_found": {"outcome": "not_found", "reason": "not_residential"},
    }
    for outcome, body in bodies.items():
        reference = cases[outcome][0]
        assert resolve(reference, body, w.officer)[0] == 201
        assert resolve(reference, body, w.officer)[0] == 200, "a retry answers again"
    found_kk, found_family = new_kk(), new_family()
    personal += [m["nik"] for m in found_family]
    found = {"kk": found_kk, "sls_code": w.sls, "address": "Jl. Kebun Bunga No. 9",
             "response": interview(found_family, found_family[0]["nik"])}  # fmt: skip
    for _ in range(2):
        status, _, _ = call("fieldwork", "POST", FOUND, body=found, claims=who(w.officer),
                            headers={"Idempotency-Key": "found-audit"})  # fmt: skip
        assert status in (200, 201)

    area = [r for r in area_audit(w.sls) if r["action"] in ("report_resolved", "household_found")]
    by_reference = {r["details"].get("reference"): r for r in area if r["action"] == "report_resolved"}
    for outcome, (reference, _) in cases.items():
        assert [r["details"].get("reference") for r in area].count(reference) == 1, f"{outcome}: exactly once"
        record = by_reference[reference]
        assert (record["actor"], record["area_code"], record["details"]["outcome"]) == (w.officer, w.sls, outcome)
    assert by_reference[cases["enrolled"][0]]["kk"] == cases["enrolled"][1]
    assert by_reference[cases["matched"][0]]["kk"] == matched_kk
    assert (by_reference[cases["not_found"][0]]["kk"], by_reference[cases["not_found"][0]]["details"]["reason"]) == (
        None, "not_residential"
    )  # fmt: skip
    assert [r["kk"] for r in area if r["action"] == "household_found"].count(found_kk) == 1
    for outcome in ("enrolled", "matched"):  # no empty fields: only not_found has a reason
        assert set(by_reference[cases[outcome][0]]["details"]) == {"reference", "outcome"}, outcome
    # The same records on each household's own trail.
    enrolled_trail = household_audit(cases["enrolled"][1])
    assert [(r["action"], r["details"]["outcome"]) for r in enrolled_trail] == [("report_resolved", "enrolled")]
    assert ("report_resolved", cases["matched"][0]) in [
        (r["action"], r["details"].get("reference")) for r in household_audit(matched_kk)
    ]
    assert [(r["action"], r["actor"]) for r in household_audit(found_kk)] == [("household_found", w.officer)]
    # Identifiers only: nothing a resident or the officer typed about a person.
    text = json.dumps([area, enrolled_trail, household_audit(found_kk)])
    for value in filter(None, personal):
        assert value not in text, value


# ---------------------------------------------------------------- no oracle


def mann_whitney_p(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation, ties corrected)."""
    pooled = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    ranks = [0.0] * len(pooled)
    i = 0
    ties = 0.0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        t = j - i + 1
        ties += t**3 - t
        i = j + 1
    n1, n2 = len(a), len(b)
    r1 = sum(r for r, (_, group) in zip(ranks, pooled, strict=True) if group == 0)
    u = r1 - n1 * (n1 + 1) / 2
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    z = (u - n1 * n2 / 2) / sigma
    return math.erfc(abs(z) / math.sqrt(2))


def test_mann_whitney_finds_a_real_difference() -> None:
    """The test below can fail: the same statistic flags timings that do differ."""
    fast = [1.0 + 0.01 * (i % 7) for i in range(100)]
    slow = [1.05 + 0.01 * (i % 7) for i in range(100)]
    assert mann_whitney_p(fast, slow) < 1e-6
    assert mann_whitney_p(fast, list(fast)) > 0.9


def test_neither_the_answer_nor_its_timing_depends_on_whether_the_kk_exists(w: World) -> None:
    """200 reports alternating a register KK (with its member's NIK) and an unknown one:
    every answer has the same status and shape, and the two timing samples are not
    distinguishable (Mann-Whitney U, two-sided, at the 0.001 level)."""
    os.environ.update(REPORTS_PER_CLIENT="100000", REPORTS_PER_KK="100000")
    from shared.settings import settings

    settings.cache_clear()
    drain_stream()  # moto copies the table's stream with every transaction: start it empty
    trim_moto_stream()
    registered = [h for h in w.field.households if h.kk not in w.used][:100]
    times: dict[bool, list[float]] = {True: [], False: []}
    shapes: set[tuple[int, tuple[str, ...], str]] = set()
    for warm_up in range(10):
        file(report_body(new_kk(), new_nik(), w.sls), ip=f"10.7.0.{warm_up}")
    for i in range(200):
        exists = i % 2 == 0
        household = registered[(i // 2) % len(registered)]
        body = (
            report_body(household.kk, household.members[0].nik, w.sls)
            if exists
            else report_body(new_kk(), new_nik(), w.sls)
        )
        started = time.perf_counter()
        status, _, answer = file(body, ip=f"10.8.{i % 200}.1")
        times[exists].append(time.perf_counter() - started)
        shapes.add((status, tuple(sorted(answer)), answer.get("status", "")))
    assert shapes == {(202, ("reference", "status"), "received")}
    p = mann_whitney_p(times[True], times[False])
    medians = [sorted(times[k])[len(times[k]) // 2] * 1000 for k in (True, False)]
    print(f"report timing: median {medians[0]:.2f} ms (KK on the register) vs {medians[1]:.2f} ms (not), p={p:.3f}")
    assert p > 0.001, f"report timing differs between KKs on and off the register (p={p:.2g})"
