"""The field phase through the Lambda handlers on moto: the sparse index, worklist
generation and its balance, officers' worklists with live status, visits, progress,
area rights (BOLA), and the nationwide fan-out through SQS."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from census_ops.importer import import_register, import_roster
from census_ops.register import RegisterHousehold, read_register, write_demo_register
from census_ops.template import create_table
from shared import store
from shared.assignment import balance_bound
from tests.conftest import LambdaContext, drain_stream, invoke, member_body, submission_body, use_table

CITY = "1671"
D1, D2, D3 = "1671010", "1671020", "1671030"
SLS1, SLS3 = "16710100010001", "16710300010001"
ROSTER = f"""officer_id,name,role,area_codes
SPV-CITY,Siti Rahma,supervisor,{CITY}
SPV-D1,Agus Salim,supervisor,{D1}
OFC-1,Budi Hartono,officer,{SLS1}
OFC-2,Dewi Lestari,officer,{SLS1}
OFC-3,Eko Prasetyo,officer,{D2}
OFC-4,Fitri Handayani,officer,{SLS3}
"""


def who(officer_id: str, role: str = "officer") -> dict[str, str]:
    """Claims as the Cognito authorizer passes them to the Lambda."""
    return {
        "cognito:username": officer_id,
        "cognito:groups": role,
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, officer_id)),
    }


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RegisterHousehold]]:
    folder = tmp_path_factory.mktemp("field")
    register, roster = folder / "register.csv", folder / "roster.csv"
    write_demo_register(register, 300, seed=11)
    roster.write_text(ROSTER)
    with mock_aws():
        name = f"census-field-{uuid.uuid4().hex[:6]}"
        create_table(boto3.client("dynamodb"), name)
        use_table(name, None)
        assert not import_register(register, workers=1).errors  # moto: one writer
        assert not import_roster(roster).errors
        with register.open(newline="", encoding="utf-8") as stream:
            yield [h for h in read_register(stream) if not isinstance(h, list)]


def _handler(name: str) -> Any:
    module = __import__(f"functions.{name}.app", fromlist=["lambda_handler"])
    return module.lambda_handler


def call(function: str, method: str, resource: str, params: dict[str, str], **kwargs: Any) -> tuple[int, Any]:
    answer = invoke(_handler(function), method, resource, params, **kwargs)
    return answer["statusCode"], json.loads(answer["body"])


def generate(area: str, claims: dict[str, str]) -> tuple[int, Any]:
    return call("worklists", "POST", "/v1/areas/{area_code}/worklists", {"area_code": area}, claims=claims)


def worklist(officer: str, **query: str) -> tuple[int, Any]:
    return call("fieldwork", "GET", "/v1/officers/me/worklist", {}, claims=who(officer), query=query or None)


def visit(officer: str, kk: str, body: Any, key: str | None = None) -> tuple[int, Any]:
    headers = {"Idempotency-Key": key} if key else None
    return call(
        "fieldwork", "POST", "/v1/households/{kk}/visits", {"kk": kk}, body=body, claims=who(officer), headers=headers
    )


def submit_online(household: RegisterHousehold, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    return call(
        "intake", "POST", "/v1/households/{kk}/responses", {"kk": household.kk}, body=body or submission_body(household)
    )


def in_index(village: str) -> set[str]:
    return {item.pk.removeprefix("HH#") for item in store.households_needing_visit(village)}


def all_pages(officer: str, limit: str = "7") -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        status, page = worklist(officer, **query)
        assert status == 200, page
        entries += page["households"]
        cursor = page["next_cursor"]
        if not cursor:
            return entries


def test_the_needs_visit_index_holds_exactly_the_households_needing_a_visit(field: list[RegisterHousehold]) -> None:
    village = SLS1[:10]
    in_sls1 = [h for h in field if h.sls_code == SLS1]
    assert in_index(village) == {h.kk for h in in_sls1}, "every pending household starts in the index"
    clean, review = in_sls1[0], next(h for h in in_sls1[1:] if any(m.relationship == "spouse" for m in h.members))
    assert submit_online(clean)[1]["status"] == "clean"
    body = submission_body(review)
    for member in body["members"]:  # a head other than the register's: needs review
        member["relationship"] = {"head": "spouse", "spouse": "head"}.get(
            member["relationship"], member["relationship"]
        )
    assert submit_online(review, body)[1]["status"] == "needs_review"
    index = in_index(village)
    assert clean.kk not in index, "a clean response leaves the index"
    assert review.kk in index, "a response needing review stays"
    assert len(index) == len(in_sls1) - 1


def test_supervisor_generates_balanced_deterministic_worklists(field: list[RegisterHousehold]) -> None:
    status, summary = generate(CITY, who("SPV-CITY", "supervisor"))
    assert status == 201, summary
    backlog = sum(len(in_index(sls[:10])) for sls in {h.sls_code for h in field})
    assert summary["households"] == backlog
    assert summary["officers"] == 4
    loads = {row["officer_id"]: row["households"] for row in summary["per_officer"]}
    assert sum(loads.values()) == backlog
    # OFC-1 and OFC-2 share SLS1: balanced between them within the documented bound.
    sls1_backlog = len(in_index(SLS1[:10]))
    assert loads["OFC-1"] + loads["OFC-2"] == sls1_backlog
    assert max(loads["OFC-1"], loads["OFC-2"]) <= balance_bound(sls1_backlog, 2)
    assert loads["OFC-4"] == len(in_index(SLS3[:10])), "coverage is respected: SLS3 goes to its officer"
    again = generate(CITY, who("SPV-CITY", "supervisor"))[1]
    assert again["per_officer"] == summary["per_officer"], "the same input gives the same split"


def test_officer_sees_only_their_own_worklist_paginated(field: list[RegisterHousehold]) -> None:
    generate(CITY, who("SPV-CITY", "supervisor"))
    mine = all_pages("OFC-4")
    assert mine and all(e["sls_code"] == SLS3 for e in mine)
    assert len({e["kk"] for e in mine}) == len(mine), "no entry twice across pages"
    assert len(mine) == len(in_index(SLS3[:10]))
    first = mine[0]
    assert first["address"] and first["head_name"] and first["reason"] == "no_response" and not first["done"]
    theirs = worklist("OFC-1", limit="2")[1]["next_cursor"]
    status, answer = worklist("OFC-4", cursor=theirs)
    assert (status, answer["error"]["code"]) == (422, "invalid_cursor")
    assert worklist("OFC-4", cursor="%%%")[0] == 422
    for crafted in ({"officer_id": "OFC-4"}, {"officer_id": {"S": "OFC-4"}, "pk": {"N": "1"}, "sk": 3}, [1], "x"):
        raw = base64.urlsafe_b64encode(json.dumps(crafted).encode()).decode()
        status, answer = worklist("OFC-4", cursor=raw)
        assert (status, answer["error"]["code"]) == (422, "invalid_cursor"), crafted
    assert worklist("OFC-4", limit="0")[0] == 422


def test_a_household_that_responds_online_shows_as_done(field: list[RegisterHousehold]) -> None:
    generate(CITY, who("SPV-CITY", "supervisor"))
    entry = all_pages("OFC-3")[0]
    household = next(h for h in field if h.kk == entry["kk"])
    assert submit_online(household)[0] == 201
    again = next(e for e in all_pages("OFC-3") if e["kk"] == household.kk)
    assert (again["status"], again["done"], again["reason"]) == ("clean", True, None)


def test_visits_move_the_status_and_count_attempts(field: list[RegisterHousehold]) -> None:
    generate(CITY, who("SPV-CITY", "supervisor"))
    entries = [e for e in all_pages("OFC-4") if not e["done"]]
    first, second, third = (next(h for h in field if h.kk == e["kk"]) for e in entries[:3])
    village = SLS3[:10]

    for attempt in (1, 2):
        status, answer = visit("OFC-4", first.kk, {"outcome": "not_home", "note": "rumah kosong"})
        assert (status, answer["status"], answer["attempt"], answer["stays_on_worklist"]) == (
            201,
            "not_home",
            attempt,
            True,
        )
        assert first.kk in in_index(village)
    status, answer = visit("OFC-4", first.kk, {"outcome": "not_home"})
    assert (answer["attempt"], answer["stays_on_worklist"]) == (3, False), "the last allowed attempt"
    assert first.kk not in in_index(village)

    assert visit("OFC-4", second.kk, {"outcome": "moved"})[1]["status"] == "moved"
    assert second.kk not in in_index(village)

    interview = {"outcome": "interviewed", "response": submission_body(third)}
    status, answer = visit("OFC-4", third.kk, interview, key="tablet-7-visit-1")
    assert (status, answer["status"], answer["version"]) == (201, "interviewed", 1)
    assert visit("OFC-4", third.kk, interview, key="tablet-7-visit-1") == (status, answer), "a retry replays"
    assert third.kk not in in_index(village)
    versions = store.list_versions(third.kk)
    assert [(v.version, v.channel) for v in versions] == [(1, "interview")]
    visits = store.list_visits(third.kk)
    assert [(v.outcome, int(v.version), int(v.attempt)) for v in visits] == [("interviewed", 1, 1)]


def test_the_third_failed_visit_closes_the_households_visit_need(field: list[RegisterHousehold]) -> None:
    """One rule for the API and the app (MAX_VISIT_ATTEMPTS, 3): the 3rd failed visit takes the
    household off the needs_visit index, the worklist says its attempts are used up, a 4th
    failed visit is refused, and an interview is still taken."""
    generate(CITY, who("SPV-CITY", "supervisor"))
    entry = next(e for e in all_pages("OFC-3") if not e["done"] and e["visit_attempts"] == 0)
    household = next(h for h in field if h.kk == entry["kk"])
    assert (entry["reason"], entry["attempts_left"]) == ("no_response", 3)
    outcomes = ["not_home", "refused", "not_home"]
    for number, outcome in enumerate(outcomes, start=1):
        status, answer = visit("OFC-3", household.kk, {"outcome": outcome}, key=f"exhaust-{household.kk}-{number}")
        assert (status, answer["attempt"]) == (201, number), answer
        shown = next(e for e in all_pages("OFC-3") if e["kk"] == household.kk)
        if number < 3:
            assert (shown["reason"], shown["done"], shown["attempts_left"]) == ("revisit", False, 3 - number)
    assert household.kk not in in_index(household.sls_code[:10])
    assert (shown["reason"], shown["done"], shown["attempts_left"]) == ("attempts_exhausted", True, 0)
    # A retry of the third visit is still answered as the first time; a fourth is refused.
    assert visit("OFC-3", household.kk, {"outcome": "not_home"}, key=f"exhaust-{household.kk}-3")[0] == 201
    status, answer = visit("OFC-3", household.kk, {"outcome": "not_home"}, key=f"exhaust-{household.kk}-4")
    assert (status, answer["error"]["code"]) == (409, "visit_attempts_exhausted")
    assert len(store.list_visits(household.kk)) == 3, "nothing written for the refused visit"
    status, answer = visit(
        "OFC-3", household.kk, {"outcome": "interviewed", "response": submission_body(household)}, key="exhaust-iv"
    )
    assert (status, answer["status"]) == (201, "interviewed")
    shown = next(e for e in all_pages("OFC-3") if e["kk"] == household.kk)
    assert (shown["reason"], shown["done"]) == (None, True)


def test_a_visit_keeps_the_phones_time_and_consented_position(field: list[RegisterHousehold]) -> None:
    generate(CITY, who("SPV-CITY", "supervisor"))
    kk = next(e for e in all_pages("OFC-1") if not e["done"])["kk"]
    phone_time = (datetime.now(UTC) - timedelta(hours=5)).replace(microsecond=345000)
    body = {
        "outcome": "refused",
        "note": "di balik pagar",
        "recorded_at": phone_time.astimezone(timezone(timedelta(hours=7))).isoformat(timespec="milliseconds"),
        "position": {"lat": -2.9761, "lon": 104.7754, "accuracy": 12.5},
    }
    status, answer = call(
        "fieldwork",
        "POST",
        "/v1/households/{kk}/visits",
        {"kk": kk},
        body=body,
        claims=who("OFC-1"),
        headers={"Idempotency-Key": "paradata-1"},
    )
    expected = phone_time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert (status, answer["recorded_at"]) == (201, expected), answer
    stored = store.get_visit(kk, "paradata-1")
    assert stored is not None and stored.recorded_at == expected
    assert stored.position == {"lat": -2.9761, "lon": 104.7754, "accuracy": 12.5}
    status, answer = visit("OFC-1", kk, {"outcome": "not_home"})
    stored_without = next(v for v in store.list_visits(kk) if v.visit_id != "paradata-1")
    assert (stored_without.recorded_at, stored_without.position) == (None, None)


@pytest.mark.parametrize(
    ("body", "code", "where"),
    [
        ({"outcome": "not_home", "recorded_at": "2999-01-01T00:00:00Z"}, "future_date", "recorded_at"),
        ({"outcome": "not_home", "recorded_at": "kemarin"}, "invalid_date", "recorded_at"),
        ({"outcome": "not_home", "recorded_at": "2026-01-02T10:11:12"}, "invalid_date", "recorded_at"),
        ({"outcome": "not_home", "recorded_at": "2001-01-01T00:00:00Z"}, "invalid_date", "recorded_at"),
        ({"outcome": "not_home", "position": {"lat": 91, "lon": 0, "accuracy": 5}}, "invalid_value", "position.lat"),
        ({"outcome": "not_home", "position": {"lat": 0, "lon": 0}}, "missing_field", "position.accuracy"),
        ({"outcome": "not_home", "position": {"lat": "0", "lon": 0, "accuracy": 1}}, "invalid_value", "position.lat"),
        ({"outcome": "not_home", "position": {"lat": 0, "lon": 0, "accuracy": 1, "alt": 3}}, "unknown_field", None),
    ],
)
def test_bad_paradata_is_refused(field: list[RegisterHousehold], body: dict[str, Any], code: str, where: str) -> None:
    generate(CITY, who("SPV-CITY", "supervisor"))
    kk = all_pages("OFC-4")[-1]["kk"]
    before = len(store.list_visits(kk))
    status, answer = visit("OFC-4", kk, body)
    assert (status, answer["error"]["code"]) == (422, code), answer
    if where:
        assert answer["error"]["field"] == where
    assert len(store.list_visits(kk)) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"outcome": "interviewed"}, "invalid_value"),
        ({"outcome": "away"}, "invalid_choice"),
        ({"outcome": "not_home", "note": "x" * 600}, "invalid_length"),
        ({"outcome": "not_home", "note": "bell\u0007"}, "invalid_value"),
        ({"outcome": "not_home", "surprise": 1}, "unknown_field"),
    ],
)
def test_bad_visits_are_refused(field: list[RegisterHousehold], body: dict[str, Any], code: str) -> None:
    generate(CITY, who("SPV-CITY", "supervisor"))
    kk = all_pages("OFC-4")[-1]["kk"]
    status, answer = visit("OFC-4", kk, body)
    assert (status, answer["error"]["code"]) == (422, code)


def test_an_invalid_interview_response_is_422_with_the_field(field: list[RegisterHousehold]) -> None:
    generate(CITY, who("SPV-CITY", "supervisor"))
    kk = all_pages("OFC-4")[-2]["kk"]
    household = next(h for h in field if h.kk == kk)
    response = submission_body(household)
    response["members"][0] = member_body(household.members[0], birth_date="1890-01-01")
    status, answer = visit("OFC-4", kk, {"outcome": "interviewed", "response": response})
    assert status == 422
    assert answer["error"]["field"].startswith("members[0]")


def test_interview_prefill_shows_register_members_and_latest_response(field: list[RegisterHousehold]) -> None:
    generate(CITY, who("SPV-CITY", "supervisor"))
    kk = all_pages("OFC-1")[0]["kk"]
    household = next(h for h in field if h.kk == kk)
    status, answer = call("fieldwork", "GET", "/v1/households/{kk}", {"kk": kk}, claims=who("OFC-1"))
    assert status == 200
    assert [m["nik"] for m in answer["register_members"]] == [m.nik for m in household.members]
    assert answer["address"] == household.address


def test_area_rights_are_enforced_on_every_officer_route(field: list[RegisterHousehold]) -> None:
    generate(CITY, who("SPV-CITY", "supervisor"))
    theirs = all_pages("OFC-1")[0]["kk"]
    expectations = [
        (generate(CITY, who("OFC-1")), 403, "supervisor_only"),
        (generate(D2, who("SPV-D1", "supervisor")), 403, "forbidden"),
        (generate(CITY, who("SPV-D1", "supervisor")), 403, "forbidden"),
        (call("fieldwork", "GET", "/v1/households/{kk}", {"kk": theirs}, claims=who("OFC-4")), 403, "forbidden"),
        (visit("OFC-4", theirs, {"outcome": "refused"}), 403, "forbidden"),
        (
            call(
                "fieldwork",
                "GET",
                "/v1/areas/{area_code}/progress",
                {"area_code": D2},
                claims=who("SPV-D1", "supervisor"),
            ),
            403,
            "forbidden",
        ),
        (
            call("fieldwork", "GET", "/v1/areas/{area_code}/progress", {"area_code": D1}, claims=who("OFC-1")),
            403,
            "supervisor_only",
        ),
        (worklist("NOBODY"), 403, "not_on_roster"),
        (call("fieldwork", "GET", "/v1/officers/me/worklist", {}), 401, "unauthorized"),
        (generate("16", who("SPV-CITY", "supervisor")), 422, "area_too_large"),
        (generate("9999", who("SPV-CITY", "supervisor")), 422, "invalid_area_code"),
    ]
    for (status, answer), want_status, want_code in expectations:
        assert (status, answer["error"]["code"]) == (want_status, want_code)
    # the district supervisor may generate their own district
    assert generate(D1, who("SPV-D1", "supervisor"))[0] == 201


def test_progress_figures_follow_every_status_change(field: list[RegisterHousehold]) -> None:
    def progress() -> dict[str, Any]:
        drain_stream()  # the counters move from the table's stream (docs/decisions/0019)
        status, answer = call(
            "fieldwork",
            "GET",
            "/v1/areas/{area_code}/progress",
            {"area_code": CITY},
            claims=who("SPV-CITY", "supervisor"),
        )
        assert status == 200
        return answer

    before = progress()
    assert before["households"] == 300
    assert [c["area_code"] for c in before["children"]] == [D1, D2, D3]
    assert sum(c["households"] for c in before["children"]) == 300
    statuses = ("pending", "clean", "needs_review", "interviewed", "not_home", "refused", "moved")
    assert sum(before[s] for s in statuses) == 300, "every household is counted in exactly one status"
    fresh = next(h for h in field if store.household_states([h.kk])[h.kk].status == "pending")
    assert submit_online(fresh)[0] == 201
    after = progress()
    assert (after["pending"], after["clean"], after["responded_online"], after["to_visit"]) == (
        before["pending"] - 1,
        before["clean"] + 1,
        before["responded_online"] + 1,
        before["to_visit"] - 1,
    )
    assert sum(after[s] for s in statuses) == 300


def test_a_new_generation_keeps_recorded_visits(field: list[RegisterHousehold]) -> None:
    generate(CITY, who("SPV-CITY", "supervisor"))
    kk = next(e["kk"] for e in all_pages("OFC-3") if not e["done"])
    assert visit("OFC-3", kk, {"outcome": "refused"})[0] == 201
    generate(CITY, who("SPV-CITY", "supervisor"))
    assert [v.outcome for v in store.list_visits(kk)] == ["refused"]
    entry = next(e for e in all_pages("OFC-3") if e["kk"] == kk)
    assert (entry["status"], entry["reason"], entry["visit_attempts"]) == ("refused", "revisit", 1)


def test_nationwide_schedule_fans_out_through_sqs(
    field: list[RegisterHousehold], monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName=f"worklists-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    monkeypatch.setenv("WORKLIST_QUEUE_URL", queue)
    handler = _handler("worklists")
    planned = handler({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, LambdaContext())
    assert planned == {"messages": 1}
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["area_code"] for m in messages] == [CITY]

    def record(body: str, message_id: str) -> dict[str, Any]:
        return {
            "messageId": message_id,
            "receiptHandle": "h",
            "body": body,
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:ap-southeast-3:123456789012:worklists",
            "awsRegion": "ap-southeast-3",
        }

    event = {"Records": [record(messages[0]["Body"], "good"), record("not json", "bad")]}
    answer = handler(event, LambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    generation = store.WorklistGeneration.get(f"AREA#{SLS1[:10]}", "WORKLISTS")
    assert generation.generated_by == "schedule"


def test_roster_reimport_is_idempotent_and_drops_areas_no_longer_covered(
    field: list[RegisterHousehold], tmp_path: Path
) -> None:
    moved = tmp_path / "roster.csv"
    moved.write_text(ROSTER.replace(f"OFC-2,Dewi Lestari,officer,{SLS1}", f"OFC-2,Dewi Lestari,officer,{SLS3}"))
    assert import_roster(moved).officers_written == 6
    covering_sls1 = {e.officer for e in store.roster_within(SLS1) if e.role == "officer"}
    assert covering_sls1 == {"OFC-1"}
    assert import_roster(moved).officers_written == 6
    restored = tmp_path / "restored.csv"
    restored.write_text(ROSTER)
    import_roster(restored)
    assert {e.officer for e in store.roster_within(SLS1) if e.role == "officer"} == {"OFC-1", "OFC-2"}


def test_reimporting_the_register_never_counts_a_household_twice(
    field: list[RegisterHousehold], tmp_path: Path
) -> None:
    rows = store.progress_rows(CITY)
    before = {r.sk: (int(r.households), int(r.pending) + int(r.clean)) for r in rows}
    register = tmp_path / "register.csv"
    write_demo_register(register, 300, seed=11)
    # --restart reruns every batch: the households exist, created by these very batches
    # (as after a crash before their counters were added): counted once, not again.
    report = import_register(register, restart=True, workers=1)
    assert report.households_written == 300 and not report.errors
    after = {r.sk: (int(r.households), int(r.pending) + int(r.clean)) for r in store.progress_rows(CITY)}
    assert after == before
    assert sum(h for h, _ in after.values()) == 300


def test_demo_fieldwork_runs_the_seed_scenario_in_small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from census_ops.cli import main

    code = main(
        [
            "demo-fieldwork",
            "--households",
            "120",
            "--online",
            "90",
            "--officers",
            "6",
            "--store",
            "memory",
            "--data-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Progress for 1671:" in out
    city_row = next(line for line in out.splitlines() if line.split() and line.split()[0] == "1671")
    households, online, _, clean, review, pending, to_visit = city_row.split()[1:8]
    assert (households, online, pending) == ("120", "90", "30")
    assert int(clean) + int(review) == 90
    assert f"Worklists for 1671: {to_visit} households for 6 officers" in out
