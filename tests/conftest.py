"""Shared fixtures. The environment is set before any handler module is imported, as
Lambda sets it before importing a function; tables always come from template.yaml."""

from __future__ import annotations

import os

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SECURITY_TOKEN="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="ap-southeast-3",
    AWS_REGION="ap-southeast-3",
    TABLE_NAME="census-test",
    POWERTOOLS_SERVICE_NAME="census",
    POWERTOOLS_METRICS_NAMESPACE="CensusTest",
    POWERTOOLS_LOG_LEVEL="INFO",
    # The tests' own HMAC key for resident session tokens (production's is in Secrets Manager).
    SESSION_SIGNING_KEY="tests-only-session-key-0123456789abcdef0123456789",
)
for _name in ("DYNAMODB_ENDPOINT_URL", "ONLINE_PHASE_START", "ONLINE_PHASE_END"):
    os.environ.pop(_name, None)

import copy  # noqa: E402
import json  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import boto3  # noqa: E402
import pytest  # noqa: E402
from botocore.config import Config  # noqa: E402
from moto import mock_aws  # noqa: E402

from census_ops import events  # noqa: E402
from census_ops.events import LambdaContext  # noqa: E402
from census_ops.importer import import_register  # noqa: E402
from census_ops.register import RegisterHousehold, read_register, write_demo_register  # noqa: E402
from census_ops.template import create_table  # noqa: E402
from shared import store  # noqa: E402
from shared.settings import settings  # noqa: E402


def _share_moto_stream_records() -> None:
    """moto backs up a whole table, stream included, by deep copy before each item of every
    transaction (to roll the transaction back). The stream's records are never changed once
    written, so its backup can hold the same records in a list of its own: a rollback still
    drops the records the failed transaction added, and a stream that only grows no longer
    makes each transaction slower and larger than the last."""
    from moto.dynamodb.models.table import StreamShard

    def shard_deepcopy(shard: StreamShard, memo: dict[int, Any]) -> StreamShard:
        clone = copy.copy(shard)
        memo[id(shard)] = clone
        clone.table = copy.deepcopy(shard.table, memo)
        clone.items = list(shard.items)
        return clone

    StreamShard.__deepcopy__ = shard_deepcopy  # type: ignore[attr-defined]


_share_moto_stream_records()


def use_table(table_name: str, endpoint_url: str | None, **env: str) -> None:
    """Point settings and store at a table, as a container's environment would."""
    os.environ["TABLE_NAME"] = table_name
    if endpoint_url:
        os.environ["DYNAMODB_ENDPOINT_URL"] = endpoint_url
    else:
        os.environ.pop("DYNAMODB_ENDPOINT_URL", None)
    os.environ.update(env)
    settings.cache_clear()
    store.bind(settings())


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    settings.cache_clear()


@pytest.fixture(scope="session")
def demo_register_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("register") / "register.csv"
    write_demo_register(path, 40, seed=7)
    return path


@pytest.fixture(scope="session")
def households(demo_register_file: Path) -> list[RegisterHousehold]:
    with demo_register_file.open(newline="", encoding="utf-8") as stream:
        found = [h for h in read_register(stream) if not isinstance(h, list)]
    assert len(found) == 40
    return found


@pytest.fixture
def moto_table(demo_register_file: Path) -> Iterator[str]:
    """A fresh moto table built from the template, holding the 40-household demo register."""
    yield from _moto_table(demo_register_file)


@pytest.fixture(scope="module")
def module_moto_table(demo_register_file: Path) -> Iterator[str]:
    """The same, one per test module: for modules whose tests use different households
    (saves a second of moto start-up and import per test)."""
    yield from _moto_table(demo_register_file)


def _moto_table(demo_register_file: Path) -> Iterator[str]:
    with mock_aws():
        name = f"census-{uuid.uuid4().hex[:8]}"
        create_table(boto3.client("dynamodb"), name)
        use_table(name, None)
        report = import_register(demo_register_file, workers=1)  # moto: one writer
        assert not report.errors
        yield name


_pollers: dict[tuple[str, str | None], Any] = {}


def drain_stream(table_name: str | None = None, endpoint_url: str | None = None) -> int:
    """Run the table's stream consumer (functions/progress_stream, the handler AWS runs) over
    every record written since the last drain, as Lambda's poller would (moto's stream, or
    DynamoDB Local's): the progress counters and receipts then reflect every write made.
    Returns the number of records handed over."""
    from census_ops.stream_poller import StreamPoller
    from functions.progress_stream.app import lambda_handler

    table = table_name or os.environ["TABLE_NAME"]
    endpoint = endpoint_url if endpoint_url is not None else os.environ.get("DYNAMODB_ENDPOINT_URL")
    poller = _pollers.get((table, endpoint))
    if poller is None:
        poller = StreamPoller(
            boto3.client("dynamodb", endpoint_url=endpoint),
            # botocore's account-based endpoints (<account>.streams-ddb...) are not moto's.
            boto3.client("dynamodbstreams", endpoint_url=endpoint, config=Config(account_id_endpoint_mode="disabled")),
            table,
            lambda_handler,
        )
        _pollers[(table, endpoint)] = poller
    return poller.drain()


def trim_moto_stream(table: str | None = None) -> None:
    """Forget the records of moto's stream, once drain_stream() has handed them over and no
    other reader of the stream is left behind (moto refuses a reader positioned before its
    first record). moto backs up a whole table, stream included, before each item of every
    transaction: even with the records shared (_share_moto_stream_records), a long run of
    transactions copies a list that only grows. Sequence numbers go on from where they were."""
    from moto.dynamodb.models import dynamodb_backends

    table = table or os.environ["TABLE_NAME"]
    for regions in dynamodb_backends.values():
        for backend in regions.values():
            found = backend.tables.get(table)
            shard = getattr(found, "stream_shard", None)
            if shard is not None and shard.items:
                shard.starting_sequence_number += len(shard.items)
                shard.items = []


def table_items(table_name: str, endpoint_url: str | None = None) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", endpoint_url=endpoint_url)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table_name, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def member_body(person: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "nik": person.nik,
        "name": person.name,
        "relationship": person.relationship,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat(),
        "marital_status": "married" if person.relationship in {"head", "spouse"} else "never_married",
        "religion": "islam",
        "education": "senior_secondary",
        "citizenship": "WNI",
        "lives_at_kk_address": True,
        "current_area_code": None,
    }
    body.update(overrides)
    return body


def submission_body(household: RegisterHousehold, respondent: int = -1) -> dict[str, Any]:
    return {
        "respondent_nik": household.members[respondent].nik,
        "members": [member_body(m) for m in household.members],
    }


def api_event(method: str, path: str, *, resource: str, **fields: Any) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event as the Lambda receives it, sent as JSON unless the
    headers say otherwise (census_ops.events builds it, for the local API and the bench too)."""
    headers = {"Content-Type": "application/json", **(fields.pop("headers", None) or {})}
    return events.api_event(method, path, resource=resource, headers=headers, **fields)


def response_headers(answer: dict[str, Any]) -> dict[str, str]:
    """Headers as API Gateway sends them: single- and multi-value maps merged."""
    merged = {k: v[-1] for k, v in (answer.get("multiValueHeaders") or {}).items() if v}
    return {**merged, **(answer.get("headers") or {})}


Invoke = Callable[..., tuple[int, dict[str, str], dict[str, Any]]]


def invoke(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    method: str,
    resource: str,
    path_parameters: dict[str, str],
    *,
    body: Any = None,
    raw_body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Call a Lambda handler as API Gateway would for `resource` with these parameters."""
    event = events.route_event(
        method, resource, path_parameters, body, raw_body=raw_body, headers=headers, claims=claims, query=query
    )
    return handler(event, LambdaContext())


@pytest.fixture
def submit() -> Invoke:
    """POST /v1/households/{kk}/responses through the intake Lambda handler."""
    from functions.intake.app import lambda_handler

    def call(
        kk: str,
        body: Any = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        raw_body: bytes | str | None = None,
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        all_headers = dict(headers or {})
        if key is not None:
            all_headers["Idempotency-Key"] = key
        event = api_event(
            "POST",
            f"/v1/households/{kk}/responses",
            resource="/v1/households/{kk}/responses",
            path_parameters={"kk": kk},
            body=body,
            headers=all_headers,
            raw_body=raw_body,
        )
        answer = lambda_handler(event, LambdaContext())
        return answer["statusCode"], response_headers(answer), json.loads(answer["body"])

    return call
