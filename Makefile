# leadgate — the two commands a new user needs are `make run` and `make test`.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PG_URL ?= $(or $(LEADGATE_TEST_DATABASE_URL),postgresql://postgres@127.0.0.1:5432/leadgate)
TEST_DATA_DIR := $(CURDIR)/var/test

.PHONY: run test lint check-migrations test-sqlite test-postgres bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[bench]'
	@touch $@ $(VENV)/.installed

## run: install, migrate, create the demo source on first start and serve on http://127.0.0.1:8000
run: $(VENV)/.installed
	$(BIN)/leadgate serve

## test: lint, type-check, and the whole suite on SQLite and (when reachable) PostgreSQL
test: $(VENV)/.test-installed system-packages lint check-migrations test-sqlite test-postgres

# The Debian packages the suite drives as real clients (LibreOffice Calc), installed when missing.
.PHONY: system-packages
system-packages:
	bash tests/system-packages.sh

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

check-migrations: $(VENV)/.test-installed
	LEADGATE_DATA_DIR=$(TEST_DATA_DIR) $(BIN)/python -m django makemigrations --check --dry-run \
		--settings=leadgate.settings >/dev/null

test-sqlite: $(VENV)/.test-installed
	LEADGATE_DATA_DIR=$(TEST_DATA_DIR) LEADGATE_DATABASE_URL= $(BIN)/pytest

# PostgreSQL runs when a server answers; CI sets LEADGATE_REQUIRE_POSTGRES=1 so that it never silently skips.
test-postgres: $(VENV)/.test-installed
	@if $(BIN)/python tests/postgres_available.py "$(PG_URL)"; then \
		echo "== the suite again on PostgreSQL ($(PG_URL))"; \
		LEADGATE_DATA_DIR=$(TEST_DATA_DIR) LEADGATE_DATABASE_URL="$(PG_URL)" $(BIN)/pytest -p no:cacheprovider; \
	elif [ -n "$$LEADGATE_REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL at $(PG_URL) is not reachable and LEADGATE_REQUIRE_POSTGRES is set"; exit 1; \
	else \
		echo "== PostgreSQL at $(PG_URL) not reachable: PostgreSQL run skipped"; \
	fi

## bench: the benchmarks (rule engine, intake API, uploads and downloads, deliveries, on SQLite and PostgreSQL); results go to docs/benchmarks.md
# All run even when one misses a target; the exit status is 1 if any did.
bench: $(VENV)/.bench-installed
	@status=0; \
	$(BIN)/python -m bench || status=1; \
	$(BIN)/python -m bench api || status=1; \
	$(BIN)/python -m bench files || status=1; \
	$(BIN)/python -m bench delivery || status=1; \
	exit $$status

## docs: regenerate generated documentation
docs: $(VENV)/.installed
	$(BIN)/leadgate dispositions --markdown > docs/dispositions.md

clean:
	rm -rf $(VENV) var/test .pytest_cache .mypy_cache .ruff_cache
