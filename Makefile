# The two commands: `make run` and `make test` (README.md). Both create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench venv

# `make run` needs only the demo's pins (requirements.txt); `make test` and `make bench` add the test tools on top
# (requirements-dev.txt), so the demo's .venv stays without pytest, Playwright, schemathesis and the rest.
$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed-dev

# `make test`: the import contracts, ruff (lint and format), mypy (pyproject.toml), the whole suite on SQLite, then the suite again on a throwaway PostgreSQL
# cluster (tests/infra/pgrun.py). REQUIRE_SERVICES=1 turns a missing service (PostgreSQL, Redis, ...) into a failure.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
PG_PYTEST_ARGS ?= --ignore=tests/browser

test: $(VENV)/.installed-dev
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
	$(BIN)/python -m tests.infra.pgrun $(BIN)/pytest -q -n $(PYTEST_WORKERS) $(PG_PYTEST_ARGS) $(PYTEST_ARGS)

# `make bench`: every benchmark in bench/, one after the other (bench/results.py; bench/capacity.py alone takes ~8 min), then
# bench/RESULTS.md with the machine, the figures and the ratios. `make bench QUICK=1`: a smoke run with small sizes
# (writes .bench-cache/RESULTS-quick.md). The django-helpdesk peer is installed into .bench-cache/ on first use.
QUICK ?=
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/results.py $(if $(QUICK),--quick)

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo_workflows
	$(BIN)/python manage.py load_demo_data --demo
	$(BIN)/python manage.py runserver_with_worker --host $(HOST) --port $(PORT)
