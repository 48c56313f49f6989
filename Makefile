# LMS Admin: `make demo` runs the dashboard with sample data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-fast typecheck bench lint format lock

# Installs the exact versions (and hashes) of requirements-dev.lock, written from pyproject.toml
# by `make lock`; a fresh machine needs only Python and pip.
$(STAMP): requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(STAMP)

demo: $(STAMP)
	DEBUG=1 SANDBOX_ENABLED=1 LMS_ALLOW_LOOPBACK=1 $(BIN)/python manage.py demo

test: $(STAMP)
	bash scripts/test

# Everyday loop (under a minute): no browser, no live server, no slow test.
# `make test` (what CI runs) is still the whole suite.
FAST := not browser and not live_server and not slow
test-fast: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile -q -m "$(FAST)"

typecheck: $(STAMP)
	DEBUG=1 $(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# After changing dependencies in pyproject.toml: the production lock (requirements.lock, what
# deploy installs) and the development one (requirements-dev.lock, what this Makefile installs).
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet
lock: $(STAMP)
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev -o requirements-dev.lock
