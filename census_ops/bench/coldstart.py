"""Cold start (issue item 4): a fresh Python process importing each handler module against
a fresh process running `import boto3` alone, interleaved, several runs each.

Faithful to Lambda: every process sees only a layer built from the pinned runtime
dependencies for this machine's Python (census_ops/build.py, as `make build` checks the
handlers) and the function's own folder, with `python -S` (no site-packages: nothing the
dev environment adds, e.g. cryptography, which PyJWT would import when present), in the
environment template.yaml gives the function. The time is taken inside the process around
the import; interpreter start-up is the same for both and is left out."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

# What the handlers import from other people's code, alone: the floor our own code sits on.
# (The handlers reach DynamoDB through PynamoDB and botocore: none imports boto3 itself.)
LIBRARIES = (
    "from pynamodb.models import Model; from pynamodb.connection import Connection;"
    " from pynamodb.transactions import TransactWrite; import msgspec.json;"
    " from aws_lambda_powertools import Logger, Metrics"
)
_PROBE = "import time; t = time.perf_counter(); {statement}; print(repr(time.perf_counter() - t))"


class Layer:
    """A same-pins layer for this machine's Python, built once per benchmark run."""

    def __init__(self, python_dir: Path) -> None:
        self.python_dir = python_dir

    @classmethod
    def build(cls, into: Path) -> Layer:
        from census_ops.build import build_layer

        return cls(build_layer(into / "layer", None))

    def environment(self, code_dir: Path | None, variables: dict[str, str]) -> dict[str, str]:
        path = [str(self.python_dir), *([str(code_dir)] if code_dir else [])]
        return {
            **variables,
            "PYTHONPATH": os.pathsep.join(path),
            "AWS_REGION": "ap-southeast-3",
            "AWS_DEFAULT_REGION": "ap-southeast-3",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "PATH": os.environ.get("PATH", ""),
        }


def targets(layer: Layer) -> dict[str, tuple[str, dict[str, str]]]:
    """name -> (statement, environment): boto3 alone, the libraries alone, each handler."""
    from census_ops.build import function_environment, lambda_functions

    bare = layer.environment(None, {})
    found: dict[str, tuple[str, dict[str, str]]] = {
        "import boto3": ("import boto3", bare),
        "libraries the handlers use": (LIBRARIES, bare),
    }
    for function in lambda_functions():
        variables = function_environment(function)
        found[f"handler {function.code_dir.name}"] = (
            f"import {function.module}",
            layer.environment(function.code_dir, variables),
        )
    return found


def _once(statement: str, env: dict[str, str], cwd: str) -> float:
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-S", "-c", _PROBE.format(statement=statement)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{statement!r} failed: {done.stderr.strip().splitlines()[-1:]}")
    return float(done.stdout.strip().splitlines()[-1])


def run(layer: Layer, runs: int = 15, progress: Callable[[], None] | None = None) -> dict[str, Any]:
    chosen = targets(layer)
    samples: dict[str, list[float]] = {name: [] for name in chosen}
    with tempfile.TemporaryDirectory(prefix="census-coldstart-") as empty:
        for statement, env in chosen.values():
            _once(statement, env, empty)  # writes the .pyc files once for every later run
        for _ in range(runs):
            for name, (statement, env) in chosen.items():  # interleaved: drift hits all alike
                samples[name].append(_once(statement, env, empty))
                if progress:
                    progress()
    return summarize(samples)


def summarize(samples: dict[str, list[float]], baseline: str = "import boto3") -> dict[str, Any]:
    """Minimum and median of each, and their ratios to the baseline's minimum and median."""
    base_min, base_median = min(samples[baseline]), statistics.median(samples[baseline])
    return {
        "runs": min(len(v) for v in samples.values()),
        "seconds": {
            name: {
                "min": min(values),
                "median": statistics.median(values),
                "ratio_min": min(values) / base_min,
                "ratio_median": statistics.median(values) / base_median,
            }
            for name, values in samples.items()
        },
    }


def package_of(module: str) -> str:
    """The bucket an imported module's own time is counted in: our modules one by one,
    Powertools by sub-package, everything else by top-level package."""
    parts = module.strip().split(".")
    if parts[0] in {"shared", "functions", "app"}:
        return ".".join(parts[:2])
    if parts[0] == "aws_lambda_powertools":
        return ".".join(parts[:3])
    return parts[0]


def own_times(importtime: str) -> dict[str, float]:
    """`python -X importtime` output -> ms of own (self) time per package_of() bucket:
    own times add up to the whole import without counting anything twice."""
    totals: dict[str, float] = {}
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        bucket = package_of(name)
        totals[bucket] = totals.get(bucket, 0.0) + int(own) / 1000
    return totals


def import_ledger(layer: Layer, name: str, runs: int = 5) -> dict[str, float]:
    """Own import time per package for one target, the minimum of `runs` (least disturbed)."""
    statement, env = targets(layer)[name]
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="census-importtime-") as empty:
        for _ in range(runs):
            done = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
                [sys.executable, "-S", "-X", "importtime", "-c", statement],
                cwd=empty,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            for bucket, ms in own_times(done.stderr).items():
                best[bucket] = min(best.get(bucket, ms), ms)
    return best


def what_stands_between(handler: dict[str, float], baseline: dict[str, float], top: int = 15) -> list[dict[str, Any]]:
    """Packages whose import time the handler pays beyond the baseline's, largest first."""
    extra = {k: v - baseline.get(k, 0.0) for k, v in handler.items()}
    ordered = sorted(((k, v) for k, v in extra.items() if v > 0.3), key=lambda kv: -kv[1])
    return [{"package": k, "ms": round(v, 1)} for k, v in ordered[:top]]


def without_bytecode(layer: Layer, names: tuple[str, ...], runs: int = 3) -> dict[str, Any]:
    """The same imports from a copy of the layer with no .pyc files and bytecode writing off:
    what a Lambda cold start pays when the layer ships none (/opt is read-only, so Python
    compiles every module it imports, every cold start)."""
    import shutil

    chosen = {name: targets(layer)[name] for name in names}
    with tempfile.TemporaryDirectory(prefix="census-nopyc-") as folder:
        copy = Path(folder) / "python"
        shutil.copytree(layer.python_dir, copy, ignore=shutil.ignore_patterns("__pycache__"))
        samples: dict[str, list[float]] = {name: [] for name in chosen}
        for _ in range(runs):
            for name, (statement, env) in chosen.items():
                moved = {
                    **env,
                    "PYTHONPATH": env["PYTHONPATH"].replace(str(layer.python_dir), str(copy)),
                    "PYTHONDONTWRITEBYTECODE": "1",
                }
                samples[name].append(_once(statement, moved, folder))
    return summarize(samples, baseline=names[0])
