"""Today's design beside the new one, in the same run: the capacity section of an earlier
commit (by default the last one before docs/decisions/0012), measured by that commit's
own code against a DynamoDB Local of its own, with the same demo register, the same
operations and the same published rules.

Measured, not modelled: the old write path is not kept in `shared/` behind a switch (it
would ship in every Lambda and rot), and no column is computed from assumptions about
what the old code wrote. The commit is exported with `git archive` into a scratch folder
(sharing this checkout's node_modules and .tools for DynamoDB Local and Java) and its
`python -m census_ops.bench --only capacity` runs there with this interpreter: `python -m`
puts that folder first on sys.path, so its `shared/`, `functions/` and `census_ops/` are
the ones imported."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from census_ops.template import REPO_ROOT

# main when the store package landed (shared/store/, 2026-11-29): the design of issue 25's
# "today" figures (13 W for a 5-member first submission, 27 R for a worklist page).
BASELINE_REF = "22ac810"


def export_tree(ref: str, folder: Path) -> Path:
    """The files of commit `ref` in `folder`, with this checkout's node_modules and .tools."""
    archive = folder / "tree.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", ref], cwd=REPO_ROOT, stdout=out, check=True)  # noqa: S603, S607
    tree = folder / "tree"
    tree.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    archive.unlink()
    for shared in ("node_modules", ".tools"):
        if (REPO_ROOT / shared).exists():
            (tree / shared).symlink_to((REPO_ROOT / shared).resolve())
    return tree


def run_baseline(ref: str = BASELINE_REF, *, quick: bool = False) -> dict[str, Any]:
    """The capacity section of commit `ref`, as its own bench measured it."""
    with tempfile.TemporaryDirectory(prefix="census-baseline-") as scratch:
        tree = export_tree(ref, Path(scratch))
        out = Path(scratch) / "out"
        command = [sys.executable, "-m", "census_ops.bench", "--only", "capacity", "--out", str(out)]
        subprocess.run([*command, *(["--quick"] if quick else [])], cwd=tree, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
        measured = json.loads((out / "latest.json").read_text())
    return {"ref": ref, "operations": measured["capacity"]["operations"]}


def side_by_side(new: list[dict[str, Any]], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each operation measured now, with the baseline's figures for the same operation (same
    label; the generation's label names its household count, matched on its first words)."""

    def name(label: str) -> str:
        return label.split(",")[0] if label.startswith("worklist generation") else label

    before = {name(o["label"]): o for o in old}
    rows = []
    for o in new:
        b = before.get(name(o["label"]))
        rows.append(
            {
                "label": o["label"],
                "before_read": None if b is None else b["rule_read_units"],
                "before_write": None if b is None else b["rule_write_units"],
                # With the stream consumer's writes the operation causes (docs/decisions/0019).
                "read": o.get("total_read_units", o["rule_read_units"]),
                "write": o.get("total_write_units", o["rule_write_units"]),
                "min_read": o["min_read_units"],
                "min_write": o["min_write_units"],
                "local_read": o["read_units"],
                "local_write": o["write_units"],
            }
        )
    return rows
