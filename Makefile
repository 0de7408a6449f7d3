# The few verbs a newcomer needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
PY313 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3.13))
VENV := .venv
VENV313 := .venv-py313
VENVLEGACY := .venv-legacy
VENVSAM := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 DOCKER_BUILDKIT=0 $(VENVSAM)/bin/sam
IMAGE ?= cervical-fracture
LEGACY_BUILD_ARGS := --build-arg PYTHON_VERSION=3.11 --build-arg REQUIREMENTS=requirements/lambda-legacy.txt
PY := $(VENV)/bin/python
DATA ?= ../shared/data/cervical-fracture

.PHONY: events help setup setup-serving demo test test-fast lint format train audit bench build e2e-docker serve clean \
	setup-sam build-legacy run-docker run-rie standin sam-validate sam-build sam-invoke sam-api

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

# aws-sam-cli pins many packages of its own: its own venv. Its wheel carries aws-lambda-rie.
$(VENVSAM)/.installed: requirements/sam.txt
	$(PYTHON) -m venv $(VENVSAM)
	$(VENVSAM)/bin/pip install -q --upgrade pip
	$(VENVSAM)/bin/pip install -q -r requirements/sam.txt
	touch $@

setup: $(VENV)/.installed  ## create .venv with serving, tests, lint and training

setup-serving: $(VENV313)/.installed $(VENVLEGACY)/.installed  ## the image's Python 3.13 stack and the legacy tflite-runtime stack

setup-sam: $(VENVSAM)/.installed  ## AWS SAM CLI (and the Lambda emulator it carries) in .venv-sam

demo: setup  ## classify the sample events and a local image with the handler
	$(PY) -m inference.cli demo

test: setup setup-serving setup-sam lint  ## every test: .venv, then serving tests under Python 3.13 and the legacy stack
	$(PY) -m pytest -q tests
	TFLITE_RUNTIME=ai-edge-litert $(VENV313)/bin/python -m pytest -q tests/serving
	TFLITE_RUNTIME=tflite-runtime $(VENVLEGACY)/bin/python -m pytest -q tests/serving

test-fast: setup  ## the .venv tests only
	$(PY) -m pytest -q -x tests

lint: setup  ## ruff and hadolint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint --failure-threshold warning Dockerfile docker/standin/Dockerfile

format: setup  ## apply ruff's formatting
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The shipped model's recipe (see model/MODEL_CARD.md); without it train.py runs the original one.
TRAIN_RECIPE ?= --arch slicenet --augment --optimizer adam --learning-rate 0.002 --epochs 30 --patience 10 --final-fit all

train: setup  ## train the shipped model on $(DATA) into model/
	$(PY) training/train.py $(DATA) --out model $(TRAIN_RECIPE)

audit: setup  ## dataset audit of $(DATA): counts, duplicates, leakage -> build/audit.json
	mkdir -p build && $(PY) training/audit.py $(DATA) --json build/audit.json

setup-bench: setup  ## benchmark-only tools (atheris for bench/fuzz.py) into .venv
	$(VENV)/bin/pip install -q -r requirements/bench.txt

bench: setup setup-serving setup-bench  ## measure; figures go to docs/BENCHMARKS.md
	$(PY) -m bench

serve: setup  ## local API on http://127.0.0.1:3000 (stand-in for sam local start-api)
	$(PY) -m inference.cli serve --port 3000

events: setup  ## regenerate the sample events in events/ (their images are synthetic)
	$(PY) events/generate_events.py

# The Lambda image (docs/CONTAINER.md). Where public.ecr.aws is unreachable, `make standin` first.
build:  ## docker build the Lambda image (Python 3.13, ai-edge-litert)
	DOCKER_BUILDKIT=0 docker build -t $(IMAGE):python3.13 .

build-legacy:  ## docker build the legacy image (Python 3.11, tflite-runtime 2.14; Amazon Linux 2)
	DOCKER_BUILDKIT=0 docker build $(LEGACY_BUILD_ARGS) -t $(IMAGE):python3.11 .

run-docker: build  ## the image under the base image's emulator on 127.0.0.1:9000 (then curl, see README)
	docker run --rm -p 127.0.0.1:9000:8080 $(IMAGE):python3.13

run-rie: setup setup-serving setup-sam  ## the same without Docker: task root + aws-lambda-rie on 127.0.0.1:9000
	$(PY) -m scripts.lambda_emulator default --port 9000

standin: setup setup-sam  ## build stand-ins for public.ecr.aws/lambda/python:3.13 and :3.11 (Debian)
	$(PY) -m scripts.standin_image 3.13
	$(PY) -m scripts.standin_image 3.11

e2e-docker: setup setup-sam  ## stand-in base, docker build/run + curl, sam build/local invoke/start-api
	scripts/e2e_docker.sh

sam-validate: setup-sam  ## sam validate --lint (offline)
	$(SAM) validate --lint

sam-build: setup-sam  ## sam build (the image, from the Dockerfile)
	$(SAM) build

sam-invoke: sam-build  ## sam local invoke with a sample event
	$(SAM) local invoke FractureFunction -e events/direct_base64.json

sam-api: sam-build  ## sam local start-api on 127.0.0.1:3000
	$(SAM) local start-api --host 127.0.0.1 --port 3000

clean:  ## remove the virtual environments and caches
	rm -rf $(VENV) $(VENV313) $(VENVLEGACY) $(VENVSAM) build/container .pytest_cache .ruff_cache .hypothesis
