# digitcam: train on a workstation, convert to int8, run on a Raspberry Pi.
# `make train convert` builds the model; `make test` runs the tests. Both create .venv if needed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EXTRAS ?= train,device,dev
comma := ,
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)-$(subst $(comma),-,$(EXTRAS))
# The offline MNIST copy beside this checkout, when there is one; else the Keras download.
MNIST_DIR ?= $(wildcard $(CURDIR)/../shared/data/mnist)
export MNIST_DIR
# make deploy: the Pi as for ssh (user@host or a ~/.ssh/config alias), its directory, SERVICE=1
PI ?=
PI_DIR ?= digitcam
SERVICE ?=
TRAIN_ARGS ?=
CONVERT_ARGS ?=
BENCH_ARGS ?=

.PHONY: help setup train train-quick convert deploy bench test pi-check lint format clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) ## create .venv and install digitcam (EXTRAS=train-gpu,device,dev for a GPU)

train: $(STAMP) ## train the CNN on MNIST into build/train (TRAIN_ARGS=--quick for a short run)
	$(PY) -m train --out build/train $(TRAIN_ARGS)

train-quick: $(STAMP) ## a few-minute training run into build/train
	$(PY) -m train --out build/train --quick $(TRAIN_ARGS)

convert: $(STAMP) ## quantize build/train/model.keras to int8, verify, install into models/
	$(PY) -m convert --model build/train/model.keras --out models/digitcam.tflite $(CONVERT_ARGS)

deploy: $(STAMP) ## send runtime + model to a Pi, install, self-check: PI=user@host [SERVICE=1]
	@test -n "$(PI)" || { echo "usage: make deploy PI=user@host [SERVICE=1] [PI_DIR=digitcam]" >&2; exit 2; }
	$(PY) -m device deploy '$(PI)' --dir '$(PI_DIR)' $(if $(filter 1 yes true,$(SERVICE)),--service)

bench: $(STAMP) ## measure size, accuracy, latency, fps, throughput into build/bench (BENCH_ARGS=--quick)
	$(PY) -m device bench --out build/bench $(BENCH_ARGS)

test: $(STAMP) ## run the test suite
	$(PY) -m pytest -q

pi-check: $(STAMP) ## deploy into an arm64 Debian 12 root under qemu, compare its answers with x86 (root)
	tests/pi_check/run.sh

lint: $(STAMP) ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP) ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean: ## remove build outputs (keeps .venv and models/)
	rm -rf --one-file-system build .pytest_cache
