"""Who may see and change what, one test per route: a resident reaches only their own
household, an officer only the households assigned to them, a supervisor only their own
areas; tokens with a bad signature or past their expiry are refused before any handler
runs; and KK/NIK guessing is locked out across every route that takes KK + NIK.
Every refused write is checked against the table: nothing was written."""

from __future__ import annotations

import json
import os
import re
import secrets
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from census_ops.register import RegisterHousehold
from census_ops.template import api_routes
from tests.conftest import submission_body, table_items
from tests.integration.scenario import CITY, CITY_SUPERVISOR, Field, call, moto_field, who

SESSION_KEY = secrets.token_hex(32)
RESPONSES, STATUS = "/v1/households/{kk}/responses", "/v1/households/{kk}/status"
RECEIPT, PROOF = "/v1/receipts/{receipt_code}", "/v1/receipts/{receipt_code}/proof"
HOUSEHOLD, VISITS = "/v1/households/{kk}", "/v1/households/{kk}/visits"
WORKLIST, GENERATE, PROGRESS = (
    "/v1/officers/me/worklist",
    "/v1/areas/{area_code}/worklists",
    "/v1/areas/{area_code}/progress",
)
SESSIONS, MY_HOUSEHOLD, DRAFT = "/v1/sessions", "/v1/session/household", "/v1/session/household/draft"
RESET = "/v1/households/{kk}/password-reset"
TABLE = "/v1/areas/{area_code}/tables/{table}"


class World:
    def __init__(self, field: Field, table: str) -> None:
        self.field, self.table = field, table
        officers = sorted(field.officers(), key=lambda o: -len(field.assigned(o)))
        self.officer = officers[0]
        mine = set(field.assigned(self.officer))
        self.other_officer = next(o for o in officers[1:] if not set(field.assigned(o)) & mine and field.assigned(o))
        self.theirs = field.assigned(self.other_officer)
        (self.supervisor, self.district), (self.other_supervisor, self.other_district) = field.district_supervisors()[
            :2
        ]
        self.residents = [h for h in field.households if h.kk not in mine and h.kk not in set(self.theirs)]

    def items(self) -> list[dict[str, Any]]:
        return sorted(table_items(self.table), key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("access")
    with moto_field(folder, "access", households=160, officers=10, session_key=SESSION_KEY) as (field, table):
        yield World(field, table)


@pytest.fixture
def w(world: World) -> World:
    os.environ["SESSION_SIGNING_KEY"] = SESSION_KEY
    return world


def _submit(household: RegisterHousehold, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    return call("intake", "POST", RESPONSES, {"kk": household.kk}, body=submission_body(household), **kwargs)


def _unchanged(w: World, before: list[dict[str, Any]], *, locks_may_change: bool = False) -> None:
    after = w.items()
    if locks_may_change:  # a failed KK/NIK attempt is counted (LOCK#<kk>): that is the point of it
        before = [i for i in before if not i["pk"]["S"].startswith("LOCK#")]
        after = [i for i in after if not i["pk"]["S"].startswith("LOCK#")]
    assert after == before, "a refused request changed the table"


# ---------------------------------------------------------------- resident routes


def test_submit_with_another_households_nik_is_refused_and_writes_nothing(w: World) -> None:
    mine, other = w.residents[0], w.residents[1]
    body = submission_body(mine)
    body["respondent_nik"] = other.members[0].nik
    before = w.items()
    status, _, answer = call("intake", "POST", RESPONSES, {"kk": mine.kk}, body=body)
    assert (status, answer["error"]["code"]) == (401, "invalid_credentials")
    _unchanged(w, before, locks_may_change=True)


def test_status_by_kk_with_another_households_nik_is_refused(w: World) -> None:
    mine, other = w.residents[2], w.residents[3]
    assert _submit(other)[0] == 201
    status, _, answer = call("status", "POST", STATUS, {"kk": other.kk}, body={"respondent_nik": mine.members[0].nik})
    assert (status, answer["error"]["code"]) == (401, "invalid_credentials")
    assert "receipt_code" not in json.dumps(answer)


def test_status_by_receipt_shows_no_personal_data(w: World) -> None:
    household = w.residents[4]
    code = _submit(household)[2]["receipt_code"]
    status, _, answer = call("status", "GET", RECEIPT, {"receipt_code": code})
    assert status == 200
    text = json.dumps(answer)
    secrets_ = [household.kk, household.address] + [v for m in household.members for v in (m.nik, m.name)]
    assert not [s for s in secrets_ if s in text]
    assert call("status", "GET", RECEIPT, {"receipt_code": "0000000000000"})[0] in (400, 404)


def _pdf_text(pdf: bytes) -> str:
    """Every content stream of the PDF, inflated (fpdf2 compresses them)."""
    chunks = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(raw))
        except zlib.error:
            chunks.append(raw)
    return b"\n".join(chunks).decode("latin-1")


def test_the_proof_shows_a_masked_kk_and_no_names_or_niks(w: World) -> None:
    household = w.residents[5]
    code = _submit(household)[2]["receipt_code"]
    status, headers, pdf = call("status", "GET", PROOF, {"receipt_code": code})
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    import base64

    text = _pdf_text(base64.b64decode(pdf) if isinstance(pdf, str) and not pdf.startswith("%PDF") else pdf.encode())
    assert household.kk[-4:] in text, "the proof does show the KK's last digits (the check can see text)"
    leaked = [s for s in [household.kk, *(m.nik for m in household.members), *(m.name for m in household.members)]]
    assert not [s for s in leaked if s in text]


# ---------------------------------------------------------------- officer and supervisor routes


def test_household_for_interview_is_only_for_its_officer_or_supervisor(w: World) -> None:
    theirs = w.theirs[0]
    assert call("fieldwork", "GET", HOUSEHOLD, {"kk": theirs}, claims=who(w.other_officer))[0] == 200
    for claims, code in (
        (who(w.officer), "forbidden"),  # another officer
        (None, "unauthorized"),  # no token: a resident
        (who("NOBODY"), "not_on_roster"),
    ):
        status, _, answer = call("fieldwork", "GET", HOUSEHOLD, {"kk": theirs}, claims=claims)
        assert (status, answer["error"]["code"]) == (401 if claims is None else 403, code)
    unknown = "1671010101209999"
    status, _, answer = call("fieldwork", "GET", HOUSEHOLD, {"kk": unknown}, claims=who(w.officer))
    assert (status, answer["error"]["code"]) == (403, "forbidden"), "an unknown KK looks like someone else's"


def test_visits_are_only_for_the_assigned_officer_and_write_nothing_otherwise(w: World) -> None:
    theirs = w.theirs[1]
    before = w.items()
    for claims, expected in ((who(w.officer), 403), (None, 401), (who(w.supervisor, "supervisor"), 403)):
        status, _, answer = call(
            "fieldwork", "POST", VISITS, {"kk": theirs}, body={"outcome": "refused"}, claims=claims
        )
        assert status == expected, answer
    interview = {"outcome": "interviewed", "response": submission_body(w.field.household(theirs))}
    assert call("fieldwork", "POST", VISITS, {"kk": theirs}, body=interview, claims=who(w.officer))[0] == 403
    _unchanged(w, before)


def test_an_officers_worklist_holds_only_their_own_households(w: World) -> None:
    status, _, page = call("fieldwork", "GET", WORKLIST, {}, claims=who(w.officer), query={"limit": "200"})
    assert status == 200
    assert {e["kk"] for e in page["households"]} == set(w.field.assigned(w.officer))
    assert not {e["kk"] for e in page["households"]} & set(w.theirs)
    other_cursor = call("fieldwork", "GET", WORKLIST, {}, claims=who(w.other_officer), query={"limit": "1"})[2]
    assert other_cursor["next_cursor"]
    status, _, answer = call(
        "fieldwork", "GET", WORKLIST, {}, claims=who(w.officer), query={"cursor": other_cursor["next_cursor"]}
    )
    assert (status, answer["error"]["code"]) == (422, "invalid_cursor")
    assert call("fieldwork", "GET", WORKLIST, {})[0] == 401


def test_worklists_are_generated_only_by_a_supervisor_of_the_area(w: World) -> None:
    before = w.items()
    for area, claims, code in (
        (w.other_district, who(w.supervisor, "supervisor"), "forbidden"),
        (CITY, who(w.supervisor, "supervisor"), "forbidden"),
        (w.district, who(w.officer), "supervisor_only"),
    ):
        status, _, answer = call("worklists", "POST", GENERATE, {"area_code": area}, claims=claims)
        assert (status, answer["error"]["code"]) == (403, code)
    assert call("worklists", "POST", GENERATE, {"area_code": w.district})[0] == 401
    _unchanged(w, before)
    assert (
        call("worklists", "POST", GENERATE, {"area_code": w.district}, claims=who(w.supervisor, "supervisor"))[0] == 201
    )


def test_progress_is_only_for_a_supervisor_of_the_area(w: World) -> None:
    ok = call("fieldwork", "GET", PROGRESS, {"area_code": w.district}, claims=who(w.supervisor, "supervisor"))
    assert ok[0] == 200
    for area, claims, code in (
        (w.other_district, who(w.supervisor, "supervisor"), "forbidden"),
        (CITY, who(w.supervisor, "supervisor"), "forbidden"),
        (w.district, who(w.officer), "supervisor_only"),
    ):
        status, _, answer = call("fieldwork", "GET", PROGRESS, {"area_code": area}, claims=claims)
        assert (status, answer["error"]["code"]) == (403, code)
    assert call("fieldwork", "GET", PROGRESS, {"area_code": CITY}, claims=who(CITY_SUPERVISOR, "supervisor"))[0] == 200


def test_published_tables_are_only_for_a_supervisor_of_the_area(w: World) -> None:
    from shared.published_tables import publish

    body = {"rows": [{"label": "0-4", "male": 7, "female": None}]}
    publish("pyramid", {w.district: {w.district: body}, CITY: {CITY: body}}, "2026-07-01")
    params = {"area_code": w.district, "table": "pyramid"}
    status, _, answer = call("fieldwork", "GET", TABLE, params, claims=who(w.supervisor, "supervisor"))
    assert (status, answer["rows"], answer["children"]) == (200, body["rows"], [])
    for area, claims, code in (
        (w.other_district, who(w.supervisor, "supervisor"), "forbidden"),
        (CITY, who(w.supervisor, "supervisor"), "forbidden"),
        (w.district, who(w.officer), "supervisor_only"),
    ):
        status, _, answer = call("fieldwork", "GET", TABLE, {**params, "area_code": area}, claims=claims)
        assert (status, answer["error"]["code"]) == (403, code)
    assert call("fieldwork", "GET", TABLE, params)[0] == 401
    assert (
        call("fieldwork", "GET", TABLE, {**params, "area_code": CITY}, claims=who(CITY_SUPERVISOR, "supervisor"))[0]
        == 200
    )


# ---------------------------------------------------------------- tokens, through the local API Gateway


def test_a_bad_signature_or_expired_officer_token_is_refused_on_every_guarded_route(w: World) -> None:
    """As API Gateway's Cognito authorizer: the handler never runs, nothing is written."""
    import http.client

    from census_ops.local_api import LocalApi
    from census_ops.tokens import mint_token, verify_token

    secret = secrets.token_bytes(32)
    good = mint_token(CITY_SUPERVISOR, "supervisor", secret=secret)
    forged = mint_token(CITY_SUPERVISOR, "supervisor", secret=secrets.token_bytes(32))
    expired = mint_token(CITY_SUPERVISOR, "supervisor", secret=secret, now=datetime.now(UTC) - timedelta(days=1))
    header, payload, signature = good.split(".")
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    none_alg = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + "."
    guarded = [r for r in api_routes() if r.authorizer]
    assert guarded
    before = w.items()
    kk = w.theirs[0]
    with LocalApi(api_routes(), port=0, serialize=True, authorize=lambda t: verify_token(t, secret=secret)) as api:
        for route in guarded:
            path = route.path.replace("{kk}", kk).replace("{area_code}", CITY).replace("{table}", "pyramid")
            for token in (forged, expired, tampered, none_alg, "", "not-a-token"):
                connection = http.client.HTTPConnection(api.host, api.port, timeout=30)
                headers = {
                    "Content-Type": "application/json",
                    **({"Authorization": f"Bearer {token}"} if token else {}),
                }
                connection.request(route.method, path, body=b'{"outcome": "refused"}', headers=headers)
                answer = connection.getresponse()
                body = json.loads(answer.read())
                connection.close()
                assert (answer.status, body["error"]["code"]) == (401, "unauthorized"), (route.path, token[:12])
        connection = http.client.HTTPConnection(api.host, api.port, timeout=30)
        connection.request("GET", f"/v1/areas/{CITY}/progress", headers={"Authorization": f"Bearer {good}"})
        assert connection.getresponse().status == 200, "the good token works: the refusals were the tokens'"
    _unchanged(w, before)


# ---------------------------------------------------------------- guessing


def test_kk_nik_guessing_is_locked_out_across_routes(w: World) -> None:
    household, stranger = w.residents[6], w.residents[7]
    wrong = {"respondent_nik": stranger.members[0].nik}
    attempts = [
        lambda: call("status", "POST", STATUS, {"kk": household.kk}, body=wrong),
        lambda: call("intake", "POST", RESPONSES, {"kk": household.kk}, body={**submission_body(household), **wrong}),
    ]
    attempts.append(
        lambda: call(
            "sessions",
            "POST",
            SESSIONS,
            body={"kk": household.kk, "nik": stranger.members[0].nik, "new_password": "x" * 12},
        )
    )
    for i in range(5):
        status, _, answer = attempts[i % len(attempts)]()
        assert (status, answer["error"]["code"]) == (401, "invalid_credentials"), i
    for attempt in attempts:
        status, headers, answer = attempt()
        assert (status, answer["error"]["code"]) == (429, "too_many_attempts")
        assert int(headers["Retry-After"]) > 0
    right = call("status", "POST", STATUS, {"kk": household.kk}, body={"respondent_nik": household.members[0].nik})
    assert right[0] == 429, "locked even for the right NIK: a guesser learns nothing"


# ---------------------------------------------------------------- resident sessions (issue 16)


def _sign_in(household: RegisterHousehold, **extra: str) -> tuple[int, dict[str, str], Any]:
    body = {"kk": household.kk, "nik": household.members[0].nik, **extra}
    return call("sessions", "POST", SESSIONS, body=body)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_in_with_another_households_nik_is_refused(w: World) -> None:
    mine, other = w.residents[8], w.residents[9]
    body = {"kk": mine.kk, "nik": other.members[0].nik, "new_password": "merah-putih-1945x"}
    status, _, answer = call("sessions", "POST", SESSIONS, body=body)
    assert (status, answer["error"]["code"]) == (401, "invalid_credentials")


def test_a_session_reads_only_its_own_household(w: World) -> None:
    mine, other = w.residents[10], w.residents[11]
    status, _, signed = _sign_in(mine, new_password="sepeda-biru-77")
    assert status == 201, signed
    status, _, view = call("sessions", "GET", MY_HOUSEHOLD, headers=_bearer(signed["token"]))
    assert status == 200 and view["kk"] == mine.kk
    text = json.dumps(view)
    assert not [m.nik for m in other.members if m.nik in text] and other.kk not in text
    forged = signed["token"].rsplit(".", 1)[0] + ".AAAA"
    for headers, code in ((_bearer(forged), "session_invalid"), ({}, "session_required")):
        status, _, answer = call("sessions", "GET", MY_HOUSEHOLD, headers=headers)
        assert (status, answer["error"]["code"]) == (401, code)


def test_a_draft_is_written_only_to_the_sessions_household(w: World) -> None:
    mine, other = w.residents[12], w.residents[13]
    token = _sign_in(mine, new_password="kereta-api-88")[2]["token"]
    before_other = [i for i in w.items() if i["pk"]["S"] == f"HH#{other.kk}"]
    status, _, saved = call("sessions", "PUT", DRAFT, body={"members": [{"name": "Tamu"}]}, headers=_bearer(token))
    assert status == 200, saved
    assert [i for i in w.items() if i["pk"]["S"] == f"HH#{other.kk}"] == before_other
    assert call("sessions", "PUT", DRAFT, body={"members": []})[0] == 401


def test_a_session_cannot_submit_for_another_household(w: World) -> None:
    mine, other = w.residents[14], w.residents[15]
    token = _sign_in(mine, new_password="gunung-api-99")[2]["token"]
    body = submission_body(other)
    body.pop("respondent_nik")
    before = w.items()
    status, _, answer = call("intake", "POST", RESPONSES, {"kk": other.kk}, body=body, headers=_bearer(token))
    assert (status, answer["error"]["code"]) == (403, "session_wrong_household")
    status, _, answer = call("status", "POST", STATUS, {"kk": other.kk}, body={}, headers=_bearer(token))
    assert status in (401, 403), answer
    _unchanged(w, before)


def test_once_a_password_is_set_kk_and_nik_alone_read_and_change_nothing(w: World) -> None:
    household = w.residents[16]
    assert _sign_in(household, new_password="pantai-kuta-12")[0] == 201
    nik = household.members[-1].nik
    status, _, answer = call("status", "POST", STATUS, {"kk": household.kk}, body={"respondent_nik": nik})
    assert (status, answer["error"]["code"]) == (401, "password_required")
    before = w.items()
    status, _, answer = _submit(household)
    assert (status, answer["error"]["code"]) == (401, "password_required")
    status, _, answer = _sign_in(household, new_password="another-one-34")
    assert (status, answer["error"]["code"]) == (401, "password_required")
    _unchanged(w, before, locks_may_change=True)


def test_password_reset_is_only_for_a_supervisor_of_the_area(w: World) -> None:
    household = next(h for h in w.residents[17:] if h.sls_code.startswith(w.district))
    elsewhere = next(h for h in w.residents[17:] if not h.sls_code.startswith(w.district))
    before = w.items()
    for kk, claims, expected in (
        (household.kk, who(w.officer), 403),
        (household.kk, None, 401),
        (household.kk, who(w.other_supervisor, "supervisor"), 403),
        (elsewhere.kk, who(w.supervisor, "supervisor"), 403),
    ):
        status, _, answer = call("fieldwork", "POST", RESET, {"kk": kk}, body={}, claims=claims)
        assert status == expected, (kk, claims, answer)
    _unchanged(w, before)


# ---------------------------------------------------------------- supervisors' console routes


def _supervisors_only(
    w: World, function: str, method: str, resource: str, *, area_route: bool, body: Any = None, ok: int = 200
) -> None:
    """Another area's supervisor gets 403 forbidden, an officer 403 supervisor_only, no token
    401; nothing is written; the area's own supervisor gets `ok`."""
    household = next(h for h in w.residents if h.sls_code.startswith(w.district))
    params = {"area_code": w.district} if area_route else {"kk": household.kk}
    if body is None and method == "POST":
        body = {}
    before = w.items()
    for claims, expected in (
        (who(w.other_supervisor, "supervisor"), (403, "forbidden")),
        (who(w.officer), (403, "supervisor_only")),
        (None, (401, "unauthorized")),
    ):
        status, _, answer = call(function, method, resource, params, body=body, claims=claims)
        assert (status, answer["error"]["code"]) == expected, (resource, claims, answer)
    _unchanged(w, before)
    status, _, answer = call(function, method, resource, params, body=body, claims=who(w.supervisor, "supervisor"))
    assert status == ok, answer


def test_staff_me_is_only_for_a_supervisor(w: World) -> None:
    for claims, expected in ((who(w.officer), (403, "supervisor_only")), (None, (401, "unauthorized"))):
        status, _, answer = call("console", "GET", "/v1/staff/me", {}, claims=claims)
        assert (status, answer["error"]["code"]) == expected
    status, _, answer = call("console", "GET", "/v1/staff/me", {}, claims=who(w.supervisor, "supervisor"))
    assert (status, answer["areas"]) == (200, [w.district])


def test_progress_history_is_only_for_a_supervisor_of_the_area(w: World) -> None:
    _supervisors_only(w, "console", "GET", "/v1/areas/{area_code}/progress/history", area_route=True)


def test_the_review_queue_is_only_for_a_supervisor_of_the_area(w: World) -> None:
    _supervisors_only(w, "console", "GET", "/v1/areas/{area_code}/review", area_route=True)


def test_bulk_review_decisions_are_only_for_a_supervisor_of_the_area(w: World) -> None:
    body = {"decision": "accept", "households": [{"kk": w.residents[0].kk, "version": 1}]}
    _supervisors_only(w, "console", "POST", "/v1/areas/{area_code}/review/decisions", area_route=True, body=body)


def test_a_households_review_is_only_for_a_supervisor_of_its_area(w: World) -> None:
    _supervisors_only(w, "console", "GET", "/v1/households/{kk}/review", area_route=False)


def test_a_review_decision_is_only_for_a_supervisor_of_its_area(w: World) -> None:
    body = {"decision": "accept", "version": 1}
    _supervisors_only(w, "console", "POST", "/v1/households/{kk}/review", area_route=False, body=body, ok=409)


def test_a_households_audit_trail_is_only_for_a_supervisor_of_its_area(w: World) -> None:
    _supervisors_only(w, "console", "GET", "/v1/households/{kk}/audit", area_route=False)


def test_an_areas_audit_trail_is_only_for_a_supervisor_of_the_area(w: World) -> None:
    _supervisors_only(w, "console", "GET", "/v1/areas/{area_code}/audit", area_route=True)


def test_a_worklist_preview_is_only_for_a_supervisor_of_the_area(w: World) -> None:
    _supervisors_only(w, "worklists", "GET", "/v1/areas/{area_code}/worklists/preview", area_route=True)


def test_officers_loads_are_only_for_a_supervisor_of_the_area(w: World) -> None:
    _supervisors_only(w, "worklists", "GET", "/v1/areas/{area_code}/worklists", area_route=True)


def test_reassignment_is_only_for_a_supervisor_of_the_area(w: World) -> None:
    local = next(r for r in w.field.roster if r["role"] == "officer" and r["area_codes"].startswith(w.district))
    body = {"to_officer": local["officer_id"], "sls_code": w.district + "0019999"}
    _supervisors_only(
        w, "worklists", "POST", "/v1/areas/{area_code}/worklists/reassign", area_route=True, body=body, ok=409
    )


# ---------------------------------------------------------------- households the register missed

REPORTS, REPORT = "/v1/reports", "/v1/reports/{reference}"
RESOLUTION, FOUND = "/v1/reports/{reference}/resolution", "/v1/households"
PROVINCES, CHILDREN = "/v1/areas", "/v1/areas/{area_code}/children"


def _areas(w: World, tmp: Any) -> None:
    from census_ops.area_list import import_areas, write_demo_areas

    path = tmp / "areas.csv"
    write_demo_areas(path, {h.sls_code for h in w.field.households})
    assert not import_areas(path).errors


def _report(w: World, household: RegisterHousehold, tmp: Any) -> str:
    _areas(w, tmp)
    body = {"kk": household.kk, "nik": household.members[0].nik, "head_name": "X Y", "address": "Jl. Z 1",
            "sls_code": household.sls_code}  # fmt: skip
    status, _, answer = call("reports", "POST", REPORTS, body=body)
    assert status == 202
    return str(answer["reference"]).replace("-", "")


def test_a_report_reads_and_changes_no_household_and_answers_nothing_about_it(w: World, tmp_path: Any) -> None:
    household = w.residents[20]
    before = [i for i in w.items() if i["pk"]["S"].startswith("HH#")]
    _areas(w, tmp_path)
    status, _, answer = call("reports", "POST", REPORTS, body={"kk": household.kk, "nik": household.members[0].nik,
                             "head_name": "X Y", "address": "Jl. Z 1", "sls_code": household.sls_code})  # fmt: skip
    assert status == 202 and set(answer) == {"reference", "status"}
    assert [i for i in w.items() if i["pk"]["S"].startswith("HH#")] == before


def test_a_report_lookup_shows_no_personal_data(w: World, tmp_path: Any) -> None:
    household = w.residents[21]
    reference = _report(w, household, tmp_path)
    status, _, answer = call("reports", "GET", REPORT, {"reference": reference})
    assert status == 200
    text = json.dumps(answer)
    assert not [s for s in [household.kk, household.address, *(m.nik for m in household.members)] if s in text]


def test_the_area_lists_are_public_and_hold_names_only(w: World, tmp_path: Any) -> None:
    _areas(w, tmp_path)
    status, _, provinces = call("reports", "GET", PROVINCES)
    assert status == 200 and all(set(c) == {"code", "name"} for c in provinces["children"])
    status, _, regencies = call("reports", "GET", CHILDREN, {"area_code": "16"})
    assert status == 200 and all(set(c) == {"code", "name"} for c in regencies["children"])


def test_a_report_is_resolved_only_by_its_areas_officer_or_supervisor(w: World, tmp_path: Any) -> None:
    household = next(h for h in w.residents[22:] if not h.sls_code.startswith(w.district))
    reference = _report(w, household, tmp_path)
    before = w.items()
    body = {"outcome": "not_found", "reason": "address_not_found"}
    stranger = next(
        r["officer_id"]
        for r in w.field.roster
        if r["role"] == "officer" and not any(household.sls_code.startswith(a) for a in r["area_codes"].split(";"))
    )
    for claims, expected in ((None, 401), (who(stranger), 403), (who(w.supervisor, "supervisor"), 403)):
        status, _, answer = call("fieldwork", "POST", RESOLUTION, {"reference": reference}, body=body, claims=claims)
        assert status == expected, (claims, answer)
    _unchanged(w, before)


def test_an_officer_enrols_a_found_household_only_in_their_own_areas(w: World) -> None:
    elsewhere = next(h for h in w.residents if not h.sls_code.startswith(w.district))
    from datetime import date

    from shared.nik import make_kk, make_nik

    nik = make_nik("167101", "male", date(1970, 1, 2), 9001)
    member = {"nik": nik, "name": "A B", "relationship": "head", "sex": "male", "birth_date": "1970-01-02",
              "marital_status": "married", "religion": "islam", "education": "primary", "citizenship": "WNI",
              "lives_at_kk_address": True, "current_area_code": None}  # fmt: skip
    body = {"kk": make_kk("167101", date(2025, 1, 2), 9001), "sls_code": elsewhere.sls_code, "address": "Jl. Q 2",
            "response": {"respondent_nik": nik, "members": [member]}}  # fmt: skip
    before = w.items()
    for claims, expected in ((None, 401), (who(w.supervisor, "supervisor"), 403), (who("OFC-NOBODY"), 403)):
        status, _, answer = call("fieldwork", "POST", FOUND, body=body, claims=claims)
        assert status == expected, (claims, answer)
    _unchanged(w, before)
