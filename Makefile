# `make demo` and `make test` set everything up on a fresh machine with only
# Python 3.10+ and a C compiler: a virtual environment in .venv, the build
# tools, karyo itself (editable: changed kernels rebuild on import).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BUILD_TOOLS := 'meson-python>=0.17' 'meson>=1.2' ninja 'cython>=3.0' 'numpy>=1.25'
OUT ?= demo-output
IMAGES ?=
SANITIZE_TESTS ?= tests

.PHONY: install install-test install-bench install-docs demo test bench docs lint sanitize clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q $(BUILD_TOOLS)
	$(BIN)/python -m pip install -q --no-build-isolation -e '.[report]'

install-test: $(BIN)/python
	$(BIN)/python -m pip install -q $(BUILD_TOOLS)
	$(BIN)/python -m pip install -q --no-build-isolation -e '.[report,test]'

install-docs: $(BIN)/python
	$(BIN)/python -m pip install -q $(BUILD_TOOLS)
	$(BIN)/python -m pip install -q --no-build-isolation -e '.[report,docs]'

install-bench: $(BIN)/python
	$(BIN)/python -m pip install -q $(BUILD_TOOLS)
	$(BIN)/python -m pip install -q --no-build-isolation -e '.[report,bench]'

# The main job: segment, count, measure and score the demo image (plus any
# IMAGES="a.tif b.png"), write labels, overlays, tables and report.html; then
# the mahotas tutorial, step by step, with its figures.
demo: install
	$(BIN)/karyo demo --out $(OUT) --overwrite $(IMAGES)
	$(BIN)/python examples/nuclei_tutorial.py --out $(OUT)/tutorial

test: install-test
	$(BIN)/python -m pytest -q

# The documentation, into docs/_build/html; a warning fails the build.
# (tests/test_docs.py builds it the same way in `make test`.)
docs: install-docs
	$(BIN)/python -m sphinx -b html -W --keep-going docs docs/_build/html

bench: install-bench
	$(BIN)/python benchmarks/run.py

lint: install-test
	$(BIN)/ruff check src tests benchmarks examples training

# The kernels built with AddressSanitizer and UndefinedBehaviorSanitizer in a
# separate environment, then the test suite run under them. Python itself is
# not instrumented, so libasan is preloaded; leak checking is off because
# CPython's own allocations would drown the report.
ASAN_VENV := .venv-asan
sanitize:
	test -x $(ASAN_VENV)/bin/python || $(PYTHON) -m venv $(ASAN_VENV)
	$(ASAN_VENV)/bin/python -m pip install -q --upgrade pip $(BUILD_TOOLS)
	$(ASAN_VENV)/bin/python -m pip install -q --no-build-isolation \
	    -Cbuild-dir=build/sanitize -Csetup-args=-Db_sanitize=address,undefined \
	    -Csetup-args=-Db_lundef=false -Csetup-args=-Dbuildtype=debugoptimized -e '.[report,test]'
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(ASAN_VENV)/bin/python -m pytest -q -x --capture=sys -p no:cacheprovider $(SANITIZE_TESTS)

clean:
	rm -rf build $(VENV) $(ASAN_VENV) $(OUT)
