"""`census recount`: the progress counters recomputed from the households agree with the
stored ones after real submissions; a counter tampered with shows up as drift in its SLS,
and `--fix` rewrites it (and only it)."""

from __future__ import annotations

from typing import Any

import pytest

from census_ops import cli
from census_ops.recount import recount_table
from census_ops.register import RegisterHousehold
from shared import store
from shared.store.schema import progress_key
from tests.conftest import Invoke, drain_stream, submission_body

pytestmark = pytest.mark.dynamodb_local


def _submit_some(submit: Invoke, households: list[RegisterHousehold], count: int) -> None:
    for i, household in enumerate(households[:count]):
        status, _, body = submit(household.kk, submission_body(household), key=f"recount-{i}")
        assert status == 201, body
    # A correction: a second version, counted once.
    status, _, _ = submit(households[0].kk, submission_body(households[0]), key="recount-correction")
    assert status in (200, 201)
    drain_stream()  # the counters move from the table's stream (docs/decisions/0019)


def test_recount_agrees_with_the_counters_after_submissions(
    local_store: str, submit: Invoke, households: list[RegisterHousehold]
) -> None:
    _submit_some(submit, households, 7)
    result = recount_table()
    assert result.drift == {} and result.total_drift == 0
    totals = {name: sum(row[name] for row in result.recounted.values()) for name in store.PROGRESS_FIELDS}
    assert totals["households"] == 40
    assert totals["responded_online"] == 7
    assert totals["clean"] + totals["needs_review"] == 7
    assert totals["pending"] == 33
    assert result.households == 40
    assert result.responded == 7 and result.receipts == 7


def test_a_tampered_counter_is_drift_and_fix_rewrites_it(
    local_store: str,
    dynamodb_local: Any,
    local_table: tuple[Any, str],
    submit: Invoke,
    households: list[RegisterHousehold],
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, table = local_table
    _submit_some(submit, households, 3)
    sls = households[5].sls_code
    pk, sk = progress_key(sls)
    client.update_item(
        TableName=table,
        Key={"pk": {"S": pk}, "sk": {"S": sk}},
        UpdateExpression="ADD clean :two, pending :minus",
        ExpressionAttributeValues={":two": {"N": "2"}, ":minus": {"N": "-1"}},
    )
    target = ["--endpoint-url", dynamodb_local.endpoint_url, "--table", table]
    assert cli.main(["recount", *target]) == 1
    out = capsys.readouterr().out
    assert "counter drift: 3" in out
    assert f"  {sls}: clean +2, pending -1" in out

    # An area that does not hold the SLS: no drift there.
    assert cli.main(["recount", "--area", "1672", *target]) == 0
    assert "0 households in 0 SLS recounted; counter drift: 0" in capsys.readouterr().out
    assert cli.main(["recount", "--area", sls[:7], *target]) == 1
    assert f"  {sls}: clean +2, pending -1" in capsys.readouterr().out

    assert cli.main(["recount", "--fix", *target]) == 0
    out = capsys.readouterr().out
    assert f"  {sls}: clean +2, pending -1 (fixed)" in out
    assert "fixed 1 SLS counters" in out
    assert cli.main(["recount", *target]) == 0
    assert "counter drift: 0" in capsys.readouterr().out


def test_a_bad_area_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["recount", "--area", "99x", "--endpoint-url", "http://127.0.0.1:1"]) == 2
    assert "--area 99x" in capsys.readouterr().err
