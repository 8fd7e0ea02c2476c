"""The API reference at /api/ in a real browser: the local API serves the site's mounts
(census_ops/site.py: Swagger UI from node_modules, docs/openapi.json) with the site's CSP, and
tests/browser/api_reference.js checks in Debian's Chromium that every operation of the
document is drawn with no CSP refusal. The screenshot lands in test-artifacts/browser/
(docs/img/api-reference.png is a copy of one)."""

from __future__ import annotations

import json
import os
import subprocess

from census_ops.local_api import LocalApi
from census_ops.openapi import DOCUMENT_PATH
from census_ops.site import site_mounts
from census_ops.template import REPO_ROOT
from tests.browser.harness import ARTIFACTS, require_browser

SCRIPT = REPO_ROOT / "tests" / "browser" / "api_reference.js"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def test_the_api_reference_renders_every_operation_under_the_sites_csp() -> None:
    require_browser()
    paths = json.loads(DOCUMENT_PATH.read_text())["paths"]
    operations = sum(1 for item in paths.values() for method in item if method in METHODS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "api-reference.png"
    with LocalApi([], port=0, static=site_mounts()) as api:  # no route: the page needs none to render
        config = {"base_url": api.url, "screenshot": str(screenshot), "operations": operations}
        run = subprocess.run(
            ["node", str(SCRIPT)],
            env={**os.environ, "CENSUS_BROWSER_CONFIG": json.dumps(config)},
            capture_output=True,
            text=True,
            timeout=300,
            cwd=REPO_ROOT,
        )
    assert run.returncode == 0 and run.stdout.rstrip().endswith("OK"), f"{run.stdout}\n{run.stderr}"
    print(next(line for line in run.stdout.splitlines() if line.startswith("FIGURES ")))
    assert screenshot.stat().st_size > 10_000
