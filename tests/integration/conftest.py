"""DynamoDB Local for the integration tests: one engine per session (it takes about a second
to start), one fresh table per test, created from template.yaml."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shared.ops.dynamodb_local import DynamoDBLocal
from shared.ops.template import create_table

# Session-wide and before any client exists (monkeypatch has no session scope).
for _name, _value in (
    ("AWS_ACCESS_KEY_ID", "local"),
    ("AWS_SECRET_ACCESS_KEY", "local"),
    ("AWS_REGION", "ap-southeast-3"),
    ("AWS_DEFAULT_REGION", "ap-southeast-3"),
):
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamoDBLocal]:
    log = tmp_path_factory.mktemp("dynamodb-local") / "dynamodb-local.log"
    engine = DynamoDBLocal(in_memory=True, port=0, log_path=log)
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture
def local_table(dynamodb_local: DynamoDBLocal) -> Iterator[tuple[Any, str]]:
    """(client, table name): a new table per test, so tests never see each other's items."""
    client = dynamodb_local.client()
    name = f"census-{uuid.uuid4().hex}"
    assert create_table(client, name) is True
    yield client, name
    with contextlib.suppress(ClientError):
        client.delete_table(TableName=name)
