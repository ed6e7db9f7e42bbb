# `make demo` and `make test` set everything up on a fresh machine with only
# Python 3.10+ and a C compiler: a virtual environment in .venv, the build
# tools, karyo itself (editable: changed kernels rebuild on import).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BUILD_TOOLS := meson-python>=0.15 meson>=1.2 ninja cython>=3.0 numpy>=1.25
OUT ?= demo-output
IMAGES ?=

.PHONY: install install-test install-bench demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q $(BUILD_TOOLS)
	$(BIN)/python -m pip install -q --no-build-isolation -e '.[report]'

install-test: $(BIN)/python
	$(BIN)/python -m pip install -q $(BUILD_TOOLS)
	$(BIN)/python -m pip install -q --no-build-isolation -e '.[report,test]'

install-bench: $(BIN)/python
	$(BIN)/python -m pip install -q $(BUILD_TOOLS)
	$(BIN)/python -m pip install -q --no-build-isolation -e '.[report,bench]'

demo: install
	$(BIN)/python examples/nuclei_tutorial.py --out $(OUT)/tutorial

test: install-test
	$(BIN)/python -m pytest -q

bench: install-bench
	$(BIN)/python benchmarks/run.py --out bench-output

lint: install-test
	$(BIN)/ruff check src tests benchmarks examples

clean:
	rm -rf build $(VENV) $(OUT) bench-output
