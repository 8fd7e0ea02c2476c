"""What the site serves beside the API, in one mapping: URL path -> file or folder on disk.

`census serve` serves this mapping as it stands (so an edit of web/ or a new docs/openapi.json
shows on the next reload), and `census site --out build/site` copies it into one folder, the
one that `aws s3 sync` uploads to the site bucket (docs/deploy.md): the two cannot drift.

A key ending in "/" mounts a folder under that prefix; any other key is one file at that
path. The longest matching prefix is tried first, and a file missing there falls through to
a shorter one, so an app kept outside web/ can be mounted under its own prefix (`/field/`,
`/console/`) and still share `/js/rules.js` and `/js/messages.js` from the root.

- `/`: web/, the resident page (and web/api/, the API reference's page and its start script).
- `/api/openapi.json`: docs/openapi.json, the generated OpenAPI document.
- `/api/swagger-ui-bundle.js`, `/api/swagger-ui.css`: Swagger UI's standalone build, pinned in
  package.json (npm package swagger-ui-dist), the reference's viewer.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from census_ops.template import REPO_ROOT


def site_mounts(root: Path = REPO_ROOT) -> dict[str, Path]:
    """The site's URL paths and where their files are."""
    swagger = root / "node_modules" / "swagger-ui-dist"
    return {
        "/": root / "web",
        "/api/openapi.json": root / "docs" / "openapi.json",
        "/api/swagger-ui-bundle.js": swagger / "swagger-ui-bundle.js",
        "/api/swagger-ui.css": swagger / "swagger-ui.css",
    }


def check_mounts(mounts: Mapping[str, Path]) -> dict[str, Path]:
    """The mapping with resolved paths; refuses a key that is not an absolute URL path or a
    source that is missing or of the wrong kind (a folder for a "/" key, a file otherwise)."""
    checked: dict[str, Path] = {}
    for prefix, source in mounts.items():
        if not prefix.startswith("/") or "//" in prefix or any(p in (".", "..") for p in prefix.split("/")):
            raise ValueError(f"site path {prefix!r} must be an absolute URL path")
        folder = prefix.endswith("/")
        resolved = source.resolve()
        if not (resolved.is_dir() if folder else resolved.is_file()):
            kind = "folder" if folder else "file"
            hint = " (run `make install`: it comes from npm)" if "node_modules" in source.parts else ""
            raise FileNotFoundError(f"{prefix} needs the {kind} {source}{hint}")
        checked[prefix] = resolved
    return checked


def assemble(out: Path, mounts: Mapping[str, Path] | None = None) -> list[Path]:
    """Copy the site into `out` (emptied first), shortest prefix first so that a longer one
    overrides it as it does when served; dotfiles are left out as the local server leaves
    them out. Returns the files written."""
    checked = check_mounts(site_mounts() if mounts is None else mounts)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written: list[Path] = []
    for prefix in sorted(checked, key=len):
        source, target = checked[prefix], out / prefix.lstrip("/")
        pairs = (
            [(f, target / f.relative_to(source)) for f in sorted(source.rglob("*")) if f.is_file()]
            if prefix.endswith("/")
            else [(source, target)]
        )
        for file, destination in pairs:
            if any(part.startswith(".") for part in destination.relative_to(out).parts):
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, destination)
            written.append(destination)
    return sorted(set(written))


def cmd_site(args: argparse.Namespace) -> int:
    out = Path(args.out)
    try:
        files = assemble(out)
    except FileNotFoundError as error:
        print(f"census site: {error}", file=sys.stderr)
        return 2
    size = sum(f.stat().st_size for f in files)
    print(f"{len(files)} files, {size:,} bytes in {out}/ (upload: docs/deploy.md, 'The site')", file=sys.stderr)
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    site = commands.add_parser("site", help="assemble the static site (web/ + the API reference) into one folder")
    site.add_argument("--out", default="build/site", help="the folder to write (emptied first)")
    site.set_defaults(func=cmd_site)
