# Quickstart: `make demo` runs the whole product on this machine, `make test` checks it.
# Both bootstrap a virtual environment in .venv on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# uv installs the exact set recorded in uv.lock; `make lock` refreshes the lock.
UV_VERSION := 0.13.8
EXTERNAL_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: demo test lint typecheck pytest test-external bench lock clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

# --frozen: install what the lock says, never re-resolve; --inexact keeps uv itself.
$(BIN)/.installed: pyproject.toml uv.lock $(BIN)/uv
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --inexact --extra dev \
		--python $(BIN)/python --quiet
	touch $@

lock: $(BIN)/uv
	$(BIN)/uv lock --upgrade

demo: $(BIN)/.installed
	$(BIN)/tripcast demo

test: lint typecheck pytest

lint: $(BIN)/.installed
	$(BIN)/uv lock --check --quiet
	$(BIN)/ruff check tripcast tests
	$(BIN)/ruff format --check tripcast tests

typecheck: $(BIN)/.installed
	$(BIN)/mypy

pytest: $(BIN)/.installed
	$(BIN)/pytest

# The same suite against an external PostgreSQL server instead of the embedded one.
test-external: $(BIN)/.installed
	TRIPCAST_TEST_DATABASE_URL=$(EXTERNAL_TEST_DATABASE_URL) $(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/tripcast bench

clean:
	rm -rf $(VENV) .tripcast .pytest_cache .mypy_cache .ruff_cache
