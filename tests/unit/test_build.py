"""`make build` without Docker: the Lambda layer holds the pinned wheels for the template's
runtime and architecture, and every handler imports from what the build produces.

The arm64/Python 3.13 layer cannot be imported here (its msgspec and Pillow are
compiled for another CPU and Python), so, as the build itself does, the import is proved
on a twin layer built from the same pins and the same shared/ copy for this machine's
Python, in an interpreter that sees nothing but that layer and the function's folder.
Both layers are built once per session with pip (a few seconds with a warm cache).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from census_ops.build import (
    Target,
    check_layer,
    import_handlers,
    installed,
    lambda_functions,
    lambda_target,
    pinned_requirements,
)
from census_ops.template import REPO_ROOT, load_template


@pytest.fixture(scope="session")
def layers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """{"lambda": the deployable layer's python/, "host": its twin for this interpreter}."""
    from census_ops.build import build_layer

    out = tmp_path_factory.mktemp("build")
    jobs: dict[str, Target | None] = {"lambda": lambda_target(), "host": None}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(build_layer, out / name, target) for name, target in jobs.items()}
        yield {name: future.result() for name, future in futures.items()}
    shutil.rmtree(out, ignore_errors=True)


def test_the_target_is_the_templates_runtime_and_architecture() -> None:
    globals_ = load_template()["Globals"]["Function"]
    target = lambda_target()
    assert f"python{target.python_version}" == globals_["Runtime"]
    assert [target.architecture] == globals_["Architectures"]
    assert (target.abi, target.machine) == ("cp313", "aarch64")


def test_the_lambda_layer_is_deployable(layers: dict[str, Path]) -> None:
    assert check_layer(layers["lambda"], lambda_target()) == []


def test_compiled_dependencies_are_built_for_the_lambda(layers: dict[str, Path]) -> None:
    dists = installed(layers["lambda"])
    # Not vacuous: the layer does hold compiled wheels, and they are cp313 aarch64 ones.
    compiled = {name: tags for name, (_, tags) in dists.items() if not all(t.endswith("-none-any") for t in tags)}
    assert {"msgspec", "pillow"} <= set(compiled)
    for name, tags in compiled.items():
        assert any(t.startswith("cp313-cp313-") and t.endswith("_aarch64") for t in tags), (name, tags)


def test_every_pinned_dependency_is_in_the_layer_at_its_pin(layers: dict[str, Path]) -> None:
    dists = installed(layers["lambda"])
    for requirement in pinned_requirements():
        name, version = requirement.split("==")
        key = name.split("[")[0].lower().replace("_", "-").replace(".", "-")
        assert dists[key][0] == version, requirement


def test_the_layer_ships_shared_without_the_operations_cli(layers: dict[str, Path]) -> None:
    shipped = layers["lambda"] / "shared"
    expected = {p.name for p in (REPO_ROOT / "shared").glob("*.py")}
    assert {p.name for p in shipped.glob("*.py")} == expected
    assert not (shipped / "ops").exists()
    assert not (shipped.parent / "census_ops").exists()
    assert not list(shipped.rglob("__pycache__"))
    # The outputs' SQL ships with shared/analytics (the analytics function runs it on Athena);
    # DuckDB does not.
    sql = {str(p.relative_to(REPO_ROOT / "shared")) for p in (REPO_ROOT / "shared").rglob("*.sql")}
    assert sql and {str(p.relative_to(shipped)) for p in shipped.rglob("*.sql")} == sql
    assert not list(shipped.parent.glob("duckdb*"))


def test_both_layers_hold_the_same_versions(layers: dict[str, Path]) -> None:
    lambda_versions = {name: version for name, (version, _) in installed(layers["lambda"]).items()}
    host_versions = {name: version for name, (version, _) in installed(layers["host"]).items()}
    assert lambda_versions == host_versions


def test_every_handler_imports_from_the_artifact(layers: dict[str, Path]) -> None:
    functions = lambda_functions()
    template_functions = [
        n for n, r in load_template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    ]
    assert [f.name for f in functions] == template_functions and len(functions) >= 2
    results = import_handlers(layers["host"], functions)
    assert [(r.function.name, r.ok, r.detail) for r in results if not r.ok] == []
    assert len(results) == len(functions)


def test_the_import_check_fails_without_the_layer(tmp_path: Path) -> None:
    """An interpreter that sees only the function folder cannot import the handler: the check
    really isolates the artifact from this virtualenv."""
    (tmp_path / "python").mkdir()
    results = import_handlers(tmp_path / "python", lambda_functions()[:1])
    assert len(results) == 1 and not results[0].ok
    assert "ModuleNotFoundError" in results[0].detail


def test_the_layer_check_refuses_wheels_for_another_platform(layers: dict[str, Path]) -> None:
    problems = check_layer(layers["host"], lambda_target())
    assert any(p.startswith("msgspec: wheel") and "aarch64" in p for p in problems), problems


def test_the_layer_check_refuses_an_unpinned_distribution(layers: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "python"
    shutil.copytree(layers["lambda"], copy)
    info = copy / "surprise-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: surprise\nVersion: 1.0\n")
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nTag: py3-none-any\n")
    shutil.rmtree(copy / "shared")
    problems = check_layer(copy, lambda_target())
    assert any(p.startswith("surprise 1.0: not pinned") for p in problems)
    assert "shared/ is not in the layer" in problems


# ---------------------------------------------------------------- bytecode


def _tiny_layer(tmp_path: Path) -> Path:
    layer = tmp_path / "python"
    (layer / "pkg").mkdir(parents=True)
    (layer / "pkg" / "__init__.py").write_text("X = 1\n")
    return layer


def test_bytecode_is_compiled_unchecked_by_the_runtimes_own_python(tmp_path: Path) -> None:
    """The host Python pretends to be the target: the build finds it, compiles the layer with
    it, and the .pyc is the unchecked-hash kind, used even when the source's mtime changes."""
    import subprocess
    import sys

    from census_ops.build import compile_bytecode

    host = Target(f"{sys.version_info[0]}.{sys.version_info[1]}", "arm64")
    layer = _tiny_layer(tmp_path)
    found = compile_bytecode(layer, host)
    assert found.interpreter is not None and found.files == 1
    assert "NO BYTECODE" not in found.describe(host)
    pyc = layer / "pkg" / "__pycache__" / f"__init__.cpython-{host.python_version.replace('.', '')}.pyc"
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01  # hash-based, not checked against the source
    (layer / "pkg" / "__init__.py").write_text("X = 2\n")  # what Python would see if it looked at the source
    seen = subprocess.run(
        [sys.executable, "-S", "-c", "import pkg; print(pkg.X)"],
        env={"PYTHONPATH": str(layer), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert seen.stdout.strip() == "1"


def test_without_the_runtimes_python_the_build_ships_no_bytecode_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from census_ops import build

    monkeypatch.setattr(build, "PYENV_VERSIONS", tmp_path / "no-pyenv")
    monkeypatch.delenv(build.TARGET_PYTHON_VARIABLE, raising=False)
    absent = Target("3.99", "arm64")
    assert build.target_interpreter(absent) is None
    layer = _tiny_layer(tmp_path)
    found = build.compile_bytecode(layer, absent)
    assert (found.interpreter, found.files) == (None, 0)
    assert list(layer.rglob("*.pyc")) == []
    assert found.describe(absent).startswith("NO BYTECODE: no Python 3.99")


def test_a_candidate_of_another_version_is_not_taken_for_the_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CENSUS_TARGET_PYTHON (or a pyenv shim) is run and asked its version, never trusted by name."""
    import sys

    from census_ops import build

    monkeypatch.setattr(build, "PYENV_VERSIONS", tmp_path / "no-pyenv")
    monkeypatch.setenv(build.TARGET_PYTHON_VARIABLE, sys.executable)
    assert build.target_interpreter(Target("3.99", "arm64")) is None
    host = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert build.target_interpreter(Target(host, "arm64")) == sys.executable
