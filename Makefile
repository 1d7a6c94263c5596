# gateway-conformance: the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REPORT_DIR ?= reports/latest

.PHONY: install demo test test-slow lint bench browser clean interop

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/conformance run --report-dir $(REPORT_DIR)
	@echo "HTML report: $(REPORT_DIR)/report.html"

# Headless Chromium for the browser tests; they skip (with the reason) when it cannot be had.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
	  || echo "chromium could not be installed: browser tests will be skipped"; }

# Lint first: a lint or type error fails the build before any test runs.
test: lint browser
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

# Tests that wait as long as a real provider would (seconds per image, paced streams).
test-slow: install
	$(BIN)/python -m pytest -n 2 -q -m slow

lint: install
	$(BIN)/ruff check conformance tests benchmarks interop
	$(BIN)/ruff format --check conformance tests benchmarks interop
	$(BIN)/mypy --strict conformance interop

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) reports/latest build *.egg-info

# Real third-party gateways end to end (heavy installs under .interop/; not part of `make test`).
# GATEWAYS="litellm" picks some; reports under reports/interop/<gateway>/. See docs/interop/.
interop: install
	$(BIN)/python -m interop $(GATEWAYS)
