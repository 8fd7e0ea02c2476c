"""The large areas' progress rollup on a populated moto table: its sums equal a recount of the
SLS counters, a refresh is idempotent, the progress route answers a regency or province from
it (with its "as of" time) while districts and below stay live, a stale or missing rollup
falls back to live figures, and the answers carry the areas' names."""

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
from shared.progress import ROLLUP_STALE_SECONDS, area_progress, progress_for_supervisor, summed
from shared.rollups import refresh_rollups
from shared.store.schema import ProgressRollup, rollup_key
from tests.conftest import submission_body
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


def test_the_rollup_sums_equal_a_recount_of_the_sls_counters(field: Field) -> None:
    submit(field.households[0])
    result = refresh_rollups()
    assert result["areas"] == 2 and result["sls"] == len({h.sls_code for h in field.households})
    rows = store.progress_counts(CITY)
    regency = store.get_rollup(CITY)
    assert regency is not None and regency.sls == len(rows)
    assert regency.figures == summed(r.counts for r in rows)
    districts = sorted({r.sls_code[:7] for r in rows})
    assert sorted(regency.children) == districts
    for district in districts:
        assert regency.children[district] == summed(r.counts for r in rows if r.sls_code.startswith(district))
    assert regency.figures["households"] == len(field.households)
    assert regency.figures["responded_online"] >= 1
    province = store.get_rollup(PROVINCE)
    assert province is not None and province.children == {CITY: regency.figures}
    assert province.figures == regency.figures and province.sls == regency.sls
    # ... and the route's answer from it is the live answer, figure for figure.
    assert figures(progress(CITY)) == figures(area_progress(CITY))


def test_a_refresh_is_idempotent(field: Field) -> None:
    moment = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)
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
    refresh_rollups()
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
    refresh_rollups()
    moved = progress(CITY)
    assert moved["responded_online"] == city["responded_online"] + 1
    row = next(c for c in moved["children"] if c["area_code"] == district_code)
    assert row["responded_online"] == district["responded_online"] + 1
    assert progress(PROVINCE)["source"] == "rollup"


def test_a_stale_or_missing_rollup_falls_back_to_live_figures(field: Field) -> None:
    refresh_rollups(now=datetime.now(UTC) - timedelta(seconds=ROLLUP_STALE_SECONDS + 60))
    stale = progress(CITY)
    assert stale["source"] == "live"
    assert figures(stale) == figures(area_progress(CITY))
    refresh_rollups(now=datetime.now(UTC) - timedelta(seconds=ROLLUP_STALE_SECONDS - 120))
    assert progress(CITY)["source"] == "rollup", "within the bound the rollup still answers"
    ProgressRollup.get(*rollup_key(PROVINCE)).delete()
    missing = progress(PROVINCE)
    assert missing["source"] == "live" and figures(missing) == figures(area_progress(PROVINCE))


def test_the_schedule_refreshes_through_the_console_function(field: Field) -> None:
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "job": "progress-rollup"}
    result = handler("console")(event, lambda_context("ConsoleFunction"))
    assert result["areas"] == 2
    rollup = store.get_rollup(CITY)
    assert rollup is not None and rollup.as_of == result["as_of"]


def test_answers_name_the_area_its_enclosing_areas_and_its_children(field: Field) -> None:
    district = field.households[0].sls_code[:7]
    store.save_areas(
        [
            store.AreaRecord(PROVINCE, "Sumatera Selatan", None),
            store.AreaRecord(CITY, "Kota Palembang", PROVINCE),
            store.AreaRecord(district, "Ilir Barat II", CITY),
        ]
    )
    refresh_rollups()
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
