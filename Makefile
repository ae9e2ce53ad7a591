PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint format bench serve screenshot clean
CHROMIUM := $(shell command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null)

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed: set PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,check]'
	@touch $(STAMP)

demo: $(STAMP)
	@rm -rf samples/.demo && mkdir -p samples/.demo
	$(BIN)/lsq-import run samples/loans.xlsx -m mappings/loan.yaml --sandbox --out samples/.demo/loans.results.xlsx --state-dir samples/.demo/state; \
	  code=$$?; [ $$code -le 1 ] || exit $$code
	@echo "Open samples/.demo/loans.results.xlsx to see every row's outcome (the invalid rows are there on purpose)."
	@echo "The page for ops: run 'make serve' (lsq-import serve --sandbox), then open http://127.0.0.1:8000/"

test: $(STAMP)
	@[ -n "$(CHROMIUM)" ] || echo "Browser tests of the page (lsq-import serve) are skipped: no Chromium found; apt-get install chromium to run them."
	$(BIN)/python -m pytest -q -n 3

check: $(STAMP)
	$(BIN)/ruff check importer tests benchmarks samples
	$(BIN)/ruff format --check importer tests benchmarks samples
	$(BIN)/mypy importer
	$(BIN)/lint-imports

lint: check

format: $(STAMP)
	$(BIN)/ruff format importer tests benchmarks samples
	$(BIN)/ruff check --fix importer tests benchmarks samples

serve: $(STAMP)
	$(BIN)/lsq-import serve --sandbox

screenshot: $(STAMP)
	@[ -n "$(CHROMIUM)" ] || { echo "The screenshot needs Chromium: apt-get install chromium"; exit 2; }
	@mkdir -p docs
	LSQ_WEB_SCREENSHOT=docs/serve.png $(BIN)/python -m pytest -q tests/test_web_browser.py -k upload_check_import_and_download

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_validate.py

clean:
	rm -rf $(VENV) build *.egg-info samples/.demo
