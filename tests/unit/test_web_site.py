"""The resident web page without a browser: what it weighs, that it runs under its CSP, that
its texts exist, that its input rules are the server's own (web/js/rules.js run by node
against shared/nik.py, shared/areas.py, shared/receipts.py), how the local service serves
it, and how the template deploys it. tests/browser/ drives it in Chromium."""

from __future__ import annotations

import gzip
import json
import random
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from census_ops.local_api import LocalApi
from census_ops.template import REPO_ROOT, ApiRoute, load_template
from shared.areas import validate_area_code
from shared.nik import InvalidIdentifier, check_nik_against, make_kk, make_nik, parse_kk, parse_nik
from shared.receipts import new_receipt_code, normalize_receipt_code
from shared.responses import MAX_MEMBERS
from tests.unit.test_web_messages import load_catalogue

WEB = REPO_ROOT / "web"
# What a phone downloads on the first visit, compressed as CloudFront (and `census serve`)
# send it: the resident page and the officers' app each.
FIRST_LOAD_LIMIT = 46 * 1024  # gzipped; the console texts live in console/messages.js, loaded by the console only


class _Page(HTMLParser):
    """What index.html loads, and anything that a strict CSP would block."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self._in_script = True
            if values.get("src"):
                self.assets.append(str(values["src"]))
        if tag == "link" and values.get("rel") == "stylesheet":
            self.assets.append(str(values["href"]))
        if tag == "style":
            self.inline.append("<style>")
        for name, _ in attrs:
            if name.startswith("on") or name == "style":
                self.inline.append(f"{tag} {name}=")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("inline <script>")


PAGES = ("index.html", "field/index.html")


def _page(name: str = "index.html") -> _Page:
    page = _Page()
    page.feed((WEB / name).read_text(encoding="utf-8"))
    return page


@pytest.mark.parametrize("name", PAGES)
def test_the_first_load_is_under_40_kb_compressed(name: str) -> None:
    """Everything the page loads, gzip-compressed as CloudFront sends it (the service worker of the
    officers' app fetches the same files again, into its cache)."""
    page = _page(name)
    assert page.assets, f"{name} loads no stylesheet or script?"
    files = [WEB / name]
    for asset in page.assets:
        assert not re.match(r"^(https?:)?//", asset), f"{asset}: the page loads nothing from another origin"
        files.append((WEB / name).parent / asset)
    raw = {f.resolve().relative_to(WEB).as_posix(): f.stat().st_size for f in files}
    compressed = {f.resolve().relative_to(WEB).as_posix(): len(gzip.compress(f.read_bytes(), 6)) for f in files}
    total = sum(compressed.values())
    print(f"{name} first load: {total} bytes gzipped, {sum(raw.values())} raw {compressed}")
    assert total < FIRST_LOAD_LIMIT, compressed


def test_the_page_runs_under_a_strict_csp_and_never_writes_html() -> None:
    """No inline script, style or handler (the CSP has no 'unsafe-inline'); the scripts build the
    DOM with createElement/textContent only, so no typed name or server text becomes markup."""
    assert all(_page(name).inline == [] for name in PAGES)
    for script in WEB.rglob("*.js"):
        source = script.read_text(encoding="utf-8")
        for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert risky not in source, f"{script.name} uses {risky}"


APPS = {"js/app.js": "the resident page", "field/field.js": "the officers' app"}


def _scripts() -> dict[str, str]:
    return {path.relative_to(WEB).as_posix(): path.read_text(encoding="utf-8") for path in sorted(WEB.rglob("*.js"))}


def test_every_text_the_scripts_ask_for_exists_in_both_languages() -> None:
    catalogue = load_catalogue()
    scripts = _scripts()
    keys: set[str] = set()
    console_keys: set[str] = set()  # the console's t() reads the catalogue's `console` section
    for name, source in scripts.items():
        asked = {key for key in re.findall(r"\bt\(\"([a-z_.]+)\"", source) if not key.endswith(".")}
        if name.startswith("console/"):
            console_keys |= asked
        else:
            keys |= asked
    for app in APPS:
        views = re.search(r"const VIEWS = \{(.*?)\};", scripts[app], re.S)
        assert views, f"{app} names its views in `const VIEWS = {{...}};`"
        keys |= {f"view.{name}" for name in re.findall(r"(\w+):", views.group(1))}  # t("view." + S.view)
    fields = re.search(r"const FIELDS = \[(.*?)\];", scripts["js/household-form.js"], re.S)
    assert fields, "household-form.js lists the member's fields in `const FIELDS = [...];`"
    names = {*re.findall(r"\"(\w+)\"", fields.group(1)), "presence"} - {"nik"}
    keys |= {f"field.{name}" for name in names}  # fieldLabel(name)
    assert len(keys) > 50
    for language in ("id", "en"):
        missing = keys - set(catalogue[language]["ui"])
        assert not missing, (language, missing)
        missing = console_keys - set(catalogue[language]["console"])
        assert not missing, (language, "console", missing)
    # The codes the pages themselves produce (their copies of the server's checks, and their own).
    rules = scripts["js/rules.js"]
    codes = set(re.findall(r"return \"([a-z_]+)\"", rules)) | set(re.findall(r"code: \"([a-z_]+)\"", rules))
    own = r"\"(missing_field|missing_current_area_code|invalid_area_code|[a-z]+_mismatch|network_error|auth_[a-z_]+)\""
    for source in scripts.values():
        codes |= set(re.findall(own, source))
    assert {
        "invalid_nik",
        "nik_sex_mismatch",
        "future_date",
        "password_mismatch",
        "network_error",
        "auth_failed",
    } <= codes
    for language in ("id", "en"):
        assert not codes - set(catalogue[language]["errors"]), (language, codes - set(catalogue[language]["errors"]))


# ------------------------------------------------------------------ the rules, twice


def _python_code(check: Any) -> str | None:
    try:
        check()
    except InvalidIdentifier as exc:
        return exc.code
    return None


def _mutations(value: str, rng: random.Random, count: int) -> list[str]:
    out = [value, value[:-1], value + "1", value[:6] + "000000" + value[12:], value[:12] + "0000", "x" + value[1:]]
    for _ in range(count):
        digits = list(value)
        digits[rng.randrange(len(digits))] = str(rng.randrange(10))
        out.append("".join(digits))
    return out


def _cases() -> dict[str, list[Any]]:
    rng = random.Random(17)
    niks, kks, areas, receipts = [], [], [], []
    for _ in range(60):
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(35_000))
        sex = rng.choice(["male", "female"])
        region = rng.choice(["167101", "317404", "110105", "947101", "190000", "990101", "160001"])
        try:
            nik = make_nik(region, sex, born, rng.randint(1, 9999))
        except ValueError:  # an impossible region: typed by hand instead
            nik = region + born.strftime("%d%m%y") + "0001"
        for candidate in _mutations(nik, rng, 6):
            other_day = born + timedelta(days=rng.choice([0, 0, 1, 365, 36525]))
            niks.append([candidate, rng.choice([sex, "male", "female"]), other_day.isoformat()])
        try:
            kk = make_kk(region, born, rng.randint(1, 9999))
        except ValueError:
            kk = region + born.strftime("%d%m%y") + "0001"
        kks.extend(_mutations(kk, rng, 4))
    for code in ["16", "1671", "1671010", "1671010001", "16710100010001", "1671010001000100", "1671010001000101"]:
        areas.extend([*_mutations(code, rng, 3), "99" + code[2:], code[:3], code + "00"])
    for _ in range(40):
        code = new_receipt_code()
        receipts.extend([code, code.lower(), "-".join([code[:4], code[4:8], code[8:12], code[12:]])])
        receipts.extend([*_mutations(code, rng, 2), code.replace("1", "I").replace("0", "O"), code[::-1], code + "U"])
    return {"niks": niks, "kks": kks, "areas": areas, "receipts": receipts}


def test_the_pages_checks_agree_with_the_servers() -> None:
    """Same verdict and code for the same input: NIK against sex and birth date, KK, area code,
    receipt code. The page only says earlier what the server would say."""
    node = shutil.which("node")
    assert node, "node is needed (make install installs DynamoDB Local with npm)"
    cases = _cases()
    script = """
const R = require(process.argv[1]);
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify({
  niks: cases.niks.map(([nik, sex, born]) => R.checkNikAgainst(nik, sex, born)),
  kks: cases.kks.map((kk) => R.checkKk(kk)),
  areas: cases.areas.map((code) => R.checkAreaCode(code)),
  receipts: cases.receipts.map((code) => R.normalizeReceiptCode(code)),
  max_members: R.MAX_MEMBERS,
}));
"""
    run = subprocess.run(
        [node, "-e", script, str(WEB / "js" / "rules.js")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    js = json.loads(run.stdout)
    assert js["max_members"] == MAX_MEMBERS, "the page caps a household's members where the server does"
    expected_niks = [
        _python_code(lambda n=nik, s=sex, b=born: check_nik_against(n, sex=s, birth_date=date.fromisoformat(b)))
        for nik, sex, born in cases["niks"]
    ]
    assert js["niks"] == expected_niks
    assert {None, "invalid_nik", "nik_sex_mismatch", "nik_birth_date_mismatch"} <= set(expected_niks)
    assert js["kks"] == [_python_code(lambda k=kk: parse_kk(k)) for kk in cases["kks"]]
    assert js["areas"] == [_python_code(lambda c=code: validate_area_code(c)) for code in cases["areas"]]

    def receipt(code: str) -> str | None:
        try:
            return normalize_receipt_code(code)
        except InvalidIdentifier:
            return None

    expected_receipts = [receipt(code) for code in cases["receipts"]]
    assert js["receipts"] == expected_receipts
    assert None in expected_receipts and any(expected_receipts)
    assert parse_nik("1671014508900003").sex == "female"  # the NIK rule these cases exercise


# ------------------------------------------------------------------ the local service serves it

ECHO = ApiRoute("EchoFunction", "GET", "/v1/echo", "functions/echo/", "app.handler")


def _echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps({"api": True})}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "web"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>t</title>")
    (root / "js" / "app.js").write_text("console.log(1)")
    (root / ".secret").write_text("no")
    (tmp_path / "outside.txt").write_text("no")
    api = LocalApi([ECHO], port=0, handler_loader=lambda route: _echo, site_dir=root)
    with api:
        yield api.url


def _get(url: str, method: str = "GET") -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_the_local_service_serves_the_page_beside_the_api(site: str) -> None:
    status, kind, body = _get(site + "/")
    assert (status, kind, body) == (200, "text/html; charset=utf-8", b"<!doctype html><title>t</title>")
    assert _get(site + "/js/app.js")[:2] == (200, "text/javascript; charset=utf-8")
    assert _get(site + "/v1/echo") == (200, "application/json", b'{"api": true}')
    with urllib.request.urlopen(site + "/", timeout=10) as answer:
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    ["/v1/nowhere", "/v1/index.html", "/missing.html", "/.secret", "/../outside.txt", "/%2e%2e/outside.txt", "/js/"],
)
def test_what_is_not_a_file_of_the_page_is_the_apis_json_404(site: str, path: str) -> None:
    status, kind, body = _get(site + path)
    assert (status, kind) == (404, "application/json")
    assert json.loads(body)["error"]["code"] == "route_not_found"


def test_the_page_is_read_only(site: str) -> None:
    status, _, body = _get(site + "/index.html", method="POST")
    assert status == 404 and json.loads(body)["error"]["code"] == "route_not_found"
    assert _get(site + "/index.html", method="HEAD")[:2] == (200, "text/html; charset=utf-8")


def test_without_a_site_folder_the_root_is_a_404(tmp_path: Path) -> None:
    with LocalApi([ECHO], port=0, handler_loader=lambda route: _echo) as api:
        assert _get(api.url + "/")[0] == 404


# ------------------------------------------------------------------ deployment


def test_the_template_serves_the_page_and_the_api_on_one_origin() -> None:
    resources = load_template()["Resources"]
    bucket = resources["SiteBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert origins["site"]["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert "CensusApi" in json.dumps(origins["api"]["DomainName"])
    assert origins["api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "site" and default["ViewerProtocolPolicy"] == "redirect-to-https"
    (api,) = config["CacheBehaviors"]
    assert api["PathPattern"] == "/v1/*" and api["TargetOriginId"] == "api"
    assert set(api["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    # AllViewerExceptHostHeader: Authorization, Idempotency-Key and If-Match reach the API.
    assert api["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    # Only this distribution reads the bucket.
    (reader,) = [
        s for s in resources["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert reader["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert reader["Action"] == "s3:GetObject"
    assert "SiteDistribution" in json.dumps(reader["Condition"])
    # The page's CSP is the one the local service sends, but for the staff hosted sign-in's
    # token endpoint (another origin in AWS; locally the stand-in is on the page's own).
    headers = resources["SiteSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    from census_ops.local_api import _SITE_HEADERS

    sign_in = " https://${StaffUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"
    deployed = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert sign_in in deployed
    assert deployed.replace(sign_in, "") == dict(_SITE_HEADERS)["Content-Security-Policy"]
