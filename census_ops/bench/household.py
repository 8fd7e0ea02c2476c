"""Cost per million households completing online (issue 25, target 4): the resident page's
own request sequence, replayed through the Lambda handlers on DynamoDB Local, each request
billed by DynamoDB's published rules beside the minimum its items' sizes allow, then priced
per request (CloudFront, WAF, API Gateway REST or HTTP, Lambda, logs, X-Ray) with the dated
price file.

The sequence is what the resident browser test measures for its 5-member household that
pauses between answers (tests/browser/test_browser.py asserts that the page still makes
exactly these requests, so this table cannot drift from the page)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from census_ops.bench.cost import Usage, per_million, price
from census_ops.bench.harness import Harness
from census_ops.bench.operations import (
    HOUSEHOLD_READ,
    HOUSEHOLD_SIDE_ITEM,
    HOUSEHOLD_STATE,
    RECEIPT_ITEM,
    USED_HOUSEHOLDS,
    VERSION,
    Essentials,
    OperationResult,
    measure,
)
from census_ops.events import route_event
from census_ops.stream_poller import StreamPoller

TARGET_PER_MILLION_HOUSEHOLDS = 10.00
# A distribution's requests a month the flat-rate plan covers, and its price (Premium).
FLAT_RATE_REQUESTS = 500_000_000
FLAT_RATE_MONTHLY = 1_000.0

SESSIONS = "POST /v1/sessions"
DRAFT = "PUT /v1/session/household/draft"
SUBMIT = "POST /v1/households/{kk}/responses"
PROOF = "GET /v1/receipts/{code}/proof"
STATUS = "GET /v1/receipts/{code}"

# What a household that completes online sends, by route (the browser test's names): KK +
# NIK, then the new password (whose answer carries the pre-fill); one draft save per member
# card completed with something changed (the fifth card, a young child, is complete as
# pre-filled); the submission; the proof; one status check. The browser test's own extra
# requests (a refused password, a deliberately lost answer) are not a household's.
RESIDENT_REQUESTS: dict[str, int] = {SESSIONS: 2, DRAFT: 4, SUBMIT: 1, PROOF: 1, STATUS: 1}
# The fewest a household could make and still be counted: sign in, send, check.
FLOOR_REQUESTS = 3

PASSWORD = "bench-household-phrase-25"  # noqa: S105 - a throwaway household on a local table


@dataclass
class HouseholdBill:
    """DynamoDB by the rules for one household's whole sequence, and the minimum."""

    requests: list[OperationResult] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.requests)

    def total(self, name: str) -> float:
        return round(sum(float(getattr(r, name)) for r in self.requests), 2)

    def as_dict(self) -> dict[str, Any]:
        # "rule" units include the stream consumer's writes each request causes.
        return {
            "requests": [r.as_dict() for r in self.requests],
            "by_route": self.by_route(),
            "rule_read_units": self.total("total_read_units"),
            "rule_write_units": self.total("total_write_units"),
            "min_read_units": self.total("min_read_units"),
            "min_write_units": self.total("min_write_units"),
        }

    def by_route(self) -> dict[str, dict[str, float]]:
        routes: dict[str, dict[str, float]] = {}
        for r in self.requests:
            row = routes.setdefault(r.label, {"requests": 0, "R": 0.0, "W": 0.0, "min R": 0.0, "min W": 0.0})
            row["requests"] += 1
            row["R"] += r.total_read_units
            row["W"] += r.total_write_units
            row["min R"] += r.min_read_units
            row["min W"] += r.min_write_units
        return routes


def _draft(members: list[dict[str, Any]], done: int) -> dict[str, Any]:
    """The draft the page saves when card `done` is completed: the cards before it answered,
    the rest as the register pre-filled them."""
    register_fields = ("nik", "name", "relationship", "sex", "birth_date")
    return {"members": [m if i <= done else {k: m[k] for k in register_fields} for i, m in enumerate(members)]}


def measure_household(harness: Harness, poller: StreamPoller | None = None) -> HouseholdBill:
    """One 5-member household through RESIDENT_REQUESTS, on the harness's DynamoDB Local;
    with `poller`, each request is billed with the stream consumer's writes it causes."""
    from census_ops.examples import example_submission
    from functions.intake.app import lambda_handler as intake
    from functions.sessions.app import lambda_handler as sessions
    from functions.status.app import lambda_handler as status

    household = [h for h in harness.households if len(h.members) == 5 and h.kk not in USED_HOUSEHOLDS][-1]
    USED_HOUSEHOLDS.add(household.kk)  # signed in with a password and submitted: no one else's
    kk, nik = household.kk, household.members[0].nik
    bill = HouseholdBill()

    def step(route: str, handler: Any, event: dict[str, Any], essentials: Essentials) -> tuple[int, Any, Any]:
        result, body = measure(harness, route, handler, event, essentials, poller)
        bill.requests.append(result)
        return result.status, body, result

    # The household's own items, read once; the credential, each draft, the version written once.
    prove = HOUSEHOLD_READ
    got, body, _ = step(
        SESSIONS, sessions, route_event("POST", "/v1/sessions", body={"kk": kk, "nik": nik}), Essentials(reads=prove)
    )
    if got != 401 or body.get("error", {}).get("code") != "password_setup_required":
        raise RuntimeError(f"sign-in: expected password_setup_required, got {got} {json.dumps(body)[:200]}")
    got, body, _ = step(
        SESSIONS,
        sessions,
        route_event("POST", "/v1/sessions", body={"kk": kk, "nik": nik, "new_password": PASSWORD}),
        Essentials(writes=HOUSEHOLD_SIDE_ITEM, reads=prove),
    )
    if got != 201:
        raise RuntimeError(f"setting the password: {got} {json.dumps(body)[:200]}")
    bearer = {"Authorization": f"Bearer {body['token']}"}
    answers = example_submission(household)
    del answers["respondent_nik"]  # a session's submission names its signed-in member
    etag: str | None = None
    for card in range(RESIDENT_REQUESTS[DRAFT]):
        headers = bearer | ({"If-Match": etag} if etag else {})
        event = route_event(
            "PUT", "/v1/session/household/draft", body=_draft(answers["members"], card), headers=headers
        )
        result, saved = measure(
            harness, DRAFT, sessions, event, Essentials(writes=HOUSEHOLD_SIDE_ITEM, reads=HOUSEHOLD_STATE), poller
        )
        bill.requests.append(result)
        if result.status != 200:
            raise RuntimeError(f"draft save {card + 1}: {result.status} {json.dumps(saved)[:200]}")
        etag = saved["etag"]
    got, body, _ = step(
        SUBMIT,
        intake,
        route_event(
            "POST",
            "/v1/households/{kk}/responses",
            {"kk": kk},
            answers,
            headers=bearer | {"Idempotency-Key": "bench-household-25"},
        ),
        Essentials(writes=VERSION, reads=prove),
    )
    if got != 201:
        raise RuntimeError(f"submission: {got} {json.dumps(body)[:200]}")
    code = body["receipt_code"]
    step(
        PROOF,
        status,
        route_event("GET", "/v1/receipts/{receipt_code}/proof", {"receipt_code": code}),
        Essentials(reads=RECEIPT_ITEM),
    )
    step(
        STATUS,
        status,
        route_event("GET", "/v1/receipts/{receipt_code}", {"receipt_code": code}),
        Essentials(reads=RECEIPT_ITEM),
    )
    counted = {route: sum(1 for r in bill.requests if r.label == route) for route in RESIDENT_REQUESTS}
    if counted != RESIDENT_REQUESTS:
        raise RuntimeError(f"the sequence ran {counted}, not {RESIDENT_REQUESTS}")
    return bill


def price_households(bill: dict[str, Any], usage: Usage, prices: dict[str, Any]) -> dict[str, Any]:
    """US$ per million households for each design, and the floor. `usage` is one request's
    Lambda time, memory and log bytes (DynamoDB units are the household's, from `bill`)."""
    count = sum(RESIDENT_REQUESTS.values())
    write_price = price(prices, "dynamodb_write_request_unit_per_million")
    read_price = price(prices, "dynamodb_read_request_unit_per_million")
    dynamodb = bill["rule_write_units"] * write_price + bill["rule_read_units"] * read_price
    minimum = bill["min_write_units"] * write_price + bill["min_read_units"] * read_price
    # The floor's 3 requests: one sign-in that sets the password, the submission, the status
    # check, each at the minimum its items allow (no draft reaches the server).
    last = {r["label"]: r for r in bill["requests"]}
    floor_units = [last[SESSIONS], last[SUBMIT], last[STATUS]]
    floor_minimum = sum(r["min_write_units"] * write_price + r["min_read_units"] * read_price for r in floor_units)
    # One request's price without DynamoDB (its units are counted once, per household, above).
    no_db = Usage(0, 0, usage.lambda_ms, usage.memory_mb, usage.log_bytes, usage.response_bytes)

    def per_request(api: str, edge: bool) -> float:
        return sum(per_million(no_db, prices, api=api, edge=edge).values())

    edge_share = per_request("http", True) - per_request("http", False)
    designs = {
        "REST API behind CloudFront + WAF (as built)": count * per_request("rest", True) + dynamodb,
        "HTTP API behind CloudFront + WAF": count * per_request("http", True) + dynamodb,
        # CloudFront + WAF paid by the flat-rate plan: each request then pays only the rest;
        # the plan's monthly price is spread over the households it can carry.
        "HTTP API + CloudFront flat-rate (WAF included)": count * per_request("http", False)
        + dynamodb
        + FLAT_RATE_MONTHLY / (FLAT_RATE_REQUESTS / count / 1_000_000),
        "floor: HTTP API + CloudFront + WAF, 3 requests, minimum units": FLOOR_REQUESTS * per_request("http", True)
        + floor_minimum,
        "floor without an edge: HTTP API alone, 3 requests, minimum units": FLOOR_REQUESTS * per_request("http", False)
        + floor_minimum,
    }
    return {
        "requests_per_household": dict(RESIDENT_REQUESTS),
        "request_count": count,
        "per_request_http_edge": round(per_request("http", True), 4),
        "per_request_rest_edge": round(per_request("rest", True), 4),
        "edge_share_per_request": round(edge_share, 4),
        "dynamodb": round(dynamodb, 4),
        "dynamodb_minimum": round(minimum, 4),
        "dynamodb_ratio": round(dynamodb / minimum, 2) if minimum else None,
        "dynamodb_floor": round(floor_minimum, 4),
        "target": TARGET_PER_MILLION_HOUSEHOLDS,
        "designs": {name: round(total, 2) for name, total in designs.items()},
        "flat_rate_break_even_requests_per_month": round(FLAT_RATE_MONTHLY / edge_share * 1_000_000),
    }


def report_lines(capacity: dict[str, Any], priced: dict[str, Any] | None) -> list[str]:
    """The household's sequence by route (units by the rules beside the minimum) and, when
    priced, what a million such households cost in each design against the target."""
    bill = capacity["household"]
    lines = ["", "A household completing online: the resident page's requests, DynamoDB units by the rules"]
    width = max(len(route) for route in bill["by_route"])
    lines.append(f"{'request'.ljust(width)}  count      R      W  min R  min W")
    for route, row in bill["by_route"].items():
        lines.append(
            f"{route.ljust(width)}  {int(row['requests']):5d}  {row['R']:5.1f}  {row['W']:5.1f}"
            f"  {row['min R']:5.1f}  {row['min W']:5.1f}"
        )
    lines.append(
        f"{'total'.ljust(width)}  {sum(int(r['requests']) for r in bill['by_route'].values()):5d}"
        f"  {bill['rule_read_units']:5.1f}  {bill['rule_write_units']:5.1f}"
        f"  {bill['min_read_units']:5.1f}  {bill['min_write_units']:5.1f}"
    )
    if priced is None:
        return lines
    ratio = priced["dynamodb_ratio"]
    lines.append(
        f"DynamoDB per million households: US${priced['dynamodb']:.2f}, minimum US${priced['dynamodb_minimum']:.2f}"
        f" ({ratio:.2f}x; target <= 1.5x: {'yes' if ratio is not None and ratio <= 1.5 else 'NO'})"
    )
    lines.append(
        f"per request before DynamoDB: US${priced['per_request_http_edge']:.2f} per million with an HTTP API"
        f" behind CloudFront + WAF, US${priced['per_request_rest_edge']:.2f} with REST"
        f" (CloudFront + WAF: US${priced['edge_share_per_request']:.2f} of it)"
    )
    lines.append(f"Cost per million households completing online ({priced['request_count']} requests each), US$")
    width = max(len(name) for name in priced["designs"])
    for name, total in priced["designs"].items():
        lines.append(f"  {name.ljust(width)}  {total:8.2f}  {'met' if total <= priced['target'] else 'not met'}")
    lines.append(
        f"target <= US${priced['target']:.2f}; the flat-rate plan beats per-request CloudFront + WAF above"
        f" {priced['flat_rate_break_even_requests_per_month'] / 1e6:,.0f} M requests a month per distribution"
    )
    return lines
