# LMS Admin: `make demo` runs the dashboard with sample data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-fast bench lint format

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	DEBUG=1 SANDBOX_ENABLED=1 LMS_ALLOW_LOOPBACK=1 $(BIN)/python manage.py demo

test: $(STAMP)
	bash scripts/test

# Everyday loop (about a minute and a half): no browser, no live server, no slow test.
# `make test` (what CI runs) is still the whole suite.
FAST := not browser and not live_server and not slow
test-fast: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile -q -m "$(FAST)"

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
