# Maintainer tasks. Everything runs from the project's venv (.venv); `make install` creates it.
# CI (.ci/run) installs the same way, pinned by requirements.lock.

VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install lint fmt test test-fast lock hooks

install:  ## the venv, pinned by requirements.lock
	python3 -m venv $(VENV)
	$(BIN)/pip install -q -c requirements.lock -e '.[dev]'

lint:  ## what CI checks, plus formatting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt:  ## fix what ruff can fix, then format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test:  ## the whole suite (~13 min on 2 cores)
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-fast:  ## without the tests marked slow (daemon, dagster dev/webserver, GraphQL, backfills, browser, Spark, > ~20 s)
	$(BIN)/pytest -q -p no:cacheprovider -m "not slow" $(PYTEST_ARGS)

lock:  ## re-pin requirements.lock from the working venv (after changing dependencies in pyproject.toml)
	{ echo "# Pinned environment of CI and 'make install' (pip install -c requirements.lock -e '.[dev]')."; \
	  echo "# Generated from a working venv with 'make lock' (pip freeze --exclude-editable); do not edit by hand."; \
	  $(BIN)/pip freeze --exclude-editable; } > requirements.lock

hooks:  ## install the git pre-commit hooks (.pre-commit-config.yaml; they run from the venv)
	$(BIN)/pre-commit install
