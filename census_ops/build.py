"""Deployable artifacts without Docker (`make build`).

The Lambda layer is `build/layer/python/`: the project's pinned runtime dependencies as
wheels for the template's own runtime and architecture (pip's `--platform`,
`--python-version`, `--only-binary=:all:`: nothing is compiled here, so no container is
needed), plus `shared/` copied whole (the operations package `census_ops/` lives beside
it, never inside). Each function's code is its CodeUri folder as it stands
(`functions/<name>/`), which `sam deploy` zips itself.

A layer for arm64/Python 3.13 cannot be imported by this machine's interpreter (its
compiled wheels, msgspec and Pillow, are for another CPU and Python), so the build
proves two things separately:

1. `check_layer`: the Lambda layer holds every pinned dependency at its pinned version,
   each as a pure-Python wheel or one built for the template's Python and architecture,
   and nothing that is not pinned (infra/layer-constraints.txt pins the transitive ones).
2. `import_handlers`: a second layer, built the same way from the same pins and the same
   `shared/` copy but for this machine's Python, imports every function's handler in a
   fresh interpreter that sees only that layer and the function's folder (`python -S`:
   no site-packages), as Lambda would.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from census_ops.template import FUNCTION_TYPE, REPO_ROOT, load_template

CONSTRAINTS = REPO_ROOT / "infra" / "layer-constraints.txt"
# Lambda's limit is 250 MB unzipped for a function and all its layers together.
MAX_LAYER_BYTES = 200 * 1024 * 1024

# manylinux_2_28 wheels run on Lambda's Amazon Linux 2023 (glibc 2.34); Pillow ships no
# manylinux2014 wheel for Python 3.13 any more.
_PLATFORMS = {
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
}
_MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}


class BuildError(Exception):
    """The template or pyproject does not say what the build needs, in its own terms."""


@dataclass(frozen=True)
class Target:
    """What the layer's compiled wheels must run on."""

    python_version: str  # "3.13"
    architecture: str  # Lambda's name: "arm64" or "x86_64"

    @property
    def abi(self) -> str:
        return "cp" + self.python_version.replace(".", "")

    @property
    def machine(self) -> str:
        return _MACHINE[self.architecture]

    @property
    def platforms(self) -> tuple[str, ...]:
        return _PLATFORMS[self.architecture]


@dataclass(frozen=True)
class FunctionCode:
    """One function's deployable code: its CodeUri folder and the module Lambda imports."""

    name: str
    code_dir: Path
    module: str
    attribute: str


@dataclass(frozen=True)
class ImportResult:
    function: FunctionCode
    ok: bool
    detail: str


# ---------------------------------------------------------------- what the template asks for


def lambda_target(template: dict[str, Any] | None = None) -> Target:
    """The runtime and architecture every function and the layer declare (one of each)."""
    template = template if template is not None else load_template()
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    runtimes: set[str] = set()
    architectures: set[str] = set()
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == FUNCTION_TYPE:
            runtimes.add(str(properties.get("Runtime", globals_.get("Runtime"))))
            architectures.update(properties.get("Architectures", globals_.get("Architectures", ["x86_64"])))
        elif resource.get("Type") == "AWS::Serverless::LayerVersion":
            runtimes.update(properties.get("CompatibleRuntimes") or [])
            architectures.update(properties.get("CompatibleArchitectures") or [])
    if len(runtimes) != 1 or len(architectures) != 1:
        raise BuildError(f"one runtime and one architecture expected, found {sorted(runtimes)} {sorted(architectures)}")
    runtime, architecture = runtimes.pop(), architectures.pop()
    match = re.fullmatch(r"python(3\.\d+)", str(runtime))
    if not match or architecture not in _PLATFORMS:
        raise BuildError(f"cannot build for runtime {runtime!r} on {architecture!r}")
    return Target(match.group(1), architecture)


def lambda_functions(template: dict[str, Any] | None = None) -> list[FunctionCode]:
    """Every function with local code, as `sam deploy` packages it (CodeUri + Handler)."""
    template = template if template is not None else load_template()
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    found: list[FunctionCode] = []
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") != FUNCTION_TYPE:
            continue
        properties = resource.get("Properties") or {}
        code_uri = properties.get("CodeUri", globals_.get("CodeUri"))
        handler = properties.get("Handler", globals_.get("Handler"))
        if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
            raise BuildError(f"{name}: needs a local CodeUri folder and a Handler 'module.function'")
        module, attribute = handler.rsplit(".", 1)
        found.append(FunctionCode(name, (REPO_ROOT / code_uri).resolve(), module, attribute))
    return found


def pinned_requirements(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """The runtime dependencies, each required to be pinned exactly (`name==version`)."""
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    loose = [d for d in dependencies if not re.fullmatch(r"[A-Za-z0-9._-]+(\[[^\]]*\])?==[A-Za-z0-9.+!-]+", d)]
    if loose:
        raise BuildError(f"runtime dependencies must be pinned with ==: {loose}")
    return list(dependencies)


def _pins(lines: Iterable[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_normalise(name.split("[", 1)[0])] = version.strip()
    return pins


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------- building


def _copy_shared(python_dir: Path) -> None:
    source = REPO_ROOT / "shared"

    shutil.copytree(source, python_dir / "shared", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def build_layer(layer_dir: Path, target: Target | None, *, requirements: Sequence[str] | None = None) -> Path:
    """pip-install the pinned dependencies into `layer_dir/python` for `target` (None: this
    machine's Python), then copy shared/; returns the python/ folder."""
    python_dir = layer_dir.resolve() / "python"
    shutil.rmtree(layer_dir, ignore_errors=True)
    python_dir.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # Lambda's Python would not use this interpreter's .pyc files
        "--only-binary=:all:",
        "--target",
        str(python_dir),
        "--constraint",
        str(CONSTRAINTS),
        *(requirements if requirements is not None else pinned_requirements()),
    ]
    if target is not None:
        command += ["--implementation", "cp", "--python-version", target.python_version]
        for platform in target.platforms:
            command += ["--platform", platform]
    subprocess.run(command, check=True)  # noqa: S603 - fixed arguments, this interpreter's pip
    _copy_shared(python_dir)
    return python_dir


# ---------------------------------------------------------------- bytecode

# Lambda's /opt is read-only: without .pyc files in the layer, Python compiles every module it
# imports on every cold start (~0.46 s of CPU here for the intake handler, docs/performance.md).
# The .pyc must come from the runtime's own Python (its magic number is per minor version;
# any 3.13.x writes what every 3.13.x reads), and `unchecked-hash` ones are used without
# looking at the source's mtime (the zip's mtimes are not the build's).
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
TARGET_PYTHON_VARIABLE = "CENSUS_TARGET_PYTHON"


def _is_version(interpreter: str, version: str) -> bool:
    try:
        answer = subprocess.run(  # noqa: S603 - a candidate interpreter, a fixed statement
            [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return answer.returncode == 0 and answer.stdout.strip() == version


def target_interpreter(target: Target) -> str | None:
    """A Python of the runtime's minor version on this machine (CENSUS_TARGET_PYTHON, then
    python3.X on PATH, then pyenv's versions), checked by running it; None if there is none."""
    version = target.python_version
    candidates = [
        os.environ.get(TARGET_PYTHON_VARIABLE, ""),
        sys.executable if f"{sys.version_info[0]}.{sys.version_info[1]}" == version else "",
        shutil.which(f"python{version}") or "",
        *sorted(str(p) for p in PYENV_VERSIONS.glob(f"{version}.*/bin/python{version}")),
    ]
    return next((c for c in candidates if c and _is_version(c, version)), None)


@dataclass(frozen=True)
class Bytecode:
    interpreter: str | None
    files: int

    def describe(self, target: Target) -> str:
        if self.interpreter is None:
            return (
                f"NO BYTECODE: no Python {target.python_version} on this machine, so the layer ships no .pyc "
                f"(another Python's are ignored by Lambda's) and every cold start compiles every module it "
                f"imports (~3x the import time). Install Python {target.python_version} or set "
                f"{TARGET_PYTHON_VARIABLE}=/path/to/python{target.python_version} and build again."
            )
        return f"bytecode: {self.files} .pyc (unchecked-hash) by {self.interpreter}"


def compile_bytecode(python_dir: Path, target: Target, interpreter: str | None = None) -> Bytecode:
    """Compile the layer with the runtime's own Python, or compile nothing (and say why)."""
    interpreter = interpreter or target_interpreter(target)
    if interpreter is None:
        return Bytecode(None, 0)
    subprocess.run(  # noqa: S603 - the runtime's Python, its own compileall
        [interpreter, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(python_dir)],
        check=True,
    )
    tag = f".cpython-{target.python_version.replace('.', '')}.pyc"
    return Bytecode(interpreter, sum(1 for _ in python_dir.rglob(f"*{tag}")))


# ---------------------------------------------------------------- checking


def installed(python_dir: Path) -> dict[str, tuple[str, list[str]]]:
    """{normalised name: (version, wheel tags)} of every distribution in a layer."""
    found: dict[str, tuple[str, list[str]]] = {}
    for info in sorted(python_dir.glob("*.dist-info")):
        metadata = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
        name = re.search(r"^Name: (.+)$", metadata, re.MULTILINE)
        version = re.search(r"^Version: (.+)$", metadata, re.MULTILINE)
        wheel = (info / "WHEEL").read_text(encoding="utf-8") if (info / "WHEEL").exists() else ""
        tags = re.findall(r"^Tag: (.+)$", wheel, re.MULTILINE)
        if name and version:
            found[_normalise(name.group(1).strip())] = (version.group(1).strip(), tags)
    return found


def _tag_runs_on(tag: str, target: Target) -> bool:
    interpreter, abi, platform = tag.split("-")
    if platform == "any":
        return abi == "none" and interpreter.startswith(("py3", "py2.py3"))
    if not (platform.startswith("manylinux") and platform.endswith("_" + target.machine)):
        return False
    if abi == "abi3":  # stable ABI: built for some CPython 3.x at or below the target's
        minor = re.fullmatch(r"cp3(\d+)", interpreter)
        return minor is not None and int(minor.group(1)) <= int(target.python_version.split(".")[1])
    return interpreter == target.abi and abi == target.abi


def _size(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())


def check_layer(python_dir: Path, target: Target, requirements: Sequence[str] | None = None) -> list[str]:
    """Everything wrong with a built layer for `target`; empty when it is deployable."""
    problems: list[str] = []
    wanted = _pins(requirements if requirements is not None else pinned_requirements())
    constraints = _pins(CONSTRAINTS.read_text(encoding="utf-8").splitlines())
    dists = installed(python_dir)
    for name, version in wanted.items():
        if name not in dists:
            problems.append(f"{name}: pinned in pyproject.toml but not in the layer")
        elif dists[name][0] != version:
            problems.append(f"{name}: {dists[name][0]} in the layer, {version} pinned")
    for name, (version, tags) in dists.items():
        pinned = wanted.get(name) or constraints.get(name)
        if pinned is None:
            problems.append(f"{name} {version}: not pinned (add it to {CONSTRAINTS.relative_to(REPO_ROOT)})")
        elif pinned != version:
            problems.append(f"{name}: {version} in the layer, {pinned} pinned")
        if not tags:
            problems.append(f"{name}: no wheel tags (not installed from a wheel)")
        elif not any(_tag_runs_on(tag, target) for tag in tags):
            problems.append(f"{name}: wheel {', '.join(tags)} does not run on {target.abi} {target.machine}")
    if not (python_dir / "shared" / "__init__.py").is_file():
        problems.append("shared/ is not in the layer")
    if any((python_dir / name).exists() for name in ("census_ops", "shared/ops")):
        problems.append("census_ops (the operations CLI) must not be shipped")
    size = _size(python_dir)
    if size > MAX_LAYER_BYTES:
        problems.append(f"the layer is {size / 2**20:.0f} MiB unzipped, over {MAX_LAYER_BYTES / 2**20:.0f} MiB")
    return problems


_IMPORT_SCRIPT = """
import importlib, json, sys
module = importlib.import_module(sys.argv[1])
handler = getattr(module, sys.argv[2], None)
import shared
print(json.dumps({"module": module.__file__, "shared": shared.__file__, "callable": callable(handler),
                  "site_packages": [p for p in sys.path if "site-packages" in p]}))
"""


def function_environment(function: FunctionCode, template: dict[str, Any] | None = None) -> dict[str, str]:
    """The function's environment as the template declares it: parameters at their defaults,
    other references (resource names, ARNs) as placeholders."""
    template = template if template is not None else load_template()
    parameters = template.get("Parameters") or {}
    variables: dict[str, Any] = {}
    globals_env = ((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}
    variables.update(globals_env.get("Variables") or {})
    resource = template["Resources"][function.name]
    variables.update(((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {})
    resolved: dict[str, str] = {}
    for key, value in variables.items():
        if isinstance(value, dict) and set(value) == {"Ref"} and "Default" in parameters.get(value["Ref"], {}):
            value = parameters[value["Ref"]]["Default"]
        resolved[key] = str(value) if not isinstance(value, dict | list) else f"placeholder-{key.lower()}"
    return resolved


def import_handlers(python_dir: Path, functions: Sequence[FunctionCode] | None = None) -> list[ImportResult]:
    """Import each handler in a fresh interpreter that sees only the layer and its folder."""
    template = load_template()
    functions = functions if functions is not None else lambda_functions(template)
    results: list[ImportResult] = []
    with tempfile.TemporaryDirectory(prefix="census-import-") as empty:
        for function in functions:
            env = {
                **function_environment(function, template),
                "PYTHONPATH": os.pathsep.join([str(python_dir), str(function.code_dir)]),
                "PYTHONDONTWRITEBYTECODE": "1",
                "AWS_REGION": "ap-southeast-3",
                "AWS_DEFAULT_REGION": "ap-southeast-3",
                "AWS_LAMBDA_FUNCTION_NAME": function.name,
                "PATH": os.environ.get("PATH", ""),
            }
            answer = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
                [sys.executable, "-S", "-c", _IMPORT_SCRIPT, function.module, function.attribute],
                cwd=empty,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            results.append(_judge(function, python_dir, answer))
    return results


def _judge(function: FunctionCode, python_dir: Path, answer: subprocess.CompletedProcess[str]) -> ImportResult:
    if answer.returncode != 0:
        last = (answer.stderr.strip().splitlines() or ["no output"])[-1]
        return ImportResult(function, False, last)
    try:
        seen = json.loads(answer.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return ImportResult(function, False, f"unexpected output: {answer.stdout[-200:]!r}")
    module, shared = Path(seen["module"]).resolve(), Path(seen["shared"]).resolve()
    if not seen["callable"]:
        return ImportResult(function, False, f"{function.module}.{function.attribute} is not callable")
    if not module.is_relative_to(function.code_dir):
        return ImportResult(function, False, f"{function.module} came from {module}, not {function.code_dir}")
    if not shared.is_relative_to(python_dir.resolve()):
        return ImportResult(function, False, f"shared came from {shared}, not the layer")
    if seen["site_packages"]:
        return ImportResult(function, False, f"site-packages on the path: {seen['site_packages']}")
    return ImportResult(function, True, f"{function.module}.{function.attribute} from {function.code_dir.name}/")


# ---------------------------------------------------------------- command line


def build(out: Path, *, verify: bool = True) -> int:
    target = lambda_target()
    print(f"layer for python{target.python_version} {target.architecture}: {out / 'layer'}", file=sys.stderr)
    jobs = {"layer": target, "verify-layer": None} if verify else {"layer": target}
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        built = dict(zip(jobs, pool.map(lambda item: build_layer(out / item[0], item[1]), jobs.items()), strict=True))
    bytecode = compile_bytecode(built["layer"], target)
    banner = "!" * 100
    message = bytecode.describe(target)
    print(message if bytecode.interpreter else f"{banner}\n{message}\n{banner}", file=sys.stderr)
    problems = check_layer(built["layer"], target)
    for problem in problems:
        print(f"  layer: {problem}", file=sys.stderr)
    failed = bool(problems)
    if verify:
        for result in import_handlers(built["verify-layer"]):
            print(f"  {'ok  ' if result.ok else 'FAIL'} {result.function.name}: {result.detail}", file=sys.stderr)
            failed |= not result.ok
    if not failed:
        count = len(installed(built["layer"]))
        print(f"built: {count} distributions + shared/, {_size(built['layer']) / 2**20:.0f} MiB", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m census_ops.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "build"), help="output folder (default: build/)")
    parser.add_argument("--no-verify", action="store_true", help="skip the host-Python import check")
    args = parser.parse_args(argv)
    return build(Path(args.out).resolve(), verify=not args.no_verify)


if __name__ == "__main__":
    raise SystemExit(main())
