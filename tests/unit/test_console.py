"""The supervisors' console API on a populated moto table: the review queue and decisions
(progress moved exactly once, a correction wins over a stale decision), worklist preview
(writes nothing), loads and reassignment (the worklist route follows it), snapshots, and
the audit trail of each action (identifiers only, append-only)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from pynamodb.exceptions import TransactWriteError

from census_ops.register import RegisterHousehold
from shared import store
from shared.review import compare_with_register, version_changes
from shared.snapshots import take_snapshots
from shared.store.audit import audit_items
from shared.store.client import transaction_connection
from tests.conftest import drain_stream, submission_body
from tests.integration.scenario import Field, call, moto_field, who

SESSION_KEY = secrets.token_hex(32)


class World:
    def __init__(self, field: Field, table: str) -> None:
        self.field, self.table = field, table
        self.supervisor, self.district = field.district_supervisors()[0]
        self.households = [h for h in field.households if h.sls_code.startswith(self.district)]

    def flagged_body(self, household: RegisterHousehold) -> dict[str, Any]:
        """A response leaving out a register member without a reason: accepted, needs review."""
        body = submission_body(household)
        body["members"] = [m for m in body["members"] if m["relationship"] == "head"] or body["members"][:1]
        return body

    def submit(self, household: RegisterHousehold, body: dict[str, Any] | None = None) -> dict[str, Any]:
        status, _, answer = call(
            "intake",
            "POST",
            "/v1/households/{kk}/responses",
            {"kk": household.kk},
            body=body or submission_body(household),
        )
        assert status in (200, 201), answer
        return dict(answer)

    def progress(self) -> dict[str, Any]:
        drain_stream()  # the counters move from the table's stream (docs/decisions/0019)
        return dict(self.sup("fieldwork", "GET", "/v1/areas/{area_code}/progress", {"area_code": self.district}))

    def sup(self, function: str, method: str, resource: str, params: dict[str, str], **kwargs: Any) -> Any:
        status, _, answer = call(
            function, method, resource, params, claims=who(self.supervisor, "supervisor"), **kwargs
        )
        assert status == 200, answer
        return answer


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("console")
    with moto_field(folder, "console", households=120, officers=8, session_key=SESSION_KEY) as (field, table):
        yield World(field, table)


def _multi(w: World, start: int) -> list[RegisterHousehold]:
    return [h for h in w.households[start:] if len(h.members) >= 2]


def test_compare_with_register_names_each_change() -> None:
    register = [
        {"nik": "1", "name": "A", "sex": "male", "birth_date": "1980-01-01", "relationship": "head"},
        {"nik": "2", "name": "B", "sex": "female", "birth_date": "1982-01-01", "relationship": "spouse"},
        {"nik": "3", "name": "C", "sex": "male", "birth_date": "2010-01-01", "relationship": "child"},
        {"nik": "4", "name": "D", "sex": "male", "birth_date": "2012-01-01", "relationship": "child"},
    ]
    members = [
        dict(register[0]),
        {**register[1], "name": "Bee"},
        {
            "nik": "5",
            "name": "E",
            "sex": "female",
            "birth_date": "2024-01-01",
            "relationship": "child",
            "added_because": "born",
        },
    ]
    rows = {r["nik"]: r for r in compare_with_register(register, members, [{"nik": "3", "reason": "died"}])}
    assert [(n, rows[n]["change"]) for n in "12345"] == [
        ("1", "unchanged"),
        ("2", "changed"),
        ("3", "departed"),
        ("4", "missing"),
        ("5", "added"),
    ]
    assert rows["2"]["changed"] == ["name"] and rows["3"]["reason"] == "died" and rows["5"]["reason"] == "born"
    changes = version_changes(register, members)
    assert changes == {"added": ["5"], "removed": ["3", "4"], "changed": [{"nik": "2", "fields": ["name"]}]}


def test_flagged_households_queue_oldest_first_and_decisions_move_progress_once(w: World) -> None:
    first, second, third = _multi(w, 0)[:3]
    before = w.progress()
    for household in (first, second, third):
        assert w.submit(household, w.flagged_body(household))["status"] == "needs_review"
    flagged = w.progress()
    assert flagged["awaiting_review"] == before["awaiting_review"] + 3
    assert flagged["needs_review"] == before["needs_review"] + 3
    queue = w.sup("console", "GET", "/v1/areas/{area_code}/review", {"area_code": w.district})
    kks = [h["kk"] for h in queue["households"]]
    assert kks[:3] == [first.kk, second.kk, third.kk], "oldest flag first"
    assert queue["households"][0]["reasons"] == ["member_missing_without_reason"]
    by_reason = w.sup(
        "console", "GET", "/v1/areas/{area_code}/review", {"area_code": w.district}, query={"reason": "spouse_under_15"}
    )
    assert not {h["kk"] for h in by_reason["households"]} & {first.kk, second.kk, third.kk}

    view = w.sup("console", "GET", "/v1/households/{kk}/review", {"kk": first.kk})
    assert view["in_review_queue"] and {r["change"] for r in view["comparison"]} == {"unchanged", "missing"}
    decided = w.sup(
        "console",
        "POST",
        "/v1/households/{kk}/review",
        {"kk": first.kk},
        body={"decision": "accept", "version": 1, "note": "checked by phone"},
    )
    assert decided["status"] == "clean"
    again = call(
        "console",
        "POST",
        "/v1/households/{kk}/review",
        {"kk": first.kk},
        body={"decision": "accept", "version": 1},
        claims=who(w.supervisor, "supervisor"),
    )
    assert (again[0], again[2]["error"]["code"]) == (409, "review_not_pending")
    bulk = w.sup(
        "console",
        "POST",
        "/v1/areas/{area_code}/review/decisions",
        {"area_code": w.district},
        body={"decision": "visit", "households": [{"kk": second.kk, "version": 1}, {"kk": first.kk, "version": 1}]},
    )
    assert [d["kk"] for d in bulk["decided"]] == [second.kk]
    assert bulk["refused"] == [{"kk": first.kk, "code": "review_not_pending"}]
    after = w.progress()
    assert after["awaiting_review"] == flagged["awaiting_review"] - 2
    assert after["needs_review"] == flagged["needs_review"] - 1  # the one sent to the field still needs it
    assert after["clean"] == flagged["clean"] + 1
    assert after["to_visit"] == flagged["to_visit"] - 1
    receipt = store.get_receipt(store.load_household(first.kk).state.receipt_code)  # type: ignore[union-attr]
    assert receipt is not None and receipt.status == "clean"
    # The officer's worklist shows the accepted household as done, the other still to visit.
    assignment = store.get_assignment(first.sls_code, first.kk)
    assert assignment is not None
    page = call(
        "fieldwork", "GET", "/v1/officers/me/worklist", {}, claims=who(assignment.officer_id), query={"limit": "200"}
    )[2]
    entry = next(e for e in page["households"] if e["kk"] == first.kk)
    assert entry["done"] and entry["status"] == "clean"


def test_a_correction_wins_over_a_stale_decision(w: World) -> None:
    household = _multi(w, 10)[0]
    w.submit(household, w.flagged_body(household))
    progress = w.progress()
    w.submit(household, w.flagged_body(household) | {"respondent_nik": household.members[0].nik})  # version 2
    status, _, answer = call(
        "console",
        "POST",
        "/v1/households/{kk}/review",
        {"kk": household.kk},
        body={"decision": "accept", "version": 1},
        claims=who(w.supervisor, "supervisor"),
    )
    assert (status, answer["error"]["code"]) == (409, "review_version_changed")
    state = store.load_household(household.kk).state  # type: ignore[union-attr]
    assert (state.status, state.version) == ("needs_review", 2)
    assert w.progress()["awaiting_review"] == progress["awaiting_review"], "still one queue entry, counted once"


def test_preview_writes_nothing_and_reassignment_reaches_the_other_officers_worklist(w: World) -> None:
    before = store.area_trail(w.district, storage_day(), 1000, None)[0]
    preview = w.sup("worklists", "GET", "/v1/areas/{area_code}/worklists/preview", {"area_code": w.district})
    assert preview["written"] is False and preview["households"] > 0
    assert store.area_trail(w.district, storage_day(), 1000, None)[0] == before
    loads = w.sup("worklists", "GET", "/v1/areas/{area_code}/worklists", {"area_code": w.district})
    giver = next(o for o in loads["officers"] if o["sls"])
    sls = giver["sls"][0]["sls_code"]
    taker = next(
        r["officer_id"]
        for r in w.field.roster
        if r["role"] == "officer" and r["officer_id"] != giver["officer_id"] and r["area_codes"].startswith(w.district)
    )
    moved = w.sup(
        "worklists",
        "POST",
        "/v1/areas/{area_code}/worklists/reassign",
        {"area_code": w.district},
        body={"from_officer": giver["officer_id"], "to_officer": taker, "sls_code": sls},
    )
    assert moved["moved"] == giver["sls"][0]["households"]
    page = call("fieldwork", "GET", "/v1/officers/me/worklist", {}, claims=who(taker), query={"limit": "200"})[2]
    assert set(moved["households"]) <= {e["kk"] for e in page["households"]}
    page = call(
        "fieldwork", "GET", "/v1/officers/me/worklist", {}, claims=who(giver["officer_id"]), query={"limit": "200"}
    )[2]
    assert not set(moved["households"]) & {e["kk"] for e in page["households"]}
    status, _, answer = call(
        "worklists",
        "POST",
        "/v1/areas/{area_code}/worklists/reassign",
        {"area_code": w.district},
        body={"from_officer": giver["officer_id"], "to_officer": taker, "sls_code": sls},
        claims=who(w.supervisor, "supervisor"),
    )
    assert (status, answer["error"]["code"]) == (409, "nothing_to_reassign")


def storage_day() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).date().isoformat()


def test_every_action_is_audited_with_identifiers_only_and_never_replaced(w: World) -> None:
    household = _multi(w, 20)[0]
    w.submit(household, w.flagged_body(household))
    w.sup(
        "console",
        "POST",
        "/v1/households/{kk}/review",
        {"kk": household.kk},
        body={"decision": "visit", "version": 1, "note": f"ask {household.members[0].name}"},
    )
    status, _, _ = call(
        "fieldwork",
        "POST",
        "/v1/households/{kk}/password-reset",
        {"kk": household.kk},
        body={},
        claims=who(w.supervisor, "supervisor"),
    )
    assert status == 409  # no password was set: nothing happened, nothing audited
    trail = w.sup("console", "GET", "/v1/households/{kk}/audit", {"kk": household.kk})["records"]
    assert [r["action"] for r in trail] == ["review_sent_to_field"]
    assert trail[0]["actor"] == w.supervisor and trail[0]["details"]["note_given"] is True
    area = w.sup("console", "GET", "/v1/areas/{area_code}/audit", {"area_code": w.district})
    actions = {r["action"] for r in area["records"]}
    assert {"review_accepted", "review_sent_to_field", "worklist_reassigned"} <= actions
    status, headers, text = call(
        "console",
        "GET",
        "/v1/areas/{area_code}/audit",
        {"area_code": w.district},
        claims=who(w.supervisor, "supervisor"),
        query={"format": "csv"},
    )
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert text.splitlines()[0] == "at,action,actor,area_code,kk,details,id"
    everything = json.dumps([r for r in area["records"]]) + text
    for person in household.members:
        assert person.nik not in everything and person.name not in everything
    assert household.address not in everything
    # Append-only: the store's audit Put refuses to replace an existing record.
    record = store.AuditRecord(**{k: v for k, v in trail[0].items() if k != "id"}, record_id=trail[0]["id"])
    with pytest.raises(TransactWriteError):
        from pynamodb.transactions import TransactWrite

        with TransactWrite(connection=transaction_connection()) as tx:
            for item in audit_items(record):
                tx.save(item, condition=store.CensusItem.pk.does_not_exist())


def test_snapshots_give_the_history_and_today_is_live(w: World) -> None:
    taken = take_snapshots("2026-02-20")
    assert taken["areas"] > 0
    history = w.sup("console", "GET", "/v1/areas/{area_code}/progress/history", {"area_code": w.district})
    days = history["days"]
    assert [d["source"] for d in days] == ["snapshot", "live"] and days[0]["day"] == "2026-02-20"
    assert days[-1]["households"] == w.progress()["households"]
