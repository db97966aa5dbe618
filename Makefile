# The two commands: `make run` and `make test` (README.md). Both create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench venv

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# `make test`: the import contracts, the whole suite on SQLite, then the suite again on a throwaway PostgreSQL
# cluster (tests/infra/pgrun.py). REQUIRE_SERVICES=1 turns a missing service (PostgreSQL, Redis, ...) into a failure.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
PG_PYTEST_ARGS ?= --ignore=tests/browser

test: $(VENV)/.installed
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
	$(BIN)/python -m tests.infra.pgrun $(BIN)/pytest -q -n $(PYTEST_WORKERS) $(PG_PYTEST_ARGS) $(PYTEST_ARGS)

# `make bench`: every benchmark in bench/, one after the other (each prints its figures and ratios).
bench: $(VENV)/.installed
	for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo_workflows
	$(BIN)/python manage.py load_demo_data
	$(BIN)/python manage.py runserver_with_worker --host $(HOST) --port $(PORT)
