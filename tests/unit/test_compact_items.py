"""Items kept under 1 KB (docs/decisions/0018): a draft's body compressed, failed visits on
META. Sizes by DynamoDB's rules (census_ops/bench/units.py), printed with `-s`; items
written in the shape before still read."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import boto3
import pytest
from pynamodb.attributes import ListAttribute, MapAttribute

from census_ops.bench.units import item_size
from census_ops.register import RegisterHousehold
from shared import store
from shared.nik import make_nik
from shared.store.schema import DRAFT_SK, META_SK, VISIT_PREFIX, household_pk, version_sk
from tests.conftest import Invoke, invoke, member_body, submission_body

PASSWORD = "kopi-tubruk-di-teras"  # a test household's password


def _raw(table: str, kk: str, sk: str) -> dict[str, Any]:
    key = {"pk": {"S": household_pk(kk)}, "sk": {"S": sk}}
    return dict(boto3.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])


def _sessions(method: str, resource: str, **kwargs: Any) -> tuple[int, Any]:
    from functions.sessions.app import lambda_handler

    answer = invoke(lambda_handler, method, resource, {}, **kwargs)
    return answer["statusCode"], json.loads(answer["body"]) if answer["body"] else None


def _session(household: RegisterHousehold) -> dict[str, str]:
    status, answer = _sessions(
        "POST", "/v1/sessions", body={"kk": household.kk, "nik": household.members[-1].nik, "new_password": PASSWORD}
    )
    assert status == 201, answer
    return {"Authorization": f"Bearer {answer['token']}"}


def _five_members(household: RegisterHousehold) -> list[dict[str, Any]]:
    born = date(2015, 3, 4)
    extra = [
        member_body(
            household.members[-1],
            nik=make_nik(household.kk[:6], "female", born, 9100 + i),
            name=f"Anak {i}",
            sex="female",
            birth_date=born.isoformat(),
            relationship="child",
        )
        for i in range(5 - len(household.members))
    ]
    return [member_body(m) for m in household.members[:5]] + extra


def test_a_draft_is_stored_compressed_under_1_kb_and_one_stored_as_text_still_reads(
    moto_table: str, households: list[RegisterHousehold]
) -> None:
    household = next(h for h in households if 3 <= len(h.members) <= 5)
    headers = _session(household)
    members = _five_members(household)
    resource = "/v1/session/household/draft"
    assert _sessions("PUT", resource, body={"members": members}, headers=headers)[0] == 200
    raw = _raw(moto_table, household.kk, DRAFT_SK)
    assert set(raw["body"]) == {"B"}
    plain = dict(raw, body={"S": json.dumps({"members": members}, separators=(",", ":"))})
    print(f"5-member draft item: {item_size(raw)} bytes compressed, {item_size(plain)} as text")
    assert item_size(raw) < 1024 < item_size(plain)
    given = [{name: value for name, value in m.items() if value is not None} for m in members]
    assert _sessions("GET", "/v1/session/household", headers=headers)[1]["draft"]["members"] == given

    # A draft stored before (its body a plain JSON string) reads as it did.
    old = dict(raw, body={"S": json.dumps({"members": [{"religion": "hindu"}]})})
    boto3.client("dynamodb").put_item(TableName=moto_table, Item=old)
    assert _sessions("GET", "/v1/session/household", headers=headers)[1]["draft"]["members"] == [{"religion": "hindu"}]


def test_a_5_member_version_is_stored_under_1_kb_and_one_stored_with_maps_still_reads(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = next(h for h in households if len(h.members) == 5)
    body = submission_body(household)
    gone = body["members"].pop()
    body["departed"] = [{"nik": gone["nik"], "reason": "moved_out"}]
    body["respondent_nik"] = body["members"][0]["nik"]
    assert submit(household.kk, body)[0] == 201
    body["members"].append(gone)
    body["departed"] = []
    assert submit(household.kk, body)[0] == 200  # the correction: all 5 members
    first, second = (_raw(moto_table, household.kk, version_sk(n)) for n in (1, 2))
    assert all(set(m) == {"S"} for m in second["members"]["L"]) and set(first["departed"]["L"][0]) == {"S"}
    maps = ListAttribute(of=MapAttribute)
    stored = store.list_versions(household.kk)
    as_maps = dict(second, members={"L": maps.serialize(stored[1].members)})
    print(f"5-member version item: {item_size(second)} bytes, {item_size(as_maps)} with members as maps")
    assert item_size(second) < 1024 < item_size(as_maps)
    assert [m["nik"] for m in stored[1].members] == [m["nik"] for m in body["members"]]
    assert stored[1].members[0] == {**body["members"][0], "added_because": None, "from_register": True}
    assert stored[0].departed == [{"nik": gone["nik"], "reason": "moved_out"}]

    # A version stored before (members and departed as maps) reads the same, by every reader.
    old = dict(first, departed={"L": maps.serialize(stored[0].departed)})
    old["members"] = {"L": maps.serialize(stored[0].members)}
    boto3.client("dynamodb").put_item(TableName=moto_table, Item=old)
    again = store.list_versions(household.kk)
    assert (again[0].members, again[0].departed) == (stored[0].members, stored[0].departed)
    latest = store.latest_version(household.kk)
    assert latest is not None and latest.members == stored[1].members


def _failed_visit(state: store.HouseholdRecord, number: int, *, position: bool) -> store.VisitChange:
    visit = store.VisitRecord(
        visit_id=f"field-{number:032x}",
        officer_id="OFC-0001",
        outcome="not_home",
        note=None,
        visited_at=f"2026-11-2{number}T09:15:02.123Z",
        attempt=state.visit_attempts + 1,
        status="not_home",
        version=state.version,
        recorded_at=f"2026-11-2{number}T09:14:41.000Z",
        position={"lat": -2.976108, "lon": 104.775431, "accuracy": 12.5} if position else None,
    )
    return store.VisitChange(
        kk=state.kk,
        sls_code=state.sls_code,
        expected_version=state.version,
        expected_status=state.status,
        expected_attempts=state.visit_attempts,
        status="not_home",
        visit=visit,
        stays_on_worklist=state.visit_attempts + 1 < 3,
        meta_holds_visits=bool(state.visit_ids),
    )


def _state(kk: str) -> store.HouseholdRecord:
    household = store.load_household(kk)
    assert household is not None
    return household.state


def test_failed_visits_live_on_meta_which_stays_under_1_kb_with_three(
    moto_table: str, households: list[RegisterHousehold]
) -> None:
    household = households[0]
    before = item_size(_raw(moto_table, household.kk, META_SK))
    sizes = []
    for number in (1, 2, 3):
        change = _failed_visit(_state(household.kk), number, position=True)
        store.save_visit(change)  # nothing else moves: one UpdateItem of META
        sizes.append(item_size(_raw(moto_table, household.kk, META_SK)))
    print(f"META: {before} bytes after the import, {sizes} after 1, 2, 3 visits with position")
    assert sizes[-1] <= 1024
    assert len(_raw(moto_table, household.kk, META_SK)["visits"]["M"]) == 3
    own_items = boto3.client("dynamodb").query(
        TableName=moto_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :visit)",
        ExpressionAttributeValues={":pk": {"S": household_pk(household.kk)}, ":visit": {"S": VISIT_PREFIX}},
    )
    assert own_items["Count"] == 0, "no item of their own"
    visits = store.list_visits(household.kk)
    assert [(v.attempt, v.outcome, v.status) for v in visits] == [(1, "not_home", "not_home")] + [
        (n, "not_home", "not_home") for n in (2, 3)
    ]
    assert visits[-1] == change.visit  # every field, the position too
    assert store.get_visit(household.kk, change.visit.visit_id) == change.visit
    state = _state(household.kk)
    assert (state.visit_attempts, state.on_worklist) == (3, False)

    # The same visit again: the condition on its id refuses it, as a replay; nothing changes.
    again = _failed_visit(_state(household.kk), 3, position=True)
    with pytest.raises(store.VisitReplay):
        store.save_visit(again)
    assert _state(household.kk).visit_attempts == 3


def test_a_concurrent_writer_is_a_conflict_not_a_replay(moto_table: str, households: list[RegisterHousehold]) -> None:
    household = households[1]
    read = _state(household.kk)
    store.save_visit(_failed_visit(read, 1, position=False))
    with pytest.raises(store.VersionConflict):
        store.save_visit(_failed_visit(read, 2, position=False))  # attempts moved on since `read`
    assert [v.visit_id for v in store.list_visits(household.kk)] == [f"field-{1:032x}"]


def test_visits_stored_as_their_own_items_before_still_read(
    moto_table: str, households: list[RegisterHousehold]
) -> None:
    household = households[2]
    state = _state(household.kk)
    old = _failed_visit(state, 1, position=True).visit
    old.item(household.kk).save()  # the shape before: a VISIT# item
    store.save_visit(_failed_visit(state, 2, position=False))
    assert [v.visit_id for v in store.list_visits(household.kk)] == [old.visit_id, f"field-{2:032x}"]
    assert store.get_visit(household.kk, old.visit_id) == old
    assert store.get_visit(household.kk, "field-unknown") is None


def test_a_households_repr_leaves_out_keys_and_personal_data() -> None:
    from shared.store.records import HouseholdRecord

    record = HouseholdRecord(
        kk="1671010101000001",
        status="pending",
        version=0,
        sls_code="16710101010001",
        address="Jl. Merdeka 1",
        head_name="Budi Santoso",
        enrolment_key="digest-of-a-key",
        idempotency={"digest-2": "1:1767225600"},
        visit_ids=frozenset({"visit-key-3"}),
    )
    shown = repr(record)
    assert shown.startswith("HouseholdRecord(kk='1671010101000001', status='pending'")
    for secret in ("Jl. Merdeka", "Budi", "digest-of-a-key", "digest-2", "visit-key-3"):
        assert secret not in shown
    assert record == HouseholdRecord(**{f: getattr(record, f) for f in record.__struct_fields__})
