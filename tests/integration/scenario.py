"""A small census on DynamoDB Local for the robustness suites (faults, access, logs,
schemathesis): a demo register, a demo roster for its SLSs, the city's worklists generated,
and helpers that call the Lambda handlers as API Gateway would."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from census_ops.importer import import_register, import_roster
from census_ops.register import RegisterHousehold, read_register, write_demo_register
from census_ops.roster import generate_demo_roster, write_demo_roster
from census_ops.template import create_table
from shared import store
from tests.conftest import invoke, response_headers, use_table

CITY = "1671"
CITY_SUPERVISOR = "SPV-1671"


def who(officer_id: str, role: str = "officer") -> dict[str, str]:
    """Claims as the Cognito authorizer hands them to the Lambda."""
    return {
        "cognito:username": officer_id,
        "cognito:groups": role,
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, officer_id)),
    }


def handler(function: str) -> Any:
    module = __import__(f"functions.{function}.app", fromlist=["lambda_handler"])
    return module.lambda_handler


def call(
    function: str, method: str, resource: str, params: dict[str, str] | None = None, **kwargs: Any
) -> tuple[int, dict[str, str], Any]:
    """(status, headers, body): JSON bodies parsed, anything else as given."""
    answer = invoke(handler(function), method, resource, params or {}, **kwargs)
    headers = response_headers(answer)
    body: Any = answer.get("body")
    if "json" in headers.get("Content-Type", headers.get("content-type", "")):
        body = json.loads(body)
    return answer["statusCode"], headers, body


@dataclass
class Field:
    households: list[RegisterHousehold]
    roster: list[dict[str, str]]
    register_path: Path

    def household(self, kk: str) -> RegisterHousehold:
        return next(h for h in self.households if h.kk == kk)

    def officers(self) -> list[str]:
        return [r["officer_id"] for r in self.roster if r["role"] == "officer"]

    def district_supervisors(self) -> list[tuple[str, str]]:
        """(supervisor id, district) for the district supervisors."""
        return [
            (r["officer_id"], r["area_codes"])
            for r in self.roster
            if r["role"] == "supervisor" and len(r["area_codes"]) == 7
        ]

    def assigned(self, officer_id: str) -> list[str]:
        """KKs on the officer's worklist (the by_officer index)."""
        items, _ = store.officer_worklist_page(officer_id, 200, None)
        return [a.kk for a in items]


def populate(
    folder: Path, households: int = 120, officers: int = 8, seed: int = 11, workers: int | None = None
) -> Field:
    """Register, roster and the city's worklists in the currently bound table (moto: workers=1)."""
    from shared.worklists import generate

    register, roster = folder / "register.csv", folder / "roster.csv"
    write_demo_register(register, households, seed=seed)
    with register.open(newline="", encoding="utf-8") as stream:
        found = [h for h in read_register(stream) if not isinstance(h, list)]
    sls_codes = sorted({h.sls_code for h in found})
    write_demo_roster(roster, sls_codes, officers=officers)
    assert not (import_register(register, workers=workers) if workers else import_register(register)).errors
    assert not import_roster(roster).errors
    generate(CITY, generated_by=CITY_SUPERVISOR)
    return Field(found, generate_demo_roster(sls_codes, officers=officers), register)


@contextmanager
def moto_field(
    folder: Path, name: str, *, households: int, officers: int, session_key: str
) -> Iterator[tuple[Field, str]]:
    """A moto table made from the template holding a populated scenario (moto: one writer),
    and the table's name; the environment is restored afterwards."""
    with mock_aws():
        saved = dict(os.environ)
        table = f"census-{name}-{uuid.uuid4().hex[:6]}"
        create_table(boto3.client("dynamodb"), table)
        use_table(table, None, SESSION_SIGNING_KEY=session_key)
        try:
            yield populate(folder, households=households, officers=officers, workers=1), table
        finally:
            os.environ.clear()
            os.environ.update(saved)
