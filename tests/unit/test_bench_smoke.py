"""The benchmark runner's sections at tiny sizes on DynamoDB Local: they run, and the
invariants the docs quote hold (a status lookup is one GetItem of at most 1 read unit, a
replay writes nothing, the worklist's read units do not grow with the table)."""

from __future__ import annotations

import pytest

from census_ops.bench.harness import TABLE, harness
from census_ops.bench.operations import accounting_probes, measure_operations

pytestmark = pytest.mark.dynamodb_local


def test_capacity_section_and_its_invariants() -> None:
    with harness(130) as bench:  # two officers: a full page of 50 each
        probes = {p.label: p for p in accounting_probes(bench.raw_client(), TABLE)}
        found = {o.label: o for o in measure_operations(bench)}
    # Where DynamoDB Local agrees with the published rules, our size arithmetic must too.
    for label in ("PutItem, 3 KB item", "GetItem, eventually consistent, 3 KB", "TransactWriteItems, one 1.5 KB item"):
        assert probes[label].local_units == probes[label].rule_units, label
    lookup = found["status lookup by receipt"]
    assert lookup.requests == ["GetItem"] and 0 < lookup.read_units <= 1 and lookup.rule_read_units <= 1
    assert found["duplicate retry (same key), 5 members"].write_units == 0
    assert found["duplicate retry (same key), 5 members"].stream_records == 0  # nothing written, nothing streamed
    # The counter moves from the stream: the consumer's one UpdateItem, counted with the submission.
    five = found["submission, 5 members"]
    assert five.stream_records == 1 and five.stream_requests == ["UpdateItem"] and five.stream_rule_write_units > 0
    assert five.total_write_units == five.rule_write_units + five.stream_rule_write_units
    for operation in found.values():
        assert operation.status < 300, operation.label
        assert operation.min_write_units <= operation.rule_write_units, operation.label
        assert operation.min_read_units <= operation.rule_read_units, operation.label
    one, fifteen = found["submission, 1 member"], found["submission, 15 members"]
    assert fifteen.rule_write_units > one.rule_write_units  # the version item grows with the members


def test_scaling_section_reads_the_same_at_every_size() -> None:
    from census_ops.bench import scaling

    result = scaling.run((150, 600), budget_seconds=60, repeats=1)
    assert [r["households"] for r in result["sizes"]] == [150, 600]
    assert result["same_read_units"] and all(r["backlog"] == scaling.BACKLOG for r in result["sizes"])
