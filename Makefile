# Setup and the everyday commands. `make demo` and `make test` work on a fresh clone.
# TORCH_SPEC picks the PyTorch build: the default is the CPU wheel this project tests with;
# on a GPU machine use e.g. `make demo TORCH_SPEC=torch` (your CUDA build from PyPI), or
# install into your own environment with `pip install -e .`.
PYTHON ?= python3
TORCH_SPEC ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench

$(BIN)/mssr: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[test]"
	touch $(BIN)/mssr

setup: $(BIN)/mssr

demo: setup
	$(BIN)/mssr demo

test: setup
	$(BIN)/python -m pytest -q -n 2

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts

bench: setup
	$(BIN)/python benchmarks/bench_replay.py
	$(BIN)/python benchmarks/bench_engine.py
