"""Hostile input against every operation of the generated OpenAPI document: schemathesis
sends valid and deliberately invalid requests (bodies, path parameters, headers, query
strings, missing or broken tokens, other methods) to the whole local service - the local
API Gateway and every handler in-process, on DynamoDB Local - and checks each answer:
never a 5xx, the status documented, every error body in the documented JSON shape,
documented headers present, invalid data refused, guarded routes refusing missing auth.

Bounded: a fixed number of examples per operation and no shrinking (about a minute);
deterministic, so a failure reproduces. `positive_data_acceptance` is off on purpose: a
schema-valid body is still refused when its NIKs are not on the register."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from census_ops.local_api import LocalApi
from census_ops.openapi import build_document
from census_ops.template import api_routes, create_table
from census_ops.tokens import mint_token, verify_token
from tests.conftest import use_table
from tests.integration.scenario import CITY_SUPERVISOR, Field, populate

pytestmark = pytest.mark.dynamodb_local

EXAMPLES_PER_OPERATION = 40
_SECRET = secrets.token_bytes(32)

schema = schemathesis.openapi.from_dict(build_document())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES_PER_OPERATION,
    no_shrink=True,
    deterministic=True,
    database="none",
    # Unknown query parameters and headers are ignored, as API Gateway passes them and most
    # APIs do: not "invalid data" that must be refused (False: do not generate them as such).
    allow_extra_parameters=False,
)
# Methods API Gateway routes to the API (405 when the path has no such route). TRACE and
# QUERY it answers itself, before any function, and OPTIONS is the CORS preflight.
schema.config.phases.coverage.unexpected_methods = {"get", "put", "post", "delete", "patch"}


class Service:
    def __init__(self, url: str, field: Field, resident_token: str | None) -> None:
        self.url = url
        self.field = field
        self.supervisor = mint_token(CITY_SUPERVISOR, "supervisor", secret=_SECRET)
        self.resident = resident_token

    def headers_for(self, case: Any) -> dict[str, str]:
        security = case.operation.definition.raw.get("security") or []
        if {"bearer": []} in security:
            return {"Authorization": f"Bearer {self.supervisor}"}
        if {"residentSession": []} in security and self.resident:
            return {"Authorization": f"Bearer {self.resident}"}
        return {}


@pytest.fixture(scope="module")
def service(dynamodb_local: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    saved = dict(os.environ)
    os.environ["SESSION_SIGNING_KEY"] = secrets.token_hex(32)
    table = f"census-st-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb_local.client(), table)
    use_table(table, dynamodb_local.endpoint_url)
    field = populate(tmp_path_factory.mktemp("schemathesis"), households=60, officers=4)
    api = LocalApi(api_routes(), port=0, authorize=lambda token: verify_token(token, secret=_SECRET))
    api.start_in_thread()
    try:
        yield Service(api.url, field, _resident_token(api.url, field))
    finally:
        api.shutdown()
        os.environ.clear()
        os.environ.update(saved)


def _resident_token(url: str, field: Field) -> str | None:
    """A resident's session for the session routes, when the service has them."""
    import json
    import urllib.error
    import urllib.request

    if not any(r.path == "/v1/sessions" for r in api_routes()):
        return None
    household = field.households[-1]
    body = {"kk": household.kk, "nik": household.members[0].nik, "new_password": "kopi-susu-" + secrets.token_hex(4)}
    request = urllib.request.Request(
        f"{url}/v1/sessions", json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(json.loads(answer.read())["token"])


@schema.parametrize()
def test_every_operation_survives_generated_and_hostile_requests(case: Any, service: Service) -> None:
    case.call_and_validate(
        base_url=service.url,
        headers=service.headers_for(case),
        excluded_checks=[positive_data_acceptance],
        timeout=30,
    )
