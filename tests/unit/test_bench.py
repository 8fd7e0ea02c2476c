"""The benchmarks' pure arithmetic: DynamoDB's size and unit rules, the cost model, the
import-time ledger, the charts. The figures themselves come from `make bench`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from census_ops.bench import coldstart, cost, household, svg, units
from census_ops.bench.operations import Essentials, explain
from census_ops.bench.overhead import other_code
from census_ops.bench.recorder import written_keys
from census_ops.bench.scaling import filler_items, filler_keys


def s(value: str) -> dict[str, str]:
    return {"S": value}


# ---------------------------------------------------------------- item sizes and units


def test_item_size_counts_names_and_values() -> None:
    assert units.item_size({"pk": s("HH#1"), "sk": s("META")}) == 2 + 4 + 2 + 4
    assert units.item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 significant digits -> 3 + 1
    assert units.item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 1 + 1 + 1 + 1
    assert units.item_size({"é": s("ü")}) == 2 + 2  # UTF-8 bytes, not characters
    assert units.item_size(None) == 0


def test_nested_values_carry_their_overhead() -> None:
    # a list: 3 bytes + 1 per element; a map: 3 bytes + 1 per entry + the entry names
    assert units.value_size({"L": [s("ab"), s("c")]}) == 3 + (1 + 2) + (1 + 1)
    assert units.value_size({"M": {"k": s("v")}}) == 3 + 1 + 1 + 1


def test_number_size_ignores_leading_and_trailing_zeros() -> None:
    assert units.value_size({"N": "0"}) == 2
    assert units.value_size({"N": "1000"}) == units.value_size({"N": "1"})
    assert units.value_size({"N": "-12.5"}) == units.value_size({"N": "125"})


@pytest.mark.parametrize(
    ("size", "transactional", "expected"),
    [
        (1, False, 1),
        (1024, False, 1),
        (1025, False, 2),
        (3072, False, 3),
        (1536, True, 4),
        (100, True, 2),
        (0, False, 0),
    ],
)
def test_write_units(size: int, transactional: bool, expected: float) -> None:
    assert units.write_units(size, transactional=transactional) == expected


@pytest.mark.parametrize(
    ("size", "consistent", "expected"),
    [(0, True, 1), (4096, True, 1), (4097, True, 2), (3072, False, 0.5), (8192, False, 1)],
)
def test_read_units(size: int, consistent: bool, expected: float) -> None:
    assert units.read_units(size, consistent=consistent) == expected


NEEDS_VISIT = units.Index("needs_visit", ("visit_area", "visit_order"), frozenset({"status"}))


def meta(**extra: str) -> dict[str, dict[str, str]]:
    return {
        "pk": s("HH#1"),
        "sk": s("META"),
        "status": s("pending"),
        "note": s("x" * 2000),
        **{k: s(v) for k, v in extra.items()},
    }


def test_index_entry_keeps_only_the_projection() -> None:
    entry = NEEDS_VISIT.entry(meta(visit_area="1671010001", visit_order="a#1"))
    assert entry is not None and set(entry) == {"pk", "sk", "status", "visit_area", "visit_order"}
    assert NEEDS_VISIT.entry(meta()) is None  # sparse: no index keys, no entry


def test_index_write_units_for_each_transition() -> None:
    inside, outside = meta(visit_area="v", visit_order="a"), meta()
    assert units.index_write_units(NEEDS_VISIT, outside, outside) == 0
    assert units.index_write_units(NEEDS_VISIT, outside, inside) == 1  # enters
    assert units.index_write_units(NEEDS_VISIT, inside, outside) == 1  # leaves
    assert units.index_write_units(NEEDS_VISIT, inside, meta(visit_area="v", visit_order="b")) == 2  # key moves
    assert units.index_write_units(NEEDS_VISIT, inside, {**inside, "status": s("clean")}) == 1  # projected change
    assert units.index_write_units(NEEDS_VISIT, inside, {**inside, "note": s("y")}) == 0  # not projected


def test_write_charges_include_the_index() -> None:
    key = {"pk": s("HH#1"), "sk": s("META")}
    charges = units.write_charges(
        "TransactWriteItems", key, meta(visit_area="v", visit_order="a"), meta(), [NEEDS_VISIT], transactional=True
    )
    assert [(c.target, c.write_units) for c in charges] == [("HH#/META", 6.0), ("HH#/META -> index needs_visit", 1.0)]


def test_item_labels_never_carry_the_identifier() -> None:
    assert units.item_label({"pk": s("HH#1671010101900001"), "sk": s("V#0000000001")}) == "HH#/V#"
    assert units.item_label({"pk": s("RECEIPT#ABC"), "sk": s("RECEIPT")}) == "RECEIPT#/RECEIPT"
    assert units.item_label({"pk": s("ASSIGN#1671010001"), "sk": s("16710100010001#1")}) == "ASSIGN#"


def test_minimum_units_reads_together_and_writes_each_once() -> None:
    assert units.minimum_units([1400], [300, 600]) == (1.0, 2.0)
    assert units.minimum_units([], [5000]) == (2.0, 0.0)
    assert units.minimum_units([], []) == (0.0, 0.0)


def test_explain_names_what_costs_more_than_the_minimum() -> None:
    bill = units.Bill(
        [
            units.Charge("GetItem", "LOCK#/LOCK", 0, read_units=1),
            units.Charge("Query", "HH#/META+HH#/REGISTER", 900, read_units=1),
            units.Charge("TransactWriteItems", "HH#/V#", 1400, write_units=4),
            units.Charge("TransactWriteItems", "RECEIPT#/RECEIPT", 190, write_units=2),
        ]
    )
    text = explain(bill, Essentials(writes=("HH#/V#",), reads=("HH#/META", "HH#/REGISTER")), 1, 2)
    assert text == "transaction x2 +2, W RECEIPT#/RECEIPT +2, R GetItem LOCK#/LOCK +1"


def test_written_keys_of_every_write_request() -> None:
    item = {"pk": s("A"), "sk": s("1")}
    key = {"pk": s("B"), "sk": s("2")}
    assert written_keys("PutItem", {"Item": item}) == [("A", "1")]
    assert written_keys("UpdateItem", {"Key": key}) == [("B", "2")]
    transaction = {
        "TransactItems": [{"Put": {"Item": item}}, {"Update": {"Key": key}}, {"ConditionCheck": {"Key": key}}]
    }
    assert written_keys("TransactWriteItems", transaction) == [("A", "1"), ("B", "2")]
    batch = {"RequestItems": {"t": [{"PutRequest": {"Item": item}}, {"DeleteRequest": {"Key": key}}]}}
    assert written_keys("BatchWriteItem", batch) == [("A", "1"), ("B", "2")]
    assert written_keys("GetItem", {"Key": key}) == []


# ---------------------------------------------------------------- the cost model


PRICES = {
    "prices": {
        name: {"value": value}
        for name, value in {
            "apigw_rest_per_million": 3.5,
            "apigw_http_per_million": 1.0,
            "lambda_request_per_million": 0.2,
            "lambda_arm_gb_second": 0.0000133334,
            "dynamodb_write_request_unit_per_million": 0.625,
            "dynamodb_read_request_unit_per_million": 0.125,
            "cloudwatch_logs_ingest_per_gb": 0.5,
            "xray_traces_recorded_per_million": 5.0,
            "cloudfront_https_request_per_million": 1.2,
            "cloudfront_data_out_per_gb": 0.12,
            "waf_request_per_million": 0.6,
        }.items()
    }
}


def test_lambda_duration_stretches_cpu_by_the_memory_share() -> None:
    # 512 MB buys 512/1769 of a vCPU: 10 ms of CPU take 34.55 ms, plus 20 ms waiting.
    assert cost.lambda_duration_ms(cpu_ms=10, wall_ms=30, memory_mb=512) == 55
    assert cost.lambda_duration_ms(cpu_ms=10, wall_ms=30, memory_mb=3008) == 30  # a whole vCPU or more
    assert cost.lambda_duration_ms(cpu_ms=10, wall_ms=5, memory_mb=1769) == 10  # never negative waiting


def test_cost_per_million_by_component() -> None:
    usage = cost.Usage(read_units=2, write_units=13, lambda_ms=100, memory_mb=512, log_bytes=1024**3 / 1_000_000)
    parts = cost.per_million(usage, PRICES, api="rest")
    assert parts["API Gateway"] == 3.5
    assert parts["DynamoDB writes"] == pytest.approx(8.125)
    assert parts["DynamoDB reads"] == pytest.approx(0.25)
    assert parts["Lambda"] == pytest.approx(0.2 + 0.5 * 0.1 * 1_000_000 * 0.0000133334, abs=1e-4)
    assert parts["CloudWatch Logs"] == pytest.approx(0.5)  # one GB logged per million
    assert parts["X-Ray"] == pytest.approx(0.25)
    assert "WAF" not in parts
    edge = cost.per_million(usage, PRICES, api="http", edge=True)
    assert edge["API Gateway"] == 1.0 and edge["WAF"] == 0.6 and edge["CloudFront"] > 1.2


def test_scenarios_put_the_design_as_built_first() -> None:
    built = cost.Usage(2, 13, 60, 512, 600)
    least = cost.Usage(1, 2, 60, 512, 600)
    found = cost.scenarios(built, least, PRICES)
    assert found[0].name.startswith("as built")
    assert found[0].total > found[1].total > found[3].total
    assert found[0].total == pytest.approx(sum(found[0].components.values()))


def test_a_household_is_priced_per_request_and_by_its_units() -> None:
    def request(label: str, min_read: float, min_write: float) -> dict[str, object]:
        return {"label": label, "min_read_units": min_read, "min_write_units": min_write}

    bill = {
        "rule_read_units": 11,
        "rule_write_units": 22,
        "min_read_units": 9,
        "min_write_units": 9,
        "requests": [
            request(household.SESSIONS, 2, 0),
            request(household.SESSIONS, 2, 1),  # the one that sets the password: the floor's
            *[request(household.DRAFT, 1, 1.5)] * 4,
            request(household.SUBMIT, 1, 2),
            request(household.PROOF, 1, 0),
            request(household.STATUS, 1, 0),
        ],
    }
    request = cost.Usage(0, 0, 60, 512, 600)
    priced = household.price_households(bill, request, PRICES)
    count = sum(household.RESIDENT_REQUESTS.values())
    assert priced["request_count"] == count == 9
    assert priced["dynamodb"] == pytest.approx(22 * 0.625 + 11 * 0.125)
    assert priced["dynamodb_minimum"] == pytest.approx(9 * 0.625 + 9 * 0.125)
    assert priced["dynamodb_ratio"] == pytest.approx(15.125 / 6.75, abs=0.01)
    # CloudFront + WAF are the same in front of either API; REST costs US$2.50 more a request.
    designs = priced["designs"]
    rest, http = designs["REST API behind CloudFront + WAF (as built)"], designs["HTTP API behind CloudFront + WAF"]
    assert rest - http == pytest.approx(count * 2.5, abs=0.02)
    assert priced["per_request_http_edge"] - priced["edge_share_per_request"] == pytest.approx(
        sum(cost.per_million(request, PRICES, api="http").values()) - 0.0, abs=1e-3
    )
    floor = designs["floor: HTTP API + CloudFront + WAF, 3 requests, minimum units"]
    assert priced["dynamodb_floor"] == pytest.approx(3 * 0.625 + 4 * 0.125)
    assert floor == pytest.approx(3 * priced["per_request_http_edge"] + priced["dynamodb_floor"], abs=0.01)
    assert floor < http
    # The flat-rate plan pays for itself above US$1,000 / (CloudFront + WAF per request).
    assert priced["flat_rate_break_even_requests_per_month"] == pytest.approx(
        1000 / priced["edge_share_per_request"] * 1e6, rel=1e-3
    )


def test_the_targets_table_says_met_or_names_the_floor() -> None:
    from census_ops.bench.runner import FLOORS, targets_summary

    def operation(label: str, write: float) -> dict[str, object]:
        return {
            "label": label,
            "rule_read_units": 2,
            "rule_write_units": write,
            "total_write_units": write + 1,
            "min_read_units": 1,
            "min_write_units": 1,
        }

    rows = targets_summary(
        {
            "capacity": {
                "operations": [
                    operation("submission, 5 members", 7),
                    operation("correction, 5 members", 4),
                    operation("other", 99),
                ]
            }
        }
    )
    by_target = {row[0]: row for row in rows}
    # The stream consumer's unit counts: 7 + 1 = 8 against 4, 4 + 1 = 5 against 5.
    assert by_target["submission, 5 members: W <= 4"][1:] == ("8", "NO", FLOORS["submission, 5 members"])
    assert by_target["correction, 5 members: W <= 5"][1:] == ("5", "yes", "minimum 1")
    assert not any(row[0].startswith("other") for row in rows)
    # Cold start: judged on the medians (a minimum swings with one lucky import boto3).
    seconds = {
        "import boto3": {"ratio_min": 1.0, "ratio_median": 1.0},
        "handler intake": {"ratio_min": 1.9, "ratio_median": 1.4},
        "handler status": {"ratio_min": 1.2, "ratio_median": 1.45},
    }
    (cold,) = targets_summary({"coldstart": {"runs": 9, "seconds": seconds}})
    assert cold[1:] == ("worst status 1.45x", "yes", "worst minimum 1.90x (9 runs)")
    seconds["handler status"]["ratio_median"] = 1.6
    assert targets_summary({"coldstart": {"runs": 9, "seconds": seconds}})[0][2] == "NO"


def test_the_price_file_names_a_source_for_every_price() -> None:
    prices = cost.load_prices()
    assert prices["retrieved"] and prices["region"]
    for name in PRICES["prices"]:
        entry = prices["prices"][name]
        assert entry["value"] > 0
        assert entry["source"].startswith("https://aws.amazon.com/"), name


# ---------------------------------------------------------------- cold start ledger

IMPORTTIME = """import time: self [us] | cumulative | imported package
import time:       100 |        100 |     botocore.utils
import time:      2000 |       2100 |   botocore
import time:       300 |        300 |     pydantic.main
import time:      1000 |       1300 |   pydantic
import time:       500 |        500 |     shared.storage
import time:       200 |       4100 | app
"""


def test_own_times_add_up_by_package_without_double_counting() -> None:
    found = coldstart.own_times(IMPORTTIME)
    assert found == {"botocore": 2.1, "pydantic": 1.3, "shared.storage": 0.5, "app": 0.2}
    assert sum(found.values()) == pytest.approx(4.1)  # the cumulative total of the top import


def test_what_stands_between_is_the_excess_over_the_baseline() -> None:
    handler = {"botocore": 30.0, "pydantic": 40.0, "shared.storage": 7.0, "tiny": 0.1}
    baseline = {"botocore": 29.5, "boto3": 5.0}
    assert coldstart.what_stands_between(handler, baseline) == [
        {"package": "pydantic", "ms": 40.0},
        {"package": "shared.storage", "ms": 7.0},
        {"package": "botocore", "ms": 0.5},
    ]


def test_summarize_gives_ratios_to_the_baseline() -> None:
    found = coldstart.summarize({"import boto3": [0.1, 0.2, 0.12], "handler": [0.15, 0.3, 0.18]})
    assert found["seconds"]["handler"]["ratio_min"] == pytest.approx(1.5)
    assert found["seconds"]["handler"]["ratio_median"] == pytest.approx(1.5)
    assert found["seconds"]["import boto3"]["ratio_median"] == 1.0


# ---------------------------------------------------------------- scaling, overhead helpers


def test_filler_households_are_distinct_and_in_valid_areas() -> None:
    from shared.areas import validate_area_code, village_of

    keys = [filler_keys(i) for i in (0, 99, 100, 99_899, 999_999)]
    assert len({kk for kk, _ in keys}) == len(keys)
    for kk, sls in keys:
        assert len(kk) == 16 and validate_area_code(sls) == sls
    assert village_of(keys[0][1]) == village_of(keys[1][1]) != village_of(keys[2][1])


def test_filler_items_keep_the_shape_and_change_only_keys() -> None:
    template = (
        {
            "pk": s("HH#x"),
            "sk": s("META"),
            "status": s("pending"),
            "sls_code": s("s"),
            "visit_area": s("v"),
            "visit_order": s("o"),
        },
        {"pk": s("HH#x"), "sk": s("REGISTER"), "sls_code": s("s"), "members": {"L": []}},
    )
    meta_item, register_item = filler_items([template], 100, 1)
    kk, sls = filler_keys(100)
    assert meta_item["pk"] == register_item["pk"] == s(f"HH#{kk}")
    assert meta_item["visit_order"] == s(f"{sls}#{kk}") and meta_item["visit_area"] == s(sls[:10])
    assert set(meta_item) == set(template[0]) and set(register_item) == set(template[1])
    assert template[0]["pk"] == s("HH#x")  # the template itself is untouched


def test_other_code_never_repeats_the_receipt() -> None:
    assert other_code("X123", 7) != "X123" and len(other_code("X123", 7)) == 4
    assert other_code("A123", 0) == "X000"


# ---------------------------------------------------------------- charts


def test_cost_chart_is_svg_with_every_design() -> None:
    drawn = svg.cost_chart([("as built", {"API": 3.5, "DB": 8.0}), ("leaner", {"API": 1.0, "DB": 1.2})], 5.0, "Cost")
    root = ET.fromstring(drawn)  # noqa: S314 - our own output
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "as built" in texts and "leaner" in texts and "$11.50" in texts and "target $5.00" in texts


def test_scaling_chart_is_svg_with_both_series() -> None:
    root = ET.fromstring(svg.scaling_chart([(10_000, 4.0, 700.0), (1_000_000, 4.0, 70_000.0)], "Reads"))  # noqa: S314
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "worklist generation (measured)" in texts and "70,000.0" in texts
    assert len(list(root.iter("{http://www.w3.org/2000/svg}polyline"))) == 2


def test_report_prints_every_section_present() -> None:
    from census_ops.bench.runner import report

    results = json.loads(json.dumps({"started": "now", "machine": "test"}))
    assert report(results).startswith("census benchmarks, now on test")


def test_write_budget_is_what_the_target_leaves_for_writes() -> None:
    scenario = cost.Scenario("x", {"API Gateway": 1.0, "DynamoDB writes": 8.0, "Lambda": 1.5})
    assert cost.write_budget(scenario, PRICES, target=5.0) == pytest.approx(2.5 / 0.625)
    assert cost.write_budget(cost.Scenario("y", {"API Gateway": 6.0}), PRICES, target=5.0) == 0


def test_cold_start_with_the_first_request_adds_both_halves() -> None:
    from census_ops.bench.runner import with_first_request

    results = {
        "coldstart": {
            "seconds": {
                "handler intake": {"min": 0.2, "median": 0.3},
                "import boto3": {"min": 0.1, "median": 0.2},
            }
        },
        "overhead": {
            "first_request_cpu_ms": {
                "handler": {"min_ms": 100.0, "median_ms": 100.0},
                "bare": {"min_ms": 100.0, "median_ms": 50.0},
            }
        },
    }
    assert with_first_request(results) == {"min": pytest.approx(1.5), "median": pytest.approx(400 / 250)}


def test_side_by_side_pairs_each_operation_with_the_baselines_figures() -> None:
    from census_ops.bench.baseline import side_by_side

    def op(label: str, read: float, write: float) -> dict[str, object]:
        return {
            "label": label,
            "rule_read_units": read,
            "rule_write_units": write,
            "min_read_units": 1.0,
            "min_write_units": 2.0,
            "read_units": read,
            "write_units": write,
        }

    new = [op("submission, 5 members", 2, 11), op("worklist generation, city of 301 households", 11, 597)]
    old = [op("submission, 5 members", 2, 13), op("worklist generation, city of 300 households", 8.5, 597)]
    rows = side_by_side(new, [*old, op("gone", 1, 1)])
    assert [(r["before_write"], r["write"], r["min_write"]) for r in rows] == [(13, 11, 2.0), (597, 597, 2.0)]
    assert rows[1]["before_read"] == 8.5, "a generation is matched on its first words"
    assert side_by_side([op("new operation", 1, 1)], old)[0]["before_read"] is None
