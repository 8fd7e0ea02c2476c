"""Cost per million submissions on AWS (issue item 6): pure arithmetic on the measured
figures (units per submission, handler time, bytes logged) and a dated price file that
names its sources (infra/prices-*.json), for the design as built and for the designs that
would meet the target."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from census_ops.template import REPO_ROOT

TARGET_PER_MILLION = 5.00
FULL_VCPU_MB = 1769  # Lambda gives a function one full vCPU at 1,769 MB, proportionally less below
XRAY_SAMPLED_SHARE = 0.05  # X-Ray's default rule: 1 request a second, then 5%


def latest_price_file(folder: Path = REPO_ROOT / "infra") -> Path:
    files = sorted(folder.glob("prices-*.json"))
    if not files:
        raise FileNotFoundError(f"no prices-*.json in {folder}")
    return files[-1]


def load_prices(path: Path | None = None) -> dict[str, Any]:
    data = json.loads((path or latest_price_file()).read_text(encoding="utf-8"))
    data["file"] = str((path or latest_price_file()).relative_to(REPO_ROOT))
    return dict(data)


def price(prices: dict[str, Any], name: str) -> float:
    return float(prices["prices"][name]["value"])


def lambda_duration_ms(cpu_ms: float, wall_ms: float, memory_mb: int) -> float:
    """A request's Lambda duration from this machine's figures: its CPU time stretched by the
    share of a vCPU the memory size buys, plus the time it waited on DynamoDB. Billed per 1 ms."""
    share = min(1.0, memory_mb / FULL_VCPU_MB)
    waiting = max(0.0, wall_ms - cpu_ms)
    return float(math.ceil(cpu_ms / share + waiting))


@dataclass(frozen=True)
class Usage:
    """What one submission uses."""

    read_units: float
    write_units: float
    lambda_ms: float
    memory_mb: int
    log_bytes: float
    response_bytes: float = 300.0


@dataclass
class Scenario:
    name: str
    components: dict[str, float] = field(default_factory=dict)  # US$ per million submissions

    @property
    def total(self) -> float:
        return sum(self.components.values())

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "components": self.components, "total": self.total}


def per_million(usage: Usage, prices: dict[str, Any], *, api: str = "rest", edge: bool = False) -> dict[str, float]:
    """US$ per million submissions, by component."""
    gb_seconds = usage.memory_mb / 1024 * usage.lambda_ms / 1000 * 1_000_000
    components = {
        "API Gateway": price(prices, "apigw_rest_per_million" if api == "rest" else "apigw_http_per_million"),
        "Lambda": price(prices, "lambda_request_per_million") + gb_seconds * price(prices, "lambda_arm_gb_second"),
        "DynamoDB writes": usage.write_units * price(prices, "dynamodb_write_request_unit_per_million"),
        "DynamoDB reads": usage.read_units * price(prices, "dynamodb_read_request_unit_per_million"),
        "CloudWatch Logs": usage.log_bytes * 1_000_000 / 1024**3 * price(prices, "cloudwatch_logs_ingest_per_gb"),
        "X-Ray": XRAY_SAMPLED_SHARE * price(prices, "xray_traces_recorded_per_million"),
    }
    if edge:
        components["CloudFront"] = price(prices, "cloudfront_https_request_per_million") + (
            usage.response_bytes * 1_000_000 / 1024**3 * price(prices, "cloudfront_data_out_per_gb")
        )
        components["WAF"] = price(prices, "waf_request_per_million")
    return {k: round(v, 4) for k, v in components.items()}


def scenarios(as_built: Usage, minimum: Usage, prices: dict[str, Any]) -> list[Scenario]:
    """The design as built, and the changes that would bring it under the target."""
    return [
        Scenario("as built: REST API", per_million(as_built, prices, api="rest")),
        Scenario("HTTP API instead of REST", per_million(as_built, prices, api="http")),
        Scenario("HTTP API behind CloudFront + WAF", per_million(as_built, prices, api="http", edge=True)),
        Scenario("HTTP API, minimum writes", per_million(minimum, prices, api="http")),
        Scenario("HTTP API + CloudFront + WAF, minimum writes", per_million(minimum, prices, api="http", edge=True)),
    ]


def write_budget(scenario: Scenario, prices: dict[str, Any], target: float = TARGET_PER_MILLION) -> float:
    """Write units per submission that would fit the target, everything else as in `scenario`."""
    others = scenario.total - scenario.components.get("DynamoDB writes", 0.0)
    return max(0.0, (target - others) / price(prices, "dynamodb_write_request_unit_per_million"))
