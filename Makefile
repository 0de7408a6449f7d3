# The few verbs a newcomer needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
PY313 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3.13))
VENV := .venv
VENV313 := .venv-py313
VENVLEGACY := .venv-legacy
PY := $(VENV)/bin/python
DATA ?= ../shared/data/cervical-fracture

.PHONY: events help setup setup-serving demo test test-fast lint format train bench build e2e-docker serve clean

help:  ## list the verbs
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(VENV)/.installed: requirements/*.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements/dev.txt
	touch $@

$(VENV313)/.installed: requirements/lambda.txt requirements/test.txt
	test -n "$(PY313)" || { echo "Python 3.13 not found: install it (pyenv install 3.13) or set PY313=/path/to/python3.13"; exit 1; }
	$(PY313) -m venv $(VENV313)
	$(VENV313)/bin/pip install -q --upgrade pip
	$(VENV313)/bin/pip install -q -r requirements/lambda.txt -r requirements/test.txt
	touch $@

$(VENVLEGACY)/.installed: requirements/lambda-legacy.txt requirements/test.txt
	$(PYTHON) -m venv $(VENVLEGACY)
	$(VENVLEGACY)/bin/pip install -q --upgrade pip
	$(VENVLEGACY)/bin/pip install -q -r requirements/lambda-legacy.txt -r requirements/test.txt
	touch $@

setup: $(VENV)/.installed  ## create .venv with serving, tests, lint and training

setup-serving: $(VENV313)/.installed $(VENVLEGACY)/.installed  ## the image's Python 3.13 stack and the legacy tflite-runtime stack

demo: setup  ## classify the sample events and a local image with the handler
	$(PY) -m inference.cli demo

test: setup setup-serving lint  ## every test: .venv, then serving tests under Python 3.13 and the legacy stack
	$(PY) -m pytest -q tests
	TFLITE_RUNTIME=ai-edge-litert $(VENV313)/bin/python -m pytest -q tests/serving
	TFLITE_RUNTIME=tflite-runtime $(VENVLEGACY)/bin/python -m pytest -q tests/serving

test-fast: setup  ## the .venv tests only
	$(PY) -m pytest -q -x tests

lint: setup  ## ruff and hadolint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup  ## apply ruff's formatting
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

train: setup  ## train the shipped model on $(DATA) into model/
	$(PY) training/train.py $(DATA) --out model

setup-bench: setup  ## benchmark-only tools (atheris for bench/fuzz.py) into .venv
	$(VENV)/bin/pip install -q -r requirements/bench.txt

bench: setup setup-serving setup-bench  ## measure; figures go to docs/BENCHMARKS.md
	$(PY) -m bench

serve: setup  ## local API on http://127.0.0.1:3000 (stand-in for sam local start-api)
	$(PY) -m inference.cli serve --port 3000

events: setup  ## regenerate the sample events in events/ (their images are synthetic)
	$(PY) events/generate_events.py

clean:  ## remove the virtual environments and caches
	rm -rf $(VENV) $(VENV313) $(VENVLEGACY) .pytest_cache .ruff_cache .hypothesis
