# occupipe: every command a developer or CI needs. `make run` and `make test` are the quickstart.
.DEFAULT_GOAL := help
SHELL := /bin/bash
# the newest CPython 3.13, 3.12 or 3.11 that runs here (pyenv's versions too), unless given
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell for v in 3.13 3.12 3.11; do \
	for p in python$$v $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$v*/bin/python$$v 2>/dev/null | sort -rV); do \
	$$p -c "" >/dev/null 2>&1 && { command -v $$p; exit 0; }; done; done)
endif
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
VENV := .venv
BIN := $(VENV)/bin
SOURCE ?= data/raw
export UV_COMPILE_BYTECODE := 1

.PHONY: help setup run test test-fast lint format demo-data bench bench-cli bench-batch browser clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

setup: $(BIN)/.synced ## install the locked environment (installs uv with pip if missing)

$(BIN)/.synced: pyproject.toml uv.lock
	@test -n "$(PYTHON)" || { echo "make setup: no CPython 3.13, 3.12 or 3.11 found: install one (python.org, your package manager, or pyenv), or name it with PYTHON=/path/to/python3.x" >&2; exit 1; }
	@echo "make setup: using $$($(PYTHON) -c 'import platform; print("CPython", platform.python_version())') ($(PYTHON))"
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore uv
	@$(UV) sync --frozen --quiet --python $(PYTHON)
	@touch $@

run: setup ## build the warehouse from data/raw (SOURCE=dir to change) and print a summary
	@$(BIN)/occupipe run --source $(SOURCE)

test: setup lint browser ## lint, type-check and run the whole test suite
	@$(BIN)/pytest

browser: ## headless Chromium for the browser tests of the HTML report and the docs site (Debian package)
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium (Debian package) for the browser test"; \
			apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "note: chromium is missing and cannot be installed here: the browser test will be skipped"; fi; }

test-fast: setup ## the fast loop: every test but full builds and flow runs (marked slow)
	@$(BIN)/pytest -m "not slow"

lint: setup ## ruff (lint + format check) and mypy
	@$(BIN)/ruff check src pipelines tests benchmarks
	@$(BIN)/ruff format --check --quiet src pipelines tests benchmarks
	@$(BIN)/mypy
	@$(BIN)/lint-imports --no-logo --no-cache | sed -n "/^Contracts:/p; /BROKEN/,\$$p"; exit $${PIPESTATUS[0]}

format: setup ## apply ruff's fixes and formatting
	@$(BIN)/ruff check --fix src pipelines tests benchmarks
	@$(BIN)/ruff format src pipelines tests benchmarks

N ?= 1000
R ?= 1
SKIP ?=
CLI_STEPS := cli-run-654 cli-noop cli-commands
bench: setup ## benchmark at N records (default 1000; R=3 for medians, SKIP="naive-duckdb ..."), then bench-cli
	@$(BIN)/python -m benchmarks.run --records $(N) --repeat $(R) $(foreach s,$(filter-out $(CLI_STEPS),$(SKIP)),--skip $(s))
	@$(MAKE) --no-print-directory bench-cli

bench-cli: setup ## occupipe as typed at 654 and 13k records, medians of three, against issue 31's targets
	@$(BIN)/python -m benchmarks.cli_steps $(foreach s,$(filter $(CLI_STEPS),$(SKIP)),--skip $(s))

bench-batch: setup ## one extraction batch of N records phase by phase: ours against a JSON-to-Arrow prototype
	@$(BIN)/python -m benchmarks.batch_paths --records $(N) --repeat 3

demo-data: setup ## regenerate the synthetic demo corpus in data/raw
	@rm -f data/raw/*.json
	@$(BIN)/occupipe synth --records 120 --out data/raw

clean: ## remove the environment, caches and built warehouses
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .prefect data/warehouse/*
