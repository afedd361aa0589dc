# Setup and the everyday commands. `make demo` and `make test` work on a fresh clone.
# Dependencies install through constraints.txt, the exact versions the project is tested and
# benchmarked with (`make lock` rewrites it from the venv). TORCH_SPEC picks the PyTorch build:
# the default is the CPU wheel this project tests with; on a GPU machine use e.g.
# `make demo TORCH_SPEC=torch` (your CUDA build from PyPI). For your own environment without
# the pins: `pip install .` (or `pip install -e .` in a checkout).
PYTHON ?= python3
TORCH_SPEC ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench lock

$(BIN)/mssr: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -c constraints.txt -e ".[test]"
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

# torch stays out (TORCH_SPEC chooses the build), and so do pip and mssr itself
lock: setup
	{ sed -n '/^#/p' constraints.txt; $(BIN)/pip freeze --all --exclude-editable \
	  | grep -v -i -e '^torch==' -e '^pip==' -e '^#' -e '^-e '; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
