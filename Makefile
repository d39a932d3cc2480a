# lead_ai — every entry point a user types. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST := $(PY) -m pytest
# pytest-xdist workers for `make test` (one per core; a file's tests stay on one worker, sharing its fixtures)
TEST_WORKERS ?= auto

# OpenMP busy-waiting on 2 cores turns a 0.1 s fit into 30 s (see README, "Threads").
export OMP_NUM_THREADS := 1
export POWERTOOLS_METRICS_NAMESPACE ?= LeadAI

.DEFAULT_GOAL := help
.PHONY: serve openapi browser help venv demo test check test-faults unit integration e2e lint format typecheck bench bench-accuracy bench-accuracy-validation bench-interval-shape bench-pooled-validation bench-sparse-daily bench-serving bench-fleet bench-retraining clean

help:
	@echo "make demo            set up, start the local AWS stand-in, ingest, train, print a 24 h forecast"
	@echo "make serve           the API on http://127.0.0.1:3000 (embedded local stack, API key printed; PORT=…)"
	@echo "make openapi         rewrite docs/openapi.json from lead_ai/api/openapi.py (after adding a route)"
	@echo "make test            set up, lint, then the whole test suite (unit, integration, e2e, faults, infrastructure)"
	@echo "make check           the inner loop (~1 min): ruff, mypy and the fast unit tests"
	@echo "make browser         install Debian's chromium when missing (the forecast page's browser test)"
	@echo "make test-faults     only the fault-injection, race and hostile-input tests"
	@echo "make unit | integration | e2e | test-infra"
	@echo "make lint            ruff + mypy"
	@echo "make bench           bench-accuracy + bench-serving (write benchmarks/results/*.json)"
	@echo "make bench-accuracy-validation  bike/taxi on the tuning split (benchmarks/results/accuracy_validation.json)"
	@echo "make bench-interval-shape  own models' 80 % interval per weekday/weekend hour, validation weeks (interval_shape_validation.json)"
	@echo "make bench-pooled-validation  the pooled model served to young series, tuning split (pooled_validation.json)"
	@echo "make bench-sparse-daily  daily totals of sparse series (thinned bike/taxi, synthetic): served sum vs the median candidate (sparse_daily_validation.json)"
	@echo "make bench-fleet      the daily fan-out on the local stack: planner reads, 200 series, throughput (fleet.json)"
	@echo "make bench-retraining  28 days of daily retraining of bike and taxi: what each promotion rule serves (retraining.json)"
	@echo "make build           sam build (needs python3.12; installs aws-sam-cli into .venv-tools)"
	@echo "make validate        cfn-lint, sam validate --lint, checkov"

$(STAMP): requirements-dev.txt layers/predict-deps/requirements.txt layers/train-deps/requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "lead_ai needs Python 3.11+ (set PYTHON=python3.12)")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lead-ai demo

# The API's contract (lead_ai/api/openapi.py) as docs/openapi.json; run it after adding a route's Operation.
openapi: $(STAMP)
	$(PY) -m lead_ai_dev.openapi_file docs/openapi.json

# Debian's chromium, for the forecast page's browser test (tests/e2e/test_dashboard_browser.py, driven by
# Playwright; Playwright's own browser download is not reachable here). Installed only when missing.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser test"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# Like `sam local start-api`, without Docker: Ctrl-C stops it (its data live in memory only).
PORT ?= 3000
serve: $(STAMP)
	$(VENV)/bin/lead-ai serve --port $(PORT)

# The whole gate: lint, then every test. pytest exits 5 when it collected no test: make treats that
# as the failure it is. The set-up runs side by side (the SAM/checkov venvs beside the project venv and
# its lint: ~2 min instead of ~3.5 on a fresh clone); the tests start once all of it is done.
test:
	@$(MAKE) --no-print-directory -j3 tools browser lint
	$(PYTEST) -n $(TEST_WORKERS) --dist loadfile

# The inner loop: lint and the unit tests that do not fit models (the slow ones carry @pytest.mark.slow),
# one worker per core as `make test` (on 2 cores: ~55 s in all instead of ~85 s).
check: $(STAMP) lint
	$(PYTEST) tests/unit -m "not slow" -q -n $(TEST_WORKERS) --dist loadfile

test-faults: $(STAMP)
	$(PYTEST) -m faults

unit: $(STAMP)
	$(PYTEST) tests/unit

integration: $(STAMP)
	$(PYTEST) tests/integration

e2e: $(STAMP) browser
	$(PYTEST) tests/e2e

lint: $(STAMP)
	$(VENV)/bin/ruff check lead_ai lead_ai_dev functions tests benchmarks layers
	$(VENV)/bin/ruff format --check lead_ai lead_ai_dev functions tests benchmarks layers
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy layers/predict-deps/trim_botocore.py
	@# Each function's module is called `app`: one mypy run per function, so they do not collide.
	for f in functions/*/app.py; do $(VENV)/bin/mypy $$f || exit 1; done
	$(VENV)/bin/mypy benchmarks
	@# The serving probes run as scripts (their own folder first on sys.path): check them as such too.
	MYPYPATH=benchmarks/serving/probes $(VENV)/bin/mypy --explicit-package-bases benchmarks/serving/probes
	$(VENV)/bin/mypy tests

format: $(STAMP)
	$(VENV)/bin/ruff format lead_ai lead_ai_dev functions tests benchmarks layers
	$(VENV)/bin/ruff check --fix lead_ai lead_ai_dev functions tests benchmarks layers

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: bench-accuracy bench-serving

# Real data sets are read from ../shared/data (see its PROVENANCE.md); nothing is copied here.
bench-accuracy: $(STAMP)
	$(PY) benchmarks/accuracy.py

# The bike/taxi tuning split (28 days before the test window): every bike/taxi choice is made on it.
bench-accuracy-validation: $(STAMP)
	$(PY) benchmarks/accuracy.py --validation --only bike --only taxi

# A team's own model's interval per hour of the week, 8 validation weeks: interval_shape_validation.json.
bench-interval-shape: $(STAMP)
	$(PY) benchmarks/interval_shape.py

bench-pooled-validation: $(STAMP)
	$(PY) benchmarks/pooled.py --only pool --validation --output benchmarks/results/pooled_validation.json

# Daily totals of sparse series (bike/taxi thinned to 2-10 leads a day, synthetic quiet-weekend series, the
# dense controls): the served sum of the hours beside the daily table's median (a candidate fix, not
# served), on validation windows: sparse_daily_validation.json (~2-5 min).
bench-sparse-daily: $(STAMP)
	$(PY) benchmarks/sparse_daily.py

bench-serving: $(STAMP) tools
	$(PY) -m benchmarks.serving

# The daily fan-out against the local stack (planner, queue, local poller, worker): benchmarks/results/fleet.json.
bench-fleet: $(STAMP)
	$(PY) benchmarks/fleet.py

# Which model a team is served as new days arrive, under each promotion rule: benchmarks/results/retraining.json.
bench-retraining: $(STAMP)
	$(PY) benchmarks/retraining.py

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info

include make/infra.mk
