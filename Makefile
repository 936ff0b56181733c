# Two entry points: `make demo` runs the main job, `make test` runs lint and the test suite.
# Both create .venv on first use; nothing is installed outside it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_PIN := torch==2.13.0
# The project's folder of real recordings, when present: the demo and the benchmarks read
# Sleep-EDF from it (otherwise the package looks in MNE's data folder).
ifneq ($(wildcard ../shared/data),)
export SLEEPSTAGE_DATA_DIR ?= $(abspath ../shared/data)
endif

.PHONY: demo test lint benchmarks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# Core install: enough for `sleepstage demo` (no torch).
$(VENV)/.core-installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install -e .
	touch $@

# Full install: torch pinned first (the CPU build), then every extra.
$(VENV)/.all-installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install $(TORCH_PIN)
	$(BIN)/python -m pip install -e ".[neural,distributed,dev]"
	touch $@ $(VENV)/.core-installed

demo: $(VENV)/.core-installed
	$(BIN)/sleepstage demo

lint: $(VENV)/.all-installed
	$(BIN)/ruff check .

test: $(VENV)/.all-installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

benchmarks: $(VENV)/.all-installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
