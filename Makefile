# Quick start: `make run` (set-up + reports for the sample organization), `make test` (set-up + tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WORKSPACE ?= data/sample_org
REPORTS ?= reports

.PHONY: run test setup setup-dev lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the project's dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

run: setup
	mkdir -p $(REPORTS)
	$(BIN)/kpi-workbook validate $(WORKSPACE) --report $(REPORTS)/checks.md > /dev/null
	$(BIN)/kpi-workbook library --format csv > $(REPORTS)/kpi_library.csv
	$(BIN)/kpi-workbook run --workspace $(WORKSPACE) --all-teams --organization --out $(REPORTS)
	$(BIN)/kpi-workbook export --workspace $(WORKSPACE) --all-teams --out $(REPORTS)/excel

test: setup-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: setup-dev
	$(BIN)/ruff check .

bench: setup-dev
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_runner.py

clean:
	rm -rf $(VENV) $(REPORTS) .pytest_cache
