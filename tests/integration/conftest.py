"""DynamoDB Local for the integration tests: one engine per session (it takes about a second
to start), one fresh table per test, created from template.yaml."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from census_ops.dynamodb_local import DynamoDBLocal
from census_ops.importer import import_register
from census_ops.template import create_table
from tests.conftest import use_table

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


@pytest.fixture
def local_store(local_table: tuple[Any, str], dynamodb_local: DynamoDBLocal, demo_register_file: Path) -> str:
    """A fresh DynamoDB Local table holding the 40-household demo register; storage bound to it."""
    _, name = local_table
    use_table(name, dynamodb_local.endpoint_url)
    assert not import_register(demo_register_file).errors
    return name


def race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) on `count` threads released at the same instant; their results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results
