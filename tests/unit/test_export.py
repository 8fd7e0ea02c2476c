"""`census export`: one CSV (or Parquet) row per member of each household's latest response,
read from the table; and DynamoDB's export to S3, started from the same command."""

from __future__ import annotations

import csv
import os
import stat
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from census_ops.cli import main
from census_ops.export import COLUMNS, ExportError, export_to_file, start_s3_export, wait_for_export
from census_ops.register import RegisterHousehold
from tests.conftest import Invoke, submission_body


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


@pytest.fixture
def responded(moto_table: str, submit: Invoke, households: list[RegisterHousehold]) -> dict[str, Any]:
    """Three households responded, the second one twice (a correction)."""
    first, second, third = households[:3]
    receipts = {}
    for household in (first, second, third):
        status, _, answer = submit(household.kk, submission_body(household))
        assert status == 201
        receipts[household.kk] = answer["receipt_code"]
    corrected = submission_body(second)
    corrected["members"][0]["education"] = "doctorate"
    status, _, answer = submit(second.kk, corrected)
    assert (status, answer["version"]) == (200, 2)
    return {"table": moto_table, "households": (first, second, third), "receipts": receipts}


def test_csv_has_one_row_per_member_of_the_latest_version(responded: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "responses.csv"
    assert main(["export", "--table", responded["table"], "--out", str(out)]) == 0
    rows = _read(out)
    first, second, third = responded["households"]
    assert len(rows) == len(first.members) + len(second.members) + len(third.members)
    by_kk: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_kk.setdefault(row["kk"], []).append(row)
    assert set(by_kk) == {first.kk, second.kk, third.kk}  # households that did not respond are absent
    for household in (first, second, third):
        members = by_kk[household.kk]
        assert [r["nik"] for r in members] == [m.nik for m in household.members]
        assert [int(r["member_index"]) for r in members] == list(range(len(household.members)))
        assert {r["receipt_code"] for r in members} == {responded["receipts"][household.kk]}
        assert {r["sls_code"] for r in members} == {household.sls_code}
        assert {(r["channel"], r["status"]) for r in members} == {("online", "clean")}
        assert all(r["lives_at_kk_address"] == "true" and r["current_area_code"] == "" for r in members)
    assert {r["version"] for r in by_kk[second.kk]} == {"2"}
    assert by_kk[second.kk][0]["education"] == "doctorate"  # the correction, not version 1
    assert {r["version"] for r in by_kk[first.kk]} == {"1"}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it holds NIKs and names


def test_an_empty_table_exports_a_header(moto_table: str, tmp_path: Path) -> None:
    out = tmp_path / "none.csv"
    assert main(["export", "--table", moto_table, "--out", str(out)]) == 0
    assert _read(out) == []


def test_parquet_is_the_analytics_layout_and_holds_the_csv_rows(responded: dict[str, Any], tmp_path: Path) -> None:
    """`--format parquet` writes the folder of docs/analytics.md (tested in depth in
    test_analytics.py): the same people as the CSV, without names."""
    from census_ops.analytics import connect, query

    csv_out, parquet_out = tmp_path / "r.csv", tmp_path / "parquet"
    assert main(["export", "--table", responded["table"], "--out", str(csv_out)]) == 0
    assert main(["export", "--table", responded["table"], "--format", "parquet", "--out", str(parquet_out)]) == 0
    rows = query(connect(parquet_out), "SELECT kk, nik, version FROM person ORDER BY kk, member_index")
    expected = sorted(_read(csv_out), key=lambda r: (r["kk"], int(r["member_index"])))
    assert [(r["kk"], r["nik"], r["version"]) for r in rows] == [
        (r["kk"], r["nik"], int(r["version"])) for r in expected
    ]


def test_a_file_format_other_than_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="csv"):
        export_to_file(object(), "census-nowhere", tmp_path / "r.xlsx", "xlsx", lambda _: None)


def test_the_s3_export_starts_from_the_point_in_time_backup(
    responded: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = boto3.client("dynamodb")
    s3 = boto3.client("s3")
    region = {"LocationConstraint": os.environ["AWS_REGION"]}
    s3.create_bucket(Bucket="census-exports", CreateBucketConfiguration=region)
    client.update_continuous_backups(
        TableName=responded["table"], PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    description = start_s3_export(client, responded["table"], "census-exports", "/exports/2027-03-31/")
    arn = description["ExportArn"]
    assert arn.startswith("arn:aws:dynamodb:")
    done = wait_for_export(client, arn, poll_seconds=0.05, timeout_seconds=10)
    assert done["ExportStatus"] == "COMPLETED"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="census-exports")["Contents"]]
    assert keys and all(k.startswith("exports/2027-03-31/AWSDynamoDB/") for k in keys)

    # The same from the command line, which prints the export's ARN and follows it.
    monkeypatch.setattr(time, "sleep", lambda _: None)
    args = ["export", "--table", responded["table"], "--s3-bucket", "census-exports", "--s3-prefix", "cli"]
    assert main([*args, "--wait", "--poll-seconds", "0"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().startswith("arn:aws:dynamodb:") and out.strip() != arn and "COMPLETED" in err


def test_the_s3_export_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is asked of DynamoDB, including the KMS key for the objects (moto ignores it)."""
    calls: list[tuple[str, dict[str, Any]]] = []

    class Client:
        def describe_table(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(("describe_table", kwargs))
            return {"Table": {"TableArn": "arn:aws:dynamodb:ap-southeast-3:123456789012:table/census"}}

        def export_table_to_point_in_time(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(("export", kwargs))
            return {"ExportDescription": {"ExportArn": "arn:export/1", "ExportStatus": "IN_PROGRESS"}}

    start_s3_export(Client(), "census", "bucket", "exports/", kms_key="arn:aws:kms:key/1")
    assert calls == [
        ("describe_table", {"TableName": "census"}),
        (
            "export",
            {
                "TableArn": "arn:aws:dynamodb:ap-southeast-3:123456789012:table/census",
                "S3Bucket": "bucket",
                "S3Prefix": "exports",
                "ExportFormat": "DYNAMODB_JSON",
                "ExportType": "FULL_EXPORT",
                "S3SseAlgorithm": "KMS",
                "S3SseKmsKeyId": "arn:aws:kms:key/1",
            },
        ),
    ]


def test_export_arguments_that_do_not_go_together(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export"]) == 2
    assert main(["export", "--s3-bucket", "b", "--out", "x.csv"]) == 2
    assert "--s3-bucket" in capsys.readouterr().err
