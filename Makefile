# Quick start: `make run` (set-up + reports for the sample organization), `make test` (set-up + tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The tested versions of every dependency; `make test-latest` tries the newest ones pyproject.toml allows instead,
# in a venv of its own.
CONSTRAINTS := constraints.txt
LATEST_VENV := .venv-latest
REPORTS ?= reports
# A fresh copy of the bundled sample organization, made by every run: raw exports → compute → store → reports.
SAMPLE_COPY := $(REPORTS)/sample_org
# setuptools explains what an editable install is at every install; the notice says nothing about this project.
PIP_INSTALL := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet
LATEST_PIP := PYTHONWARNINGS="ignore:Editable installation" $(LATEST_VENV)/bin/python -m pip

.PHONY: run test test-latest setup setup-dev lint bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the project's dependency list or the tested versions change.
$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(CONSTRAINTS) $(VENV)/.installed
	$(PIP_INSTALL) -c $(CONSTRAINTS) -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

run: setup
	mkdir -p $(REPORTS)
	rm -rf $(SAMPLE_COPY) && $(BIN)/kpi-workbook init $(SAMPLE_COPY) --sample
	$(BIN)/kpi-workbook compute -w $(SAMPLE_COPY)
	$(BIN)/kpi-workbook validate -w $(SAMPLE_COPY) --report $(REPORTS)/checks.md > /dev/null
	$(BIN)/kpi-workbook library --format csv > $(REPORTS)/kpi_library.csv
	$(BIN)/kpi-workbook run -w $(SAMPLE_COPY) --all-teams --all-departments --organization --out $(REPORTS)
	$(BIN)/kpi-workbook export -w $(SAMPLE_COPY) --all-teams --out $(REPORTS)/excel

# pytest's exit code 5 means it collected no tests: that is a failure, and said so.
test: setup-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile || { status=$$?; \
	  if [ $$status -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; exit $$status; }

# The suite on the newest versions pyproject.toml allows (no constraints), upgraded at every run; what it tried is
# listed in .venv-latest/versions.txt.
test-latest:
	test -x $(LATEST_VENV)/bin/python || $(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_PIP) install --quiet --upgrade pip
	$(LATEST_PIP) install --quiet --upgrade --upgrade-strategy eager -e ".[dev]"
	$(LATEST_PIP) freeze --exclude-editable > $(LATEST_VENV)/versions.txt
	$(LATEST_VENV)/bin/python -m pytest -n 2 --dist loadfile || { status=$$?; \
	  if [ $$status -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; exit $$status; }

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: setup-dev
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_runner.py
	$(BIN)/python benchmarks/bench_compute.py
	$(BIN)/python benchmarks/bench_compute_command.py
	$(BIN)/python benchmarks/bench_roster.py
	$(BIN)/python benchmarks/bench_startup.py

# The documentation site, built offline in strict mode (a warning is an error) into site/: open site/index.html.
docs: setup-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) $(LATEST_VENV) $(REPORTS) .pytest_cache site
