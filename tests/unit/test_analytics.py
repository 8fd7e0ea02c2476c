"""The census outputs: every SQL file run on DuckDB against small hand-built relations with
answers computed by hand, parsed in Athena's dialect (Trino) and DuckDB's by sqlglot; the
table -> Parquet export round trip on moto; published tables; the duplicate check's
marking (conditional, counted once)."""

from __future__ import annotations

import json
import stat
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
import sqlglot

from census_ops import analytics as local
from census_ops.cli import main
from census_ops.register import RegisterHousehold
from shared import analytics, store
from shared.progress import area_progress
from shared.review_flags import flag_duplicates
from tests.conftest import Invoke, drain_stream, member_body, submission_body

A_SLS, B_SLS = "16710100010001", "16710200010001"  # district A (1671010), district B (1671020)
PERSON_COLUMNS = "kk, nik, sls_code, sex, age, relationship, status, version"


def _people() -> list[tuple[Any, ...]]:
    """District A: 6 boys and 5 girls aged 0-4, one woman of 30 (head); district B: 5 boys
    0-4, 7 women 30-34 (heads). One NIK (N-DUP) is in A1's and B1's responses."""
    rows: list[tuple[Any, ...]] = []
    for i in range(6):
        rows.append(("A1", f"A-m{i}", A_SLS, "male", i % 5, "child", "clean", 1))
    for i in range(5):
        rows.append(("A1", f"A-f{i}", A_SLS, "female", 4, "child", "clean", 1))
    rows.append(("A1", "N-DUP", A_SLS, "female", 30, "head", "clean", 1))
    for i in range(5):
        rows.append(("B1", f"B-m{i}", B_SLS, "male", 0, "child", "clean", 2))
    for i in range(6):
        rows.append((f"B{i + 2}", f"B-w{i}", B_SLS, "female", 30 + i % 5, "head", "interviewed", 1))
    rows.append(("B1", "N-DUP", B_SLS, "female", 34, "head", "clean", 2))
    rows.append(("B1", "N-BABY", B_SLS, "female", None, "child", "clean", 2))  # born after the reference date
    return rows


def _households() -> list[tuple[Any, ...]]:
    """(kk, sls_code, channel, size, enrolled_in_field): A 4 online + 2 interview; B 5
    online, 1 enrolled in the field, 2 without a response."""
    rows: list[tuple[Any, ...]] = [(f"HA{i}", A_SLS, "online", 2, False) for i in range(4)]
    rows += [(f"HA{i}", A_SLS, "interview", 3 if i == 4 else 2, False) for i in (4, 5)]
    rows += [(f"HB{i}", B_SLS, "online", 1, False) for i in range(5)]
    rows += [("HB5", B_SLS, "interview", 1, True), ("HB6", B_SLS, None, None, False), ("HB7", B_SLS, None, None, False)]
    return rows


@pytest.fixture
def hand_built() -> Any:
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE person (kk VARCHAR, nik VARCHAR, sls_code VARCHAR, sex VARCHAR, age INTEGER,"
        " relationship VARCHAR, status VARCHAR, version INTEGER)"
    )
    connection.executemany("INSERT INTO person VALUES (?, ?, ?, ?, ?, ?, ?, ?)", _people())
    connection.execute(
        "CREATE TABLE household (kk VARCHAR, sls_code VARCHAR, channel VARCHAR, size INTEGER,"
        " enrolled_in_field BOOLEAN)"
    )
    connection.executemany("INSERT INTO household VALUES (?, ?, ?, ?, ?)", _households())
    connection.execute(
        "CREATE TABLE departed (kk VARCHAR, nik VARCHAR, reason VARCHAR, sls_code VARCHAR, version INTEGER)"
    )
    connection.executemany(
        "INSERT INTO departed VALUES (?, ?, ?, ?, ?)",
        [
            ("A2", "N-GONE", "moved_out", A_SLS, 1),  # found nowhere: listed
            ("A3", "B-w0", "moved_out", A_SLS, 1),  # found in B2: not listed
            ("A4", "N-DEAD", "died", A_SLS, 1),  # died: not listed
            ("B9", "N-GONE-B", "moved_out", B_SLS, 1),  # outside district A
        ],
    )
    return connection


def _cells(connection: Any, sql: str) -> dict[tuple[str, str, str], Any]:
    return {(r["area_code"], r["row_label"], r["column_label"]): r["n"] for r in local.query(connection, sql)}


def test_pyramid_counts_by_hand(hand_built: Any) -> None:
    cells = _cells(hand_built, analytics.tabulation("pyramid", "1671"))
    assert cells == {
        ("1671", "0-4", "male"): 11,
        ("1671", "0-4", "female"): 5,
        ("1671", "30-34", "female"): 8,  # N-DUP twice (A1, B1): the table counts responses as given
        ("1671010", "0-4", "male"): 6,
        ("1671010", "0-4", "female"): 5,
        ("1671010", "30-34", "female"): 1,
        ("1671020", "0-4", "male"): 5,
        ("1671020", "30-34", "female"): 7,
    }  # N-BABY (age NULL) is not counted


def test_pyramid_suppression_by_hand(hand_built: Any) -> None:
    published = analytics.by_area("pyramid", local.query(hand_built, analytics.published("pyramid", "1671")))
    # 1671: nothing below 5. 1671010: the woman of 30 (1) is suppressed; the smallest other cell of
    # the district (girls 0-4, 5) too (rule 2); 1671020's women 30-34 (7) too, or the woman of 30
    # would be 8 - 7 from the city's cell (rule 3).
    assert published["1671"]["rows"] == [
        {"label": "0-4", "male": 11, "female": 5},
        {"label": "30-34", "female": 8},
    ]
    assert published["1671010"]["rows"] == [
        {"label": "0-4", "male": 6, "female": None},
        {"label": "30-34", "female": None},
    ]
    assert published["1671020"]["rows"] == [{"label": "0-4", "male": 5}, {"label": "30-34", "female": None}]
    # A lower threshold publishes everything.
    everything = analytics.by_area("pyramid", local.query(hand_built, analytics.published("pyramid", "1671", 1)))
    assert everything["1671010"]["rows"][1] == {"label": "30-34", "female": 1}


def test_household_sizes_relationship_and_channels_by_hand(hand_built: Any) -> None:
    sizes = _cells(hand_built, analytics.tabulation("household_size", "1671"))
    assert sizes == {
        ("1671", "1", "households"): 6,
        ("1671", "2", "households"): 5,
        ("1671", "3", "households"): 1,
        ("1671010", "2", "households"): 5,
        ("1671010", "3", "households"): 1,
        ("1671020", "1", "households"): 6,
    }  # HB6 and HB7 have no response, so no size
    relationship = _cells(hand_built, analytics.tabulation("relationship", "1671010"))
    assert relationship == {
        ("1671010", "child", "persons"): 11,
        ("1671010", "head", "persons"): 1,
        ("1671010001", "child", "persons"): 11,
        ("1671010001", "head", "persons"): 1,
    }
    channels = _cells(hand_built, analytics.tabulation("response_channel", "1671"))
    assert {k: v for k, v in channels.items() if k[0] == "1671"} == {
        ("1671", "online", "households"): 9,
        ("1671", "interview", "households"): 2,
        ("1671", "enrolled_in_field", "households"): 1,
        ("1671", "not_responded", "households"): 2,
        ("1671", "registered", "households"): 14,
    }
    unsuppressed = analytics.by_area(
        "response_channel", local.query(hand_built, analytics.published("response_channel", "1671", 1))
    )
    assert unsuppressed["1671"]["response_rate"] == round(12 / 14, 4)
    assert unsuppressed["1671020"]["response_rate"] == round(6 / 8, 4)
    # Published: 2 households without a response and 1 enrolled are small cells, and the rate
    # would give the first away (14 - 12), so it is withheld too.
    published = analytics.by_area(
        "response_channel", local.query(hand_built, analytics.published("response_channel", "1671"))
    )
    rows = {r["label"]: r["households"] for r in published["1671"]["rows"]}
    assert rows == {"online": 9, "interview": None, "enrolled_in_field": None, "not_responded": None, "registered": 14}
    assert published["1671"]["response_rate"] is None


def test_duplicates_and_moved_out_not_found_by_hand(hand_built: Any) -> None:
    duplicates = local.query(hand_built, analytics.check("duplicates", "1671"))
    assert [(r["nik"], r["kk"], r["version"], r["other_kk"]) for r in duplicates] == [
        ("N-DUP", "A1", 1, "B1"),
        ("N-DUP", "B1", 2, "A1"),
    ]
    # Within district A only: still both rows (either household in the area).
    assert len(local.query(hand_built, analytics.check("duplicates", "1671010"))) == 2
    moved = local.query(hand_built, analytics.check("moved_out_not_found", "1671010"))
    assert [(r["nik"], r["kk"]) for r in moved] == [("N-GONE", "A2")]
    assert {r["nik"] for r in local.query(hand_built, analytics.check("moved_out_not_found", "16"))} == {
        "N-GONE",
        "N-GONE-B",
    }


@pytest.mark.parametrize("name", sorted(analytics.all_queries()))
def test_every_query_parses_in_athena_and_duckdb_dialects(name: str) -> None:
    sql = analytics.all_queries()[name]
    for dialect in ("trino", "duckdb"):
        parsed = sqlglot.parse(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
        assert len(parsed) == 1 and parsed[0] is not None, dialect


def test_parameters_are_validated_never_pasted() -> None:
    for bad in ("1671' OR '1'='1", "16x1", "167", "16710100010001"):
        with pytest.raises(ValueError):
            analytics.tabulation("pyramid", bad)
    with pytest.raises(ValueError):
        analytics.published("pyramid", "1671", 0)
    with pytest.raises(ValueError):
        analytics.export_select("person", export_id="x'; DROP TABLE y", reference_date="2026-07-01")
    with pytest.raises(ValueError):
        analytics.export_select("person", export_id="abc", reference_date="2026-07-01'")
    with pytest.raises(analytics.UnknownQuery):
        analytics.load("../../store/schema")
    assert "starts_with(sls_code, '')" in analytics.tabulation("pyramid", None)  # national


# ---------------------------------------------------------------- the table -> Parquet, on moto


@pytest.fixture
def responded(moto_table: str, submit: Invoke, households: list[RegisterHousehold]) -> dict[str, Any]:
    """Four households responded; the second lists the first's last member too (counted twice)
    and corrected once; the third says its last member moved out."""
    first, second, third, fourth = [h for h in households if len(h.members) > 1][:4]
    bodies = {h.kk: submission_body(h) for h in (first, second, third, fourth)}
    twice = member_body(first.members[-1], relationship="other_relative", added_because="moved_in")
    bodies[second.kk]["members"].append(twice)
    gone = bodies[third.kk]["members"].pop()
    bodies[third.kk]["departed"] = [{"nik": gone["nik"], "reason": "moved_out"}]
    bodies[third.kk]["respondent_nik"] = bodies[third.kk]["members"][0]["nik"]
    for household in (first, second, third, fourth):
        assert submit(household.kk, bodies[household.kk])[0] == 201
    bodies[second.kk]["members"][0]["education"] = "doctorate"
    assert submit(second.kk, bodies[second.kk])[2]["version"] == 2
    return {"table": moto_table, "households": (first, second, third, fourth), "twice": twice, "gone": gone}


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((born.month, born.day) > (on.month, on.day))


def test_export_writes_the_parquet_layout_from_the_table(
    responded: dict[str, Any], households: list[RegisterHousehold], tmp_path: Path
) -> None:
    out = tmp_path / "parquet"
    args = ["export", "--table", responded["table"], "--format", "parquet", "--out", str(out)]
    assert main([*args, "--reference-date", "2026-07-01"]) == 0
    first, second, third, fourth = responded["households"]
    assert sorted(p.name for p in out.iterdir()) == ["_manifest.json", "departed", "household", "person"]
    assert {p.name for p in (out / "person").iterdir()} == {f"regency={h.sls_code[:4]}" for h in households}
    assert stat.S_IMODE(out.stat().st_mode) == 0o700  # NIKs inside
    connection = local.connect(out)
    people = local.query(connection, "SELECT * FROM person ORDER BY kk, member_index")
    assert len(people) == len(first.members) + len(second.members) + 1 + len(third.members) - 1 + len(fourth.members)
    assert "name" not in people[0]  # no names in the analytics set
    head = next(p for p in people if p["nik"] == first.members[0].nik)
    assert head["age"] == _age(first.members[0].birth_date, date(2026, 7, 1))
    assert head["birth_date"] == first.members[0].birth_date
    assert (head["regency"], head["district_code"], head["sls_code"]) == (
        first.sls_code[:4],
        first.sls_code[:7],
        first.sls_code,
    )
    assert (head["channel"], head["status"], head["version"]) == ("online", "clean", 1)
    second_rows = [p for p in people if p["kk"] == second.kk]
    assert {p["version"] for p in second_rows} == {2} and second_rows[0]["education"] == "doctorate"
    assert second_rows[-1]["added_because"] == "moved_in"
    homes = {h["kk"]: h for h in local.query(connection, "SELECT * FROM household")}
    assert len(homes) == len(households)  # every household on the register
    assert homes[second.kk]["size"] == len(second.members) + 1
    silent = next(h for h in households if h.kk not in homes or h not in responded["households"])
    assert homes[silent.kk]["size"] is None and homes[silent.kk]["status"] == "pending"
    assert not any(h["enrolled_in_field"] for h in homes.values())  # all came from the register
    departed = local.query(connection, "SELECT * FROM departed")
    assert [(d["kk"], d["nik"], d["reason"]) for d in departed] == [(third.kk, responded["gone"]["nik"], "moved_out")]
    duplicates = local.run_check(connection, "duplicates")
    assert {(d["kk"], d["other_kk"]) for d in duplicates} == {(first.kk, second.kk), (second.kk, first.kk)}
    assert [m["nik"] for m in local.run_check(connection, "moved_out_not_found")] == [responded["gone"]["nik"]]
    # Idempotent: the same set again, nothing left over beside it.
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*.parquet"))
    assert main([*args, "--reference-date", "2026-07-01"]) == 0
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.parquet")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parquet"]
    assert json.loads((out / "_manifest.json").read_text())["rows"]["person"] == len(people)


def test_dynamodb_export_to_s3_flattens_to_the_same_set(responded: dict[str, Any], tmp_path: Path) -> None:
    """The AWS path's input: DynamoDB's own export files (moto writes them as AWS does, gzipped
    DynamoDB JSON), flattened by the same export SQL, give the set the local export gives."""
    from census_ops.export import start_s3_export, wait_for_export

    client, s3 = boto3.client("dynamodb"), boto3.client("s3")
    s3.create_bucket(Bucket="census-outputs", CreateBucketConfiguration={"LocationConstraint": "ap-southeast-3"})
    client.update_continuous_backups(
        TableName=responded["table"], PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    arn = start_s3_export(client, responded["table"], "census-outputs", "exports")["ExportArn"]
    assert wait_for_export(client, arn, poll_seconds=0.05, timeout_seconds=10)["ExportStatus"] == "COMPLETED"
    files = tmp_path / "export"
    files.mkdir()
    for obj in s3.list_objects_v2(Bucket="census-outputs", Prefix="exports/AWSDynamoDB/")["Contents"]:
        if "/data/" in obj["Key"]:
            s3.download_file("census-outputs", obj["Key"], str(files / obj["Key"].rsplit("/", 1)[-1]))
    reference = date(2026, 7, 1)
    aws = tmp_path / "aws"
    aws.mkdir()
    with duckdb.connect() as connection:
        local.register_export(connection, files / "*", export_id="01700000000000-abc")
        counts = local.flatten(connection, aws, reference, export_id="01700000000000-abc")
    (aws / local.MANIFEST).write_text("{}")
    mine = tmp_path / "local"
    local.write_parquet_layout(client, responded["table"], mine, reference)
    for name in analytics.EXPORTS:
        order = "ORDER BY ALL"
        from_s3 = local.query(local.connect(aws), f"SELECT * FROM {name} {order}")  # noqa: S608 - fixed names
        from_table = local.query(local.connect(mine), f"SELECT * FROM {name} {order}")  # noqa: S608
        assert from_s3 == from_table and len(from_s3) == counts[name], name
    assert counts["person"] > 0 and counts["departed"] == 1


def test_an_empty_table_exports_empty_tables(moto_table: str, tmp_path: Path) -> None:
    out = tmp_path / "p"
    assert main(["export", "--table", moto_table, "--format", "parquet", "--out", str(out)]) == 0
    connection = local.connect(out)
    assert local.query(connection, "SELECT count(*) AS n FROM person") == [{"n": 0}]
    assert local.tabulate(connection, "pyramid", "1671") == {}


def test_tabulate_prints_csv_and_json(responded: dict[str, Any], tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "p"
    assert main(["export", "--table", responded["table"], "--format", "parquet", "--out", str(out)]) == 0
    capsys.readouterr()
    assert (
        main(["tabulate", "--area", "1671", "--table", "household_size", "--parquet", str(out), "--format", "json"])
        == 0
    )
    shaped = json.loads(capsys.readouterr().out)["areas"]
    assert sum(int(r["households"] or 0) for r in shaped["1671"]["rows"]) in range(0, 5)
    assert main(["tabulate", "--area", "1671", "--table", "pyramid", "--parquet", str(out), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("area_code,label,male,female")
    assert main(["tabulate", "--area", "99", "--table", "pyramid", "--parquet", str(tmp_path / "none")]) == 1


# ---------------------------------------------------------------- people counted twice, marked


def _meta(kk: str) -> dict[str, Any]:
    item = boto3.client("dynamodb").get_item(
        TableName=store.CensusItem.Meta.table_name, Key={"pk": {"S": f"HH#{kk}"}, "sk": {"S": "META"}}
    )["Item"]
    return {k: next(iter(v.values())) for k, v in item.items()}


def test_duplicates_mark_both_households_once(responded: dict[str, Any], tmp_path: Path) -> None:
    first, second, *_ = responded["households"]
    city = first.sls_code[:4]
    drain_stream()  # counters and receipts move from the table's stream (docs/decisions/0019)
    before = area_progress(city)
    out = tmp_path / "p"
    assert main(["export", "--table", responded["table"], "--format", "parquet", "--out", str(out)]) == 0
    rows = local.run_check(local.connect(out), "duplicates")
    assert flag_duplicates(rows) == {"flagged": 2, "reason_added": 0, "already_flagged": 0, "changed_since": 0}
    drain_stream()
    for kk in (first.kk, second.kk):
        meta = _meta(kk)
        assert meta["status"] == "needs_review" and "visit_area" in meta  # back on the worklist
        receipt = boto3.client("dynamodb").get_item(
            TableName=store.CensusItem.Meta.table_name,
            Key={"pk": {"S": f"RECEIPT#{meta['receipt_code']}"}, "sk": {"S": "RECEIPT"}},
        )["Item"]
        assert receipt["status"]["S"] == "needs_review"
    after = area_progress(city)
    assert after["clean"] == before["clean"] - 2
    assert after["needs_review"] == before["needs_review"] + 2
    assert after["to_visit"] == before["to_visit"] + 2
    # Again: a no-op, counted once.
    assert flag_duplicates(rows)["already_flagged"] == 2
    drain_stream()
    assert area_progress(city) == after
    # The check's view of a household that changed since: not marked.
    stale = [{**rows[0], "version": rows[0]["version"] + 5}]
    assert flag_duplicates(stale)["changed_since"] == 1


def test_supervisors_see_the_other_household_and_residents_do_not(responded: dict[str, Any], tmp_path: Path) -> None:
    from shared.fieldwork import household_for_interview
    from shared.officers import Caller
    from shared.status_lookup import receipt_status

    first, second, *_ = responded["households"]
    out = tmp_path / "p"
    assert main(["export", "--table", responded["table"], "--format", "parquet", "--out", str(out)]) == 0
    flag_duplicates(local.run_check(local.connect(out), "duplicates"))
    drain_stream()
    supervisor = Caller("SPV-TEST", frozenset({"supervisor"}), (first.sls_code[:4],))
    flags = household_for_interview(supervisor, first.kk)["review_flags"]
    assert [(f["reason"], f["other_kk"]) for f in flags] == [("person_in_other_household", second.kk)]
    resident_view = receipt_status(_meta(first.kk)["receipt_code"])
    assert resident_view["status"] == "needs_review"
    assert second.kk not in json.dumps(resident_view)


def test_the_national_figures_arithmetic() -> None:
    """docs/performance.md's national figures from the bench's measurements, by hand."""
    from census_ops.bench.analytics import national

    million = {
        "persons": 4_000_000,
        "households": 1_000_000,
        "person_parquet_bytes": 32_000_000,  # 8 MB per million persons
        "scanned_bytes": {
            "pyramid": 8_000_000,  # 2 MB per million persons -> 540.4 MB nationally
            "household_size": 100,  # 7,000 bytes nationally: billed as Athena's 10 MB minimum
            "relationship": 0,
            "response_channel": 0,
            "duplicates": 0,
            "moved_out_not_found": 0,
        },
    }
    city = {"households": 1_000, "table_bytes": 1_500_000, "export_seconds": 1.0}
    figures = national(city, million)
    assert figures["person_parquet_bytes_per_million_persons"] == 8_000_000
    assert figures["national_person_parquet_bytes"] == 8 * 270_200_000
    pyramid = figures["queries"]["pyramid"]
    assert pyramid["national_bytes"] == 2 * 270_200_000
    assert pyramid["national_usd"] == round(540_400_000 / 1e12 * 5, 4)  # $0.0027
    assert figures["queries"]["household_size"]["national_usd"] == round(10_000_000 / 1e12 * 5, 4)
    assert figures["export"]["table_bytes_per_household"] == 1_500
    assert figures["export"]["national_table_gb"] == 105.0  # 1,500 bytes x 70 M
    assert figures["export"]["national_export_usd"] == 10.5  # $0.10 per GB


def test_one_command_prints_the_pyramid_and_the_people_counted_twice(
    moto_table: str, households: list[RegisterHousehold], tmp_path: Path, capsys: Any
) -> None:
    """The demo field phase's responses (census_ops.examples.counted_twice, as
    `census demo-fieldwork` sends them), then `census outputs` on the same table."""
    from census_ops.examples import counted_twice, example_submission
    from shared.intake import submit_response
    from shared.settings import settings

    online = households[:30]
    bodies = {h.kk: example_submission(h, 0) for h in online}
    counted_twice(bodies, online, pairs=3, moved_out=2)
    for household in online:
        submit_response(household.kk, json.dumps(bodies[household.kk]), None, settings=settings())
    capsys.readouterr()
    out = tmp_path / "parquet"
    assert main(["outputs", "--area", "1671", "--table", moto_table, "--parquet", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "pyramid - 1671\n" in printed and "0-4" in printed and "75+" in printed
    assert "People counted twice (3 NIKs in 6 households)" in printed
    assert "Moved out and found in no household (2)" in printed
    assert "Marked for review: 6 households moved to needs_review" in printed
    niks = {m.nik for h in online for m in h.members}
    assert not any(nik in printed for nik in niks)  # masked: region and serial only
    # Again: the same people, nothing marked twice.
    assert main(["outputs", "--area", "1671", "--table", moto_table, "--parquet", str(out)]) == 0
    assert "0 households moved to needs_review, 6 already flagged" in capsys.readouterr().out


def test_versions_stored_with_members_as_maps_flatten_to_the_same_set(
    responded: dict[str, Any], tmp_path: Path
) -> None:
    """Versions written before docs/decisions/0018 hold each member as a map, not as one
    packed string: the export SQL reads both into the same rows."""
    from pynamodb.attributes import ListAttribute, MapAttribute

    from shared.store.schema import ResponseVersion

    client, table = boto3.client("dynamodb"), responded["table"]
    reference = date(2026, 7, 1)
    local.write_parquet_layout(client, table, tmp_path / "packed", reference)
    maps = ListAttribute(of=MapAttribute)
    versions = [i for i in local.scan_household_items(client, table, lambda _: None) if i["sk"]["S"].startswith("V#")]
    assert versions and all("S" in m for v in versions for m in v["members"]["L"])
    for item in versions:
        stored = ResponseVersion.from_raw_data(item)
        old = dict(item, members={"L": maps.serialize(stored.members)})
        if stored.departed:
            old["departed"] = {"L": maps.serialize(stored.departed)}
        client.put_item(TableName=table, Item=old)
    local.write_parquet_layout(client, table, tmp_path / "maps", reference)
    for name in analytics.EXPORTS:
        packed = local.query(local.connect(tmp_path / "packed"), f"SELECT * FROM {name} ORDER BY ALL")  # noqa: S608
        as_maps = local.query(local.connect(tmp_path / "maps"), f"SELECT * FROM {name} ORDER BY ALL")  # noqa: S608
        assert packed == as_maps and packed, name
