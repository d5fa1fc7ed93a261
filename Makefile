# eval_platform: `make demo` and `make test` do all the set-up on a fresh machine (Python 3.11+).
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 3000

export LITELLM_LOCAL_MODEL_COST_MAP := True
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export EVAL_PLATFORM_DATA_DIR ?= $(CURDIR)/data

.PHONY: install demo test bench dev lint clean dagster-home

$(BIN)/.installed: pyproject.toml
	$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

install: $(BIN)/.installed

dagster-home:
	@mkdir -p .dagster_home
	@ln -sf ../dagster.yaml .dagster_home/dagster.yaml

## demo: set up, write the sample logs, run the whole pipeline, print the gap table
demo: install dagster-home
	$(BIN)/eval-platform sample
	$(BIN)/eval-platform run
	$(BIN)/eval-platform gaps

## test: set up and run the test suite (no network, no API keys)
test: install
	$(BIN)/python -m pytest -q

## bench: the speed and memory benchmarks (ratios against a baseline measured in the same run)
bench: install
	$(BIN)/python eval_platform_tests/benchmarks/run_all.py

## dev: the Dagster UI and daemon on the same data directory, bound to $(HOST)
dev: install dagster-home
	$(BIN)/dagster dev -w workspace.yaml -h $(HOST) -p $(PORT)

lint: install
	$(BIN)/ruff check eval_platform eval_platform_tests

clean:
	rm -rf data/landing data/warehouse data/snapshots data/labels data/golden .dagster_home
