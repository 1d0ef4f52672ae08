# Quickstart: `make demo` runs the whole product on this machine, `make test` checks it.
# Both bootstrap a virtual environment in .venv on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTERNAL_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: demo test lint typecheck pytest test-external bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/tripcast demo

test: lint typecheck pytest

lint: $(BIN)/.installed
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
