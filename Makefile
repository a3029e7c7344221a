# 고향으로 ON: one command per habit. `make up` to run everything, `make test` to test it.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: superset system-deps up test install lock lint format typecheck db-start db-stop db-status demo materialize serve bench clean

# ---- install: a virtual environment from the committed lock file -----------------------------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: | $(BIN)/python
	$(BIN)/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/uv
	@echo "[make] installing the locked dependencies into $(VENV) (first time takes a minute or two)"
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	@touch $@

install: $(VENV)/.installed

# Debian packages the tests use: headless Chromium for dashboards, pdftoppm for report pages,
# HarfBuzz's subsetter (WeasyPrint embeds fonts 10x faster with it), a CJK font for screenshots.
SYSTEM_PACKAGES := chromium chromium-driver poppler-utils libharfbuzz-subset0 fonts-noto-cjk
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "[make] please install: sudo apt-get install $$missing"; exit 1; fi; \
	  echo "[make] installing Debian packages: $$missing"; \
	  apt-get install -y -q --no-install-recommends $$missing >/dev/null \
	    || (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing >/dev/null); \
	fi

lock: | $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock

# ---- run ------------------------------------------------------------------------------------
up: install
	$(BIN)/hometown up

db-start: install
	$(BIN)/hometown db start
db-stop: install
	$(BIN)/hometown db stop
db-status: install
	$(BIN)/hometown db status
demo: install
	$(BIN)/hometown demo
materialize: install
	$(BIN)/hometown materialize
serve: install
	$(BIN)/hometown serve
superset: install  # Superset in its own venv, bootstrapped from superset/, on 127.0.0.1:8088 (superset/README.md)
	superset/run.sh

# ---- check ----------------------------------------------------------------------------------
# tests run as root start PostgreSQL as the `pgserver` user: its temp folders must be traversable
TEST_TMP := $(CURDIR)/var/test-tmp
test: install system-deps
	$(BIN)/ruff check .
	@mkdir -p $(TEST_TMP) && chmod 755 $(CURDIR)/var $(TEST_TMP)
	$(BIN)/python -m pytest -q --basetemp=$(TEST_TMP)/run $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

# every benchmark, each against its baseline measured in the same run (about 20 minutes on two cores);
# one alone: .venv/bin/python benchmarks/<name>.py --help. reports.py needs the marts of `make up`.
BENCHMARKS := ingest activity_api ranking notifications recommend embedding evidence matching
bench: install
	@missed=""; for b in $(BENCHMARKS); do echo "== $$b"; $(BIN)/python -m benchmarks.$$b || missed="$$missed $$b"; done; \
	echo "== reports"; $(BIN)/python -m benchmarks.reports --month 2026-10 || missed="$$missed reports"; \
	if [ -n "$$missed" ]; then echo "missed a target or failed:$$missed"; exit 1; fi

clean:
	rm -rf $(VENV) var dbt/target dbt/logs
