"""Hostile input gets a clear 4xx in our JSON shape, never a 500: oversized bodies, deeply
nested JSON, huge member lists, control characters and bytes that are not UTF-8, wrong
content types - on every route that takes a body - and hypothesis on the domain parsers
(identifiers, receipt codes, area codes, cursors, keys, request bodies): each either
accepts its input or refuses it with its own error, whatever the input."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from census_ops.register import RegisterHousehold
from shared.errors import CensusError, MalformedRequest, ValidationFailed
from tests.conftest import submission_body
from tests.integration.scenario import Field, call, moto_field, who

MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Field]:
    folder = tmp_path_factory.mktemp("hostile")
    with moto_field(folder, "hostile", households=40, officers=3, session_key=secrets.token_hex(32)) as (found, _):
        yield found


Sender = Callable[..., tuple[int, dict[str, str], Any]]


@pytest.fixture(scope="module")
def body_routes(field: Field) -> dict[str, Sender]:
    """Every route that takes a body, with what it needs to reach the body's parsing."""
    household = field.households[0]
    officer = next(o for o in field.officers() if field.assigned(o))
    assigned = field.assigned(officer)[0]
    routes: dict[str, Sender] = {
        "submit": lambda **kw: call("intake", "POST", "/v1/households/{kk}/responses", {"kk": household.kk}, **kw),
        "status": lambda **kw: call("status", "POST", "/v1/households/{kk}/status", {"kk": household.kk}, **kw),
        "visit": lambda **kw: call(
            "fieldwork", "POST", "/v1/households/{kk}/visits", {"kk": assigned}, claims=who(officer), **kw
        ),
    }
    token = _session(field.households[1])
    routes["sign_in"] = lambda **kw: call("sessions", "POST", "/v1/sessions", **kw)
    routes["draft"] = lambda **kw: call(
        "sessions",
        "PUT",
        "/v1/session/household/draft",
        headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})},
        **kw,
    )
    return routes


def _session(household: RegisterHousehold) -> str:
    body = {
        "kk": household.kk,
        "nik": household.members[0].nik,
        "new_password": "layang-layang-" + secrets.token_hex(3),
    }
    status, _, answer = call("sessions", "POST", "/v1/sessions", body=body)
    assert status == 201, answer
    return str(answer["token"])


def _is_error(status: int, answer: Any, *codes: str) -> None:
    assert 400 <= status < 500, (status, answer)
    assert isinstance(answer, dict) and set(answer) == {"error"}, answer
    assert set(answer["error"]) >= {"code", "message", "field"}, answer
    if codes:
        assert answer["error"]["code"] in codes, answer


def _with_headers(send: Sender, headers: dict[str, str], **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    return send(headers=headers, **kwargs)


HOSTILE_BODIES: list[tuple[str, bytes | str, tuple[str, ...]]] = [
    ("over the size limit", '{"members": ["' + "x" * (MAX_BODY + 10) + '"]}', ("payload_too_large",)),
    ("nested too deep (arrays)", "[" * 30_000 + "]" * 30_000, ("malformed_json",)),
    ("nested too deep (objects)", '{"a":' * 10_000 + "1" + "}" * 10_000, ("malformed_json", "unknown_field")),
    ("not UTF-8 in a name", b'{"members": [{"name": "Sit\xff\xfei"}], "respondent_nik": "1"}', ("malformed_json",)),
    ("lone surrogate escaped", '{"respondent_nik": "\\ud800", "members": []}', ()),
    ("empty", "", ("malformed_json",)),
    ("not JSON", "kk=1671&nik=1", ("malformed_json",)),
    ("a JSON string", '"members"', ()),
    ("a huge number", '{"respondent_nik": 1e999999, "members": []}', ()),
    ("NaN", '{"respondent_nik": NaN}', ()),
    ("10,000 members", json.dumps({"respondent_nik": "1", "members": [{}] * 10_000}), ()),
    ("null bytes", '{"respondent_nik": "\\u0000\\u0000", "members": [], "note": "\\u0000"}', ()),
]


@pytest.mark.parametrize(("case", "raw", "codes"), HOSTILE_BODIES, ids=[c[0] for c in HOSTILE_BODIES])
def test_hostile_bodies_get_a_clear_4xx_on_every_route(
    body_routes: dict[str, Sender], case: str, raw: bytes | str, codes: Any
) -> None:
    for name, send in body_routes.items():
        status, _, answer = send(raw_body=raw)
        _is_error(status, answer, *codes)
        assert "Traceback" not in json.dumps(answer), name


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", ""],
)
def test_wrong_content_types_are_415(body_routes: dict[str, Sender], content_type: str) -> None:
    for name, send in body_routes.items():
        status, _, answer = _with_headers(send, {"Content-Type": content_type}, body={"respondent_nik": "1"})
        assert (status, answer["error"]["code"]) == (415, "unsupported_media_type"), name


def test_thirty_one_members_is_a_member_count_error(field: Field) -> None:
    household = field.households[2]
    body = submission_body(household)
    body["members"] = (body["members"] * 31)[:31]
    status, _, answer = call("intake", "POST", "/v1/households/{kk}/responses", {"kk": household.kk}, body=body)
    _is_error(status, answer, "validation_error", "member_count")
    assert any(d["code"] == "member_count" for d in answer["error"]["details"])


@pytest.mark.parametrize(
    "name",
    [
        "Budi\u0000Santoso",
        "Budi\u001b[31mSantoso",
        "Budi\nSantoso",
        "Bu\u0085di",
        "Budi\u2028Santoso",
        "Budi\x7f",
        "Budi\u202eotnaS",  # right-to-left override: displays as another name
        "Bu\u200bdi",  # zero-width space: looks like "Budi", matches as something else
        "\ufeffBudi",
        "\x1fBudi\x1e",  # separators Python's str.strip() would take away; Unicode does not call them spaces
        "\x1cBudi",
    ],
    ids=repr,
)
def test_control_characters_in_a_name_are_refused(field: Field, name: str) -> None:
    household = field.households[3]
    body = submission_body(household)
    body["members"][0]["name"] = name
    status, _, answer = call("intake", "POST", "/v1/households/{kk}/responses", {"kk": household.kk}, body=body)
    _is_error(status, answer, "validation_error", "invalid_name")
    assert any(d["field"] == "members[0].name" and d["code"] == "invalid_name" for d in answer["error"]["details"])


def test_hostile_path_parameters_and_headers(field: Field) -> None:
    body = submission_body(field.households[4])
    for kk in ("1" * 17, "16710101012000０1", "1671010101200001\n", "../../etc", "' OR 1=1 --", ""):
        status, _, answer = call("intake", "POST", "/v1/households/{kk}/responses", {"kk": kk}, body=body)
        _is_error(status, answer)
    kk = field.households[4].kk
    for key in ("x" * 129, "key with spaces", "ключ", "k\r\nX-Injected: 1"):
        status, _, answer = call(
            "intake", "POST", "/v1/households/{kk}/responses", {"kk": kk}, body=body, headers={"Idempotency-Key": key}
        )
        _is_error(status, answer, "validation_error", "invalid_idempotency_key")
    for code in ("x" * 5000, "%00", "0" * 13 + "\u0000"):
        status, _, answer = call("status", "GET", "/v1/receipts/{receipt_code}", {"receipt_code": code})
        _is_error(status, answer)


# ---------------------------------------------------------------- hypothesis: the parsers


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)


@given(st.text(max_size=40))
def test_identifier_parsers_accept_or_refuse_with_their_own_error(text: str) -> None:
    from shared.areas import validate_area_code
    from shared.nik import InvalidIdentifier, parse_kk, parse_nik
    from shared.receipts import normalize_receipt_code

    for parse in (parse_nik, parse_kk, validate_area_code, normalize_receipt_code):
        try:
            parse(text)
        except InvalidIdentifier as error:
            assert error.code.startswith("invalid_")
            assert len(text) < 4 or text not in error.message, "the message never quotes the input"
    try:
        code = normalize_receipt_code(text)
    except InvalidIdentifier:
        return
    assert normalize_receipt_code(code) == code, "normalizing is idempotent"
    assert normalize_receipt_code(f"{code[:4]}-{code[4:8]}-{code[8:]}".lower()) == code


@given(st.from_regex(r"[0-9]{16}", fullmatch=True))
def test_sixteen_digit_strings_never_crash_the_identifier_parsers(digits: str) -> None:
    from shared.nik import InvalidIdentifier, parse_kk, parse_nik

    for parse in (parse_nik, parse_kk):
        with contextlib.suppress(InvalidIdentifier):
            assert parse(digits).value == digits


@given(st.text(max_size=200))
def test_cursors_and_keys_are_accepted_or_refused_as_422(text: str) -> None:
    from shared.intake import validate_idempotency_key
    from shared.worklists import _decode_cursor

    for check in (lambda: _decode_cursor(text, "OFC-0001"), lambda: validate_idempotency_key(text)):
        try:
            check()
        except ValidationFailed as error:
            assert error.status == 422


def _models() -> list[Any]:
    from shared.fieldwork import VisitRequest
    from shared.responses import Submission
    from shared.status_lookup import StatusRequest

    found: list[Any] = [Submission, VisitRequest, StatusRequest]
    from shared.drafts import DraftBody
    from shared.residents import SignInRequest

    found += [SignInRequest, DraftBody]
    return found


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)))
def test_every_request_model_parses_or_refuses_with_400_or_422(raw: bytes) -> None:
    from shared.validation import parse_json

    for model in _models():
        try:
            parse_json(model, raw)
        except (MalformedRequest, ValidationFailed) as error:
            assert error.status in (400, 422)
            json.dumps(error.body())  # the answer always serializes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values, mutate=st.sampled_from(["as_is", "members", "member_0"]))
def test_the_intake_handler_never_answers_5xx_to_any_json(field: Field, body: Any, mutate: str) -> None:
    household = field.households[5]
    sent = body
    if mutate != "as_is":
        sent = submission_body(household)
        if mutate == "members":
            sent["members"] = body
        else:
            sent["members"][0] = body
    status, _, answer = call("intake", "POST", "/v1/households/{kk}/responses", {"kk": household.kk}, body=sent)
    assert status < 500, answer
    if status >= 400:
        _is_error(status, answer)


def test_census_errors_never_quote_the_input() -> None:
    """A refused NIK or name is never echoed back (nor, through the answer, into logs)."""
    from shared.responses import check_rules, parse_submission

    secret_name, secret_nik = "Rahasia\u0007Nama", "1671019999990001"
    raw = json.dumps(
        {
            "respondent_nik": secret_nik,
            "members": [
                {
                    "nik": secret_nik,
                    "name": secret_name,
                    "relationship": "head",
                    "sex": "male",
                    "birth_date": "1990-01-01",
                    "marital_status": "married",
                    "religion": "islam",
                    "education": "none",
                    "citizenship": "WNI",
                    "lives_at_kk_address": True,
                }
            ],
        }
    )
    from datetime import UTC, datetime

    with pytest.raises(CensusError) as refused:
        check_rules(parse_submission(raw), datetime.now(UTC))
    text = json.dumps(refused.value.body())
    assert secret_nik not in text and "Rahasia" not in text
