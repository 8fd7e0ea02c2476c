"""The static site beside the API (census_ops/site.py): one mapping of URL path -> folder or
file, served by the local API and copied by `census site` into the folder that is uploaded."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from census_ops.cli import main
from census_ops.local_api import LocalApi
from census_ops.site import assemble, check_mounts, site_mounts
from census_ops.template import REPO_ROOT


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    web, field, lib = tmp_path / "web", tmp_path / "field", tmp_path / "lib"
    for folder in (web / "js", field, lib):
        folder.mkdir(parents=True)
    (web / "index.html").write_text("root")
    (web / "field").mkdir()
    (web / "field" / "index.html").write_text("shadowed")
    (web / "field" / "only-in-web.txt").write_text("from web")
    (web / "js" / "rules.js").write_text("rules")
    (web / ".hidden").write_text("no")
    (field / "index.html").write_text("field")
    (lib / "bundle.js").write_text("bundle")
    return {"/": web, "/field/": field, "/api/bundle.js": lib / "bundle.js"}


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["error"]["code"]


def test_each_prefix_serves_its_folder_and_a_missing_file_falls_through(tree: dict[str, Path]) -> None:
    with LocalApi([], port=0, static=tree) as api:
        assert _get(api.url + "/") == (200, "root")
        assert _get(api.url + "/field/") == (200, "field")
        assert _get(api.url + "/field/index.html") == (200, "field")
        assert _get(api.url + "/js/rules.js") == (200, "rules")
        assert _get(api.url + "/api/bundle.js") == (200, "bundle")
        # The longer prefix wins; a file it lacks falls through to the shorter one.
        assert _get(api.url + "/field/only-in-web.txt") == (200, "from web")
        assert _get(api.url + "/api/") == (404, "route_not_found")  # a file mount is that path only
        assert _get(api.url + "/api/bundle.js/x") == (404, "route_not_found")
        assert _get(api.url + "/.hidden") == (404, "route_not_found")
        assert _get(api.url + "/field/%2e%2e/web/index.html") == (404, "route_not_found")


def test_a_mount_must_exist_and_be_of_its_kind(tree: dict[str, Path]) -> None:
    with pytest.raises(FileNotFoundError, match="needs the folder"):
        check_mounts({"/x/": tree["/api/bundle.js"]})
    with pytest.raises(FileNotFoundError, match="needs the file"):
        check_mounts({"/x.js": tree["/"]})
    with pytest.raises(ValueError, match="absolute URL path"):
        check_mounts({"x/": tree["/"]})
    with pytest.raises(ValueError, match="absolute URL path"):
        check_mounts({"/a/../": tree["/"]})


def test_assemble_copies_what_is_served_and_nothing_else(tree: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "site"
    (out / "stale").mkdir(parents=True)
    files = assemble(out, tree)
    assert sorted(str(f.relative_to(out)) for f in files) == [
        "api/bundle.js",
        "field/index.html",
        "field/only-in-web.txt",
        "index.html",
        "js/rules.js",
    ]
    assert not (out / "stale").exists() and (out / "field" / "index.html").read_text() == "field"


def test_the_real_site_has_the_page_and_the_api_reference(tmp_path: Path) -> None:
    mounts = site_mounts()
    assert (REPO_ROOT / "node_modules" / "swagger-ui-dist").is_dir(), "needs node_modules/swagger-ui-dist: make install"
    assert main(["site", "--out", str(tmp_path / "site")]) == 0
    site = tmp_path / "site"
    for name in ("index.html", "js/app.js", "api/index.html", "api/reference.js", "api/swagger-ui-bundle.js"):
        assert (site / name).is_file(), name
    assert (site / "api" / "openapi.json").read_bytes() == mounts["/api/openapi.json"].read_bytes()
    # The reference's page loads only files that are beside it in the site.
    page = (site / "api" / "index.html").read_text()
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "reference.js"):
        assert f'"{asset}"' in page and (site / "api" / asset).is_file()
    assert '"openapi.json"' in (site / "api" / "reference.js").read_text()
