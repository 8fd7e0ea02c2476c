"""DynamoDB Local as the tests and `census serve` use it: tables from the template, TTL,
and data that survives a restart when persisted."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from census_ops.dynamodb_local import DynamoDBLocal, DynamoDBLocalError, find_jar
from census_ops.template import create_table, load_template

pytestmark = pytest.mark.dynamodb_local


def _table_properties() -> dict[str, Any]:
    return next(r["Properties"] for r in load_template()["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")


def _key(item_id: str) -> dict[str, Any]:
    """A key item built from the template's own key names."""
    names = {k["KeyType"]: k["AttributeName"] for k in _table_properties()["KeySchema"]}
    key = {names["HASH"]: {"S": f"TEST#{item_id}"}}
    if "RANGE" in names:
        key[names["RANGE"]] = {"S": "META"}
    return key


def test_the_table_from_the_template(local_table: tuple[Any, str]) -> None:
    client, name = local_table
    properties = _table_properties()
    table = client.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == properties["KeySchema"]
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        (a["AttributeName"], a["AttributeType"]) for a in properties["AttributeDefinitions"]
    }
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {i["IndexName"] for i in properties.get("GlobalSecondaryIndexes", [])}
    for index in properties.get("GlobalSecondaryIndexes", []):
        assert indexes[index["IndexName"]]["KeySchema"] == index["KeySchema"]
        assert indexes[index["IndexName"]]["IndexStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == properties["BillingMode"]
    assert create_table(client, name) is False


def test_put_and_get(local_table: tuple[Any, str]) -> None:
    client, name = local_table
    item = {**_key("put-get"), "answer": {"N": "42"}}
    client.put_item(TableName=name, Item=item)
    found = client.get_item(TableName=name, Key=_key("put-get"), ConsistentRead=True)["Item"]
    assert found == item


def test_ttl_is_the_templates(local_table: tuple[Any, str]) -> None:
    client, name = local_table
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == _table_properties()["TimeToLiveSpecification"]["AttributeName"]


def test_a_shared_database_whatever_the_credentials(
    dynamodb_local: DynamoDBLocal, local_table: tuple[Any, str]
) -> None:
    """-sharedDb: a client with other keys and region sees the same tables."""
    import boto3

    _, name = local_table
    other = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint_url,
        region_name="us-west-2",
        aws_access_key_id="someone",
        aws_secret_access_key="else",
    )
    assert other.describe_table(TableName=name)["Table"]["TableName"] == name


def test_persisted_data_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    log = tmp_path / "engine.log"
    with DynamoDBLocal(data_dir=data_dir, log_path=log) as engine:
        client = engine.client()
        assert create_table(client, "census-persisted") is True
        client.put_item(TableName="census-persisted", Item={**_key("kept"), "note": {"S": "still here"}})
    assert not engine.running
    assert any(data_dir.iterdir()), "nothing was written to data_dir"

    with DynamoDBLocal(data_dir=data_dir, log_path=log) as engine:
        client = engine.client()
        assert create_table(client, "census-persisted") is False
        item = client.get_item(TableName="census-persisted", Key=_key("kept"), ConsistentRead=True).get("Item")
        assert item is not None and item["note"] == {"S": "still here"}
    assert "starting on port" in log.read_text()


def test_stop_is_idempotent_and_start_again_works() -> None:
    engine = DynamoDBLocal(in_memory=True)
    engine.stop()  # never started
    with engine:
        assert engine.client().list_tables()["TableNames"] == []
        process = engine._process
        assert process is not None
    engine.stop()
    assert process.returncode is not None


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(DynamoDBLocalError, match=f"port {port} is already in use"):
            DynamoDBLocal(in_memory=True, port=port).start()


def test_no_java_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(DynamoDBLocalError, match="java"):
        DynamoDBLocal(in_memory=True).start()


def test_a_missing_jar_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DynamoDBLocalError, match="make install"):
        find_jar(tmp_path)


def test_it_has_no_option_to_bind_one_address() -> None:
    """Documents why the engine listens on every interface: if a later release adds a host
    option, this fails and we should pass it."""
    jar = find_jar()
    usage = subprocess.run(
        ["java", f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar), "-help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    assert "-port" in usage
    assert not any(word in usage.lower() for word in ("-host", "-bind", "-address", "-listen"))
