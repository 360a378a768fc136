# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# `make quick` is the inner loop: lint, type checks and the tests that start no process (about a minute).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install browser demo test quick lint typecheck unit benchmarks clean

# The HTML report test renders in headless Chromium (Debian's package); install it when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[emulator,test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q

browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian chromium for the report rendering test"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: lint typecheck browser unit

# Markers given in tests/conftest.py; --no-processes fails a selected test that starts the emulator,
# airflow or Chromium, so a new test of that kind cannot slip into the quick set unmarked.
QUICK_TESTS := -m "not (conformance or slow or emulator or airflow_cli or browser or interpreter)" --no-processes

quick: lint typecheck
	$(BIN)/python -m pytest -q $(QUICK_TESTS)

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/import_cost.py
	$(BIN)/python benchmarks/upsert.py
	$(BIN)/python benchmarks/conversations.py
	$(BIN)/python benchmarks/annotations.py
	$(BIN)/python benchmarks/export.py
	$(BIN)/python benchmarks/leaderboard.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
