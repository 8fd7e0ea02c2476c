"""`census import-areas`: the area master list by name, line-numbered errors, idempotent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from census_ops.area_list import demo_areas, import_areas, write_demo_areas
from census_ops.template import create_table
from shared import store
from tests.conftest import table_items, use_table


@pytest.fixture
def table() -> Iterator[str]:
    with mock_aws():
        name = f"census-areas-{uuid.uuid4().hex[:6]}"
        create_table(boto3.client("dynamodb"), name)
        use_table(name, None)
        yield name


def test_bad_rows_are_reported_by_line_and_the_rest_imported(table: str, tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    path.write_text(
        "code,name,parent\n"
        "16,Sumatera Selatan,\n"
        "1671,Kota Palembang,16\n"
        "1671010,Ilir Barat II,1672\n"  # line 4: the wrong parent
        "16710x0,Gandus,1671\n"  # line 5: not a code
        "1671020,,1671\n"  # line 6: no name
        "1671,Palembang again,16\n"  # line 7: repeated
        "\n"
        "1671030,Seberang Ulu I,1671\n"
    )
    report = import_areas(path)
    assert [(e.line, e.message.split(":")[1].strip()) for e in report.errors] == [
        (4, "parent is not the code's parent"),
        (5, "code is invalid"),
        (6, "name is empty"),
        (7, "code repeats the code on line 3"),
    ]
    assert report.areas_written == 3
    assert [(a.code, a.name) for a in store.area_children(None)] == [("16", "Sumatera Selatan")]
    assert [a.code for a in store.area_children("1671")] == ["1671030"]


def test_the_import_is_idempotent_and_the_demo_list_names_every_level(table: str, tmp_path: Path) -> None:
    sls = ["16710100010001", "16710100010002", "16710200010001"]
    rows = demo_areas(sls)
    assert [len(code) for code, _, _ in rows] == [2, 4, 7, 7, 10, 10, 14, 14, 14]
    assert dict((c, n) for c, n, _ in rows)["16710100010002"] == "RT 002 / RW 001"
    path = tmp_path / "areas.csv"
    write_demo_areas(path, sls)
    assert not import_areas(path).errors
    first = sorted((i["pk"]["S"], i["sk"]["S"]) for i in table_items(table))
    assert not import_areas(path).errors
    assert sorted((i["pk"]["S"], i["sk"]["S"]) for i in table_items(table)) == first
    assert ("AREAS#1671010", "1671010001") in first and ("AREAS#ROOT", "16") in first
