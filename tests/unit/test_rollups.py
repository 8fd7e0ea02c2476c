"""The large areas' progress rollup on a populated moto table: its sums equal an independent
recount of the households, a refresh is idempotent and an older one landing after a newer one
changes nothing, one province failing leaves the others refreshed, the progress route and the
history's today point answer a regency or province from it (with its "as of" time) while
districts and below stay live, a submission, a review decision and a visit move the city
exactly once (with the next refresh), a stale or missing rollup falls back to live figures,
another area's supervisor is refused with a rollup in place, and the answers carry the areas'
names (or none when the names cannot be read)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from census_ops.events import lambda_context
from census_ops.register import RegisterHousehold
from shared import store
from shared.areas import parent_area
from shared.officers import SUPERVISOR, Caller
from shared.progress import ROLLUP_STALE_SECONDS, area_progress, as_of_text, progress_for_supervisor, recount
from shared.rollups import refresh_rollups
from shared.store import PROGRESS_FIELDS
from shared.store.recount import count_table
from shared.store.schema import ProgressRollup, rollup_key
from tests.conftest import drain_stream, submission_body
from tests.integration.scenario import CITY, CITY_SUPERVISOR, Field, call, handler, moto_field, who

SESSION_KEY = secrets.token_hex(32)
PROVINCE = CITY[:2]


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Field]:
    folder = tmp_path_factory.mktemp("rollups")
    with moto_field(folder, "rollups", households=120, officers=8, session_key=SESSION_KEY) as (populated, _):
        yield populated


def progress(area: str) -> dict[str, Any]:
    """The route's answer for the city supervisor; a province's (beyond any demo supervisor's
    areas) from the route's domain function for a province supervisor."""
    if len(area) == 2:
        return progress_for_supervisor(Caller("SPV-16", frozenset({SUPERVISOR}), (area,)), area)
    status, _, answer = call(
        "fieldwork",
        "GET",
        "/v1/areas/{area_code}/progress",
        {"area_code": area},
        claims=who(CITY_SUPERVISOR, "supervisor"),
    )
    assert status == 200, answer
    return dict(answer)


def figures(answer: dict[str, Any]) -> dict[str, Any]:
    """The figures of an answer and its children, without where they came from."""
    drop = {"source", "as_of", "refresh_seconds", "area_names"}
    return {k: v for k, v in answer.items() if k not in drop}


def submit(household: RegisterHousehold) -> None:
    status, _, answer = call(
        "intake", "POST", "/v1/households/{kk}/responses", {"kk": household.kk}, body=submission_body(household)
    )
    assert status in (200, 201), answer
    drain_stream()  # the counters move from the table's stream (docs/decisions/0019)


def added(rows: list[dict[str, int]]) -> dict[str, int]:
    """The test's own sum of per-SLS counters (not the code's `summed`)."""
    return {name: sum(row.get(name, 0) for row in rows) for name in PROGRESS_FIELDS}


def refresh_newer() -> dict[str, Any]:
    """A refresh as of now, or a second after the rollup there if that is later (a put as of
    the same second as the item's is refused: two refreshes within a second would not move)."""
    moment = datetime.now(UTC).replace(microsecond=0)
    last = store.get_rollup(CITY)
    if last is not None:
        moment = max(moment, datetime.fromisoformat(last.as_of.replace("Z", "+00:00")) + timedelta(seconds=1))
    return refresh_rollups(now=moment)


def test_the_rollup_sums_equal_an_independent_recount_of_the_households(field: Field) -> None:
    submit(field.households[0])
    result = refresh_rollups()
    sls_codes = {h.sls_code for h in field.households}
    assert result["areas"] == 2 and result["sls"] == len(sls_codes) and result["failed"] == 0
    # The households themselves, recounted from nothing (their META and first versions).
    recounted = recount(count_table(CITY, segments=1).households)
    assert set(recounted) == sls_codes
    regency = store.get_rollup(CITY)
    assert regency is not None and regency.sls == len(sls_codes)
    assert regency.figures == added(list(recounted.values()))
    districts = sorted({code[:7] for code in sls_codes})
    assert sorted(regency.children) == districts
    for district in districts:
        assert regency.children[district] == added([v for k, v in recounted.items() if k.startswith(district)])
    assert regency.figures["households"] == len(field.households)
    assert regency.figures["responded_online"] >= 1
    province = store.get_rollup(PROVINCE)
    assert province is not None and province.children == {CITY: regency.figures}
    assert province.figures == regency.figures and province.sls == regency.sls
    # ... and the route's answer from it is the live answer, figure for figure.
    assert figures(progress(CITY)) == figures(area_progress(CITY))


def test_a_refresh_is_idempotent(field: Field) -> None:
    moment = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)
    drop_rollups()  # (earlier tests' refreshes are newer: this one's would be refused)
    refresh_rollups(now=moment)
    first = {area: ProgressRollup.get(*rollup_key(area)).attribute_values for area in (CITY, PROVINCE)}
    refresh_rollups(now=moment)
    again = {area: ProgressRollup.get(*rollup_key(area)).attribute_values for area in (CITY, PROVINCE)}
    assert again == first
    refresh_rollups(now=moment + timedelta(minutes=5))
    later = store.get_rollup(CITY)
    assert later is not None and later.as_of == "2026-11-29T14:10:00Z"
    assert (later.figures, later.children) == (json_of(first[CITY], "figures"), json_of(first[CITY], "children"))


def json_of(values: dict[str, Any], name: str) -> Any:
    import json

    return json.loads(values[name])


def test_large_areas_answer_from_the_rollup_and_smaller_ones_live(field: Field) -> None:
    refresh_newer()
    city = progress(CITY)
    assert city["source"] == "rollup" and city["refresh_seconds"] == 300
    assert datetime.fromisoformat(city["as_of"].replace("Z", "+00:00")) <= datetime.now(UTC)
    household = next(h for h in field.households[5:] if h.sls_code[:7] == field.households[5].sls_code[:7])
    district_code = household.sls_code[:7]
    district = progress(district_code)
    assert district["source"] == "live" and district["refresh_seconds"] is None
    submit(household)
    # The district moves at once (live); the city only with the next refresh, exactly once.
    assert progress(district_code)["responded_online"] == district["responded_online"] + 1
    assert progress(CITY)["responded_online"] == city["responded_online"]
    refresh_newer()
    moved = progress(CITY)
    assert moved["responded_online"] == city["responded_online"] + 1
    row = next(c for c in moved["children"] if c["area_code"] == district_code)
    assert row["responded_online"] == district["responded_online"] + 1
    assert progress(PROVINCE)["source"] == "rollup"


def drop_rollups() -> None:
    for area in (CITY, PROVINCE):
        ProgressRollup(*rollup_key(area)).delete()


def test_a_stale_or_missing_rollup_falls_back_to_live_figures(field: Field) -> None:
    drop_rollups()  # (a refresh as of earlier than the one there would be refused)
    refresh_rollups(now=datetime.now(UTC) - timedelta(seconds=ROLLUP_STALE_SECONDS + 60))
    stale = progress(CITY)
    assert stale["source"] == "live"
    assert figures(stale) == figures(area_progress(CITY))
    refresh_rollups(now=datetime.now(UTC) - timedelta(seconds=ROLLUP_STALE_SECONDS - 120))
    assert progress(CITY)["source"] == "rollup", "within the bound the rollup still answers"
    ProgressRollup.get(*rollup_key(PROVINCE)).delete()
    missing = progress(PROVINCE)
    assert missing["source"] == "live" and figures(missing) == figures(area_progress(PROVINCE))


def test_an_older_refresh_landing_after_a_newer_one_leaves_the_newer_figures(field: Field) -> None:
    drop_rollups()
    newer_moment = datetime.now(UTC)
    before = area_progress(CITY)["responded_online"]
    submit(field.households[1])  # the newer refresh sees it
    newer = refresh_rollups(now=newer_moment)
    assert (newer["areas"], newer["skipped"]) == (2, 0)
    written = {area: store.get_rollup(area) for area in (CITY, PROVINCE)}
    assert written[CITY] is not None and written[CITY].figures["responded_online"] == before + 1
    # A slower refresh that read the counters earlier lands last: as if before the submission.
    older = refresh_rollups(now=newer_moment - timedelta(seconds=30))
    assert (older["areas"], older["skipped"]) == (2, 2)
    assert {area: store.get_rollup(area) for area in (CITY, PROVINCE)} == written
    # The same time again (a retried invocation) changes nothing either; a later one writes.
    assert refresh_rollups(now=newer_moment)["skipped"] == 2
    later = refresh_rollups(now=newer_moment + timedelta(seconds=1))
    assert later["skipped"] == 0
    rollup = store.get_rollup(CITY)
    assert rollup is not None and rollup.as_of == as_of_text(newer_moment + timedelta(seconds=1))


def test_one_province_failing_leaves_the_others_refreshed(field: Field) -> None:
    """A regency of province 11 whose counter item is corrupt (a string where a number should
    be, written straight to the table) fails that province's refresh: it is counted, and the
    demo province is still refreshed."""
    import boto3

    from shared.store import schema

    drop_rollups()
    table = schema.CensusItem.Meta.table_name
    client = boto3.client("dynamodb", region_name=schema.CensusItem.Meta.region)
    broken = "1101010001" + "0001"
    marker = {"pk": {"S": schema.progress_pk("11")}, "sk": {"S": "1101"}}
    counter = {"pk": {"S": schema.progress_pk("1101")}, "sk": {"S": broken}}
    client.put_item(TableName=table, Item={**schema.AreaMarker(*schema.regency_marker_key(broken)).serialize()})
    client.put_item(TableName=table, Item={**counter, "households": {"S": "not a number"}})
    try:
        result = refresh_newer()
    finally:
        client.delete_item(TableName=table, Key=marker)
        client.delete_item(TableName=table, Key=counter)
    assert result["failed"] == 1 and result["failed_provinces"] == ["11"], result
    assert result["areas"] == 2
    assert store.get_rollup(CITY) is not None and store.get_rollup(PROVINCE) is not None
    assert store.get_rollup("11") is None and store.get_rollup("1101") is None


def test_the_schedule_refreshes_through_the_rollup_function(field: Field) -> None:
    event = {"job": "progress-rollup"}
    result = handler("rollup")(event, lambda_context("ProgressRollupFunction"))
    assert result["areas"] == 2 and result["failed"] == 0
    rollup = store.get_rollup(CITY)
    assert rollup is not None and rollup.as_of >= result["as_of"]
    with pytest.raises(ValueError):
        handler("rollup")({"job": "something-else"}, lambda_context("ProgressRollupFunction"))


def history_today(area: str, claims: dict[str, str]) -> dict[str, Any]:
    status, _, answer = call(
        "console", "GET", "/v1/areas/{area_code}/progress/history", {"area_code": area}, claims=claims
    )
    assert status == 200, answer
    return dict(answer["days"][-1])


def test_the_history_today_point_is_the_progress_answer(field: Field) -> None:
    """The page loads /progress and /progress/history together: for a regency both come from
    the rollup (and agree, before and after a submission the rollup has not seen yet); a
    district's are both live; a stale rollup makes both live."""
    refresh_newer()
    city = who(CITY_SUPERVISOR, "supervisor")
    answer, today = progress(CITY), history_today(CITY, city)
    assert today["source"] == "rollup" and today["as_of"] == answer["as_of"]
    assert {k: today[k] for k in store.SNAPSHOT_FIGURES} == {k: answer[k] for k in store.SNAPSHOT_FIGURES}
    submit(field.households[2])
    moved = history_today(CITY, city)
    assert {k: moved[k] for k in store.SNAPSHOT_FIGURES} == {k: answer[k] for k in store.SNAPSHOT_FIGURES}
    district = field.households[2].sls_code[:7]
    live = history_today(district, city)
    assert live["source"] == "live" and live["responded_online"] == area_progress(district)["responded_online"]
    drop_rollups()
    refresh_rollups(now=datetime.now(UTC) - timedelta(seconds=ROLLUP_STALE_SECONDS + 60))
    stale = history_today(CITY, city)
    assert stale["source"] == "live" and stale["responded_online"] == area_progress(CITY)["responded_online"]
    assert stale["responded_online"] == answer["responded_online"] + 1


def city_change(act: Any) -> None:
    """`act` moves the city's figures only with the next refresh, by exactly what it moved the
    district's live figures, and a second refresh moves nothing more."""
    refresh_newer()
    before_city = figures(progress(CITY))
    district, live_before = act.district, area_progress(act.district)
    act()
    live_after = area_progress(district)
    delta = {k: live_after[k] - live_before[k] for k in PROGRESS_FIELDS if live_after[k] != live_before[k]}
    assert delta, "the act moved the district's figures"
    assert figures(progress(CITY)) == before_city, "not before the next refresh"
    refresh_newer()
    after_city = figures(progress(CITY))
    assert {k: after_city[k] - before_city[k] for k in PROGRESS_FIELDS if after_city[k] != before_city[k]} == delta
    refresh_newer()
    assert figures(progress(CITY)) == after_city, "and nothing more on a second refresh"


def test_a_review_decision_moves_the_city_exactly_once(field: Field) -> None:
    household = next(h for h in field.households[40:] if len(h.members) >= 2)
    body = submission_body(household)
    body["members"] = [m for m in body["members"] if m["relationship"] == "head"] or body["members"][:1]
    status, _, answer = call("intake", "POST", "/v1/households/{kk}/responses", {"kk": household.kk}, body=body)
    assert status in (200, 201) and answer["status"] == "needs_review", answer
    drain_stream()

    def decide() -> None:
        status, _, answer = call(
            "console",
            "POST",
            "/v1/households/{kk}/review",
            {"kk": household.kk},
            body={"decision": "accept", "version": 1},
            claims=who(CITY_SUPERVISOR, "supervisor"),
        )
        assert status == 200 and answer["status"] == "clean", answer
        drain_stream()

    decide.district = household.sls_code[:7]  # type: ignore[attr-defined]
    city_change(decide)


def test_a_visit_moves_the_city_exactly_once(field: Field) -> None:
    status, _, answer = call(
        "worklists",
        "POST",
        "/v1/areas/{area_code}/worklists",
        {"area_code": CITY},
        claims=who(CITY_SUPERVISOR, "supervisor"),
    )
    assert status in (200, 201, 202), answer
    officer, kk = next((o, kk) for o in field.officers() for kk in field.assigned(o))
    household = field.household(kk)

    def visit() -> None:
        status, _, answer = call(
            "fieldwork",
            "POST",
            "/v1/households/{kk}/visits",
            {"kk": kk},
            body={"outcome": "moved"},
            claims=who(officer),
        )
        assert status == 201 and answer["status"] == "moved", answer
        drain_stream()

    visit.district = household.sls_code[:7]  # type: ignore[attr-defined]
    city_change(visit)


def test_another_areas_supervisor_is_refused_with_a_fresh_rollup_in_place(field: Field) -> None:
    refresh_newer()
    other = "1672"
    store.save_rollups(
        [store.RollupRecord(other, as_of_text(datetime.now(UTC)), 1, {"households": 5}, {"1672010": {"households": 5}})]
    )
    supervisor, district = field.district_supervisors()[0]
    for area, claims in (
        (other, who(supervisor, "supervisor")),
        (CITY, who(supervisor, "supervisor")),  # the regency above a district supervisor's district
        (other, who(CITY_SUPERVISOR, "supervisor")),
        (PROVINCE, who(CITY_SUPERVISOR, "supervisor")),
    ):
        for function, resource in (
            ("fieldwork", "/v1/areas/{area_code}/progress"),
            ("console", "/v1/areas/{area_code}/progress/history"),
        ):
            status, _, answer = call(function, "GET", resource, {"area_code": area}, claims=claims)
            # (history refuses a province to anyone: 422 area_too_large)
            refused = (422, "area_too_large") if len(area) == 2 and "history" in resource else (403, "forbidden")
            assert (status, answer["error"]["code"]) == refused, (area, resource, answer)
            assert "households" not in answer
    assert progress(district[:4])["source"] == "rollup"


def test_answers_name_the_area_its_enclosing_areas_and_its_children(field: Field) -> None:
    district = field.households[0].sls_code[:7]
    store.save_areas(
        [
            store.AreaRecord(PROVINCE, "Sumatera Selatan", None),
            store.AreaRecord(CITY, "Kota Palembang", PROVINCE),
            store.AreaRecord(district, "Ilir Barat II", CITY),
        ]
    )
    refresh_newer()
    city = progress(CITY)
    assert city["area_names"] == {PROVINCE: "Sumatera Selatan", CITY: "Kota Palembang", district: "Ilir Barat II"}
    sls = field.households[0].sls_code
    store.save_areas([store.AreaRecord(sls, "RT 001 RW 001", parent_area(sls))])
    village = progress(sls[:10])
    assert village["area_names"][sls] == "RT 001 RW 001"
    assert sls[:10] not in village["area_names"], "a code without a name stays a bare code"
    queue = call(
        "console",
        "GET",
        "/v1/areas/{area_code}/review",
        {"area_code": CITY},
        claims=who(CITY_SUPERVISOR, "supervisor"),
    )[2]
    assert queue["area_names"][CITY] == "Kota Palembang"
    loads = call(
        "worklists",
        "GET",
        "/v1/areas/{area_code}/worklists",
        {"area_code": CITY},
        claims=who(CITY_SUPERVISOR, "supervisor"),
    )[2]
    assert loads["area_names"][CITY] == "Kota Palembang"
    assigned = loads["officers"][0]["sls"][0]["sls_code"]
    store.save_areas([store.AreaRecord(assigned, "RT 009 RW 002", parent_area(assigned))])
    loads = call(
        "worklists",
        "GET",
        "/v1/areas/{area_code}/worklists",
        {"area_code": CITY},
        claims=who(CITY_SUPERVISOR, "supervisor"),
    )[2]
    assert loads["area_names"][assigned] == "RT 009 RW 002"


def test_a_failed_read_of_the_names_leaves_them_out_and_the_route_answers(field: Field) -> None:
    """A corrupt entry of the master list (a number where the name should be, written straight
    to the table) fails the names' batch read: the answer comes without names."""
    import boto3

    from shared.store import schema

    refresh_newer()
    table = schema.CensusItem.Meta.table_name
    client = boto3.client("dynamodb", region_name=schema.CensusItem.Meta.region)
    key = {"pk": {"S": schema.areas_pk(PROVINCE)}, "sk": {"S": CITY}}
    entry = schema.AreaName(*(key[k]["S"] for k in ("pk", "sk")), name="Kota Palembang").serialize()
    client.put_item(TableName=table, Item={**entry, "name": {"M": {"broken": {"N": "1"}}}})
    try:
        with pytest.raises(Exception):  # noqa: B017 - the store's own read fails (any error)
            store.area_names({CITY})
        answer = progress(CITY)  # ... and the route still answers, without names
        assert answer["source"] == "rollup" and answer["area_names"] == {}
    finally:
        client.put_item(TableName=table, Item=entry)
    assert progress(CITY)["area_names"][CITY] == "Kota Palembang", "names again once the entry is right"
