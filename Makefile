# rec_bench: `make install` then `make test`; `make study-runtime` runs the main job.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install test

install:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	$(PY) -c "import rec_bench; rec_bench.warmup()"

test:
	$(PY) -m pytest -n 2 -q
