"""`census capacity`: each operation measured on DynamoDB Local, with the invariants the
docs quote (one GetItem for a lookup, nothing written by a replay)."""

from __future__ import annotations

import pytest

from census_ops.capacity import measure_operations

pytestmark = pytest.mark.dynamodb_local


def test_capacity_per_operation() -> None:
    measured = {label: meter for label, _, meter in measure_operations(households=120)}
    lookup = measured["status lookup by receipt"]
    assert lookup.operations == ["GetItem"] and 0 < lookup.read_units <= 1
    replay = measured["duplicate retry (same key), 5 members"]
    assert replay.write_units == 0
    first = measured["submission, 5 member(s)"]
    assert first.write_units > measured["correction, 5 members"].write_units > 0, "the first also leaves the index"
    page = measured["worklist page of 50"]
    # Live status by one range Query of the needs_visit index, not a BatchGetItem of 50 METAs.
    assert page.operations == ["GetItem", "Query", "Query"]
    assert page.bill().read_units <= 6, "the rules' figure (issue 25)"
    assert measured["visit (not home)"].write_units > 0
