# digitcam: train on a workstation, convert to int8, run on a Raspberry Pi.
# `make train convert` builds the model; `make test` runs the tests. Both create .venv if needed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
comma := ,
empty :=
space := $(empty) $(empty)
# The venv keeps the extras it was made with ($(VENV)/.extras; older venvs named them in their
# stamp): a target adds the extras it needs and never swaps one, so a venv made with
# EXTRAS=train-gpu,device,dev keeps tensorflow[and-cuda] through a plain `make train`.
OLD_STAMP_EXTRAS = $(subst train+gpu,train-gpu,$(wordlist 3,99,$(subst -, ,$(subst train-gpu,train+gpu,$(notdir $(firstword $(wildcard $(VENV)/.installed-*)))))))
VENV_EXTRAS := $(strip $(or $(subst $(comma), ,$(shell cat $(VENV)/.extras 2>/dev/null)),$(OLD_STAMP_EXTRAS)))
ASKED_EXTRAS := $(subst $(comma), ,$(EXTRAS))
GOALS := $(or $(MAKECMDGOALS),help)
DEFAULT_EXTRAS := train device dev
# Deploying and benchmarking need only the Pi's runtime (no TensorFlow); a new venv made for
# anything else gets the default extras.
NEEDS := $(if $(filter train train-quick convert,$(GOALS)),train device) \
  $(if $(filter test lint format,$(GOALS)),$(DEFAULT_EXTRAS)) \
  $(if $(filter deploy rollback bench,$(GOALS)),device) \
  $(if $(VENV_EXTRAS)$(ASKED_EXTRAS),,$(if $(filter-out deploy rollback bench,$(GOALS)),$(DEFAULT_EXTRAS)))
HAVE := $(VENV_EXTRAS) $(ASKED_EXTRAS)
VENV_WANTS := $(sort $(HAVE) $(if $(filter train-gpu,$(HAVE)),$(filter-out train,$(NEEDS)),$(NEEDS)))
ifneq ($(filter train,$(VENV_WANTS)),)
ifneq ($(filter train-gpu,$(VENV_WANTS)),)
$(error .venv has EXTRAS=$(subst $(space),$(comma),$(VENV_EXTRAS)) and EXTRAS=$(EXTRAS) would mix tensorflow-cpu and tensorflow[and-cuda]: leave EXTRAS out, or rm -rf .venv and make setup EXTRAS=...)
endif
endif
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The offline MNIST copy beside this checkout, when there is one; else the Keras download.
MNIST_DIR ?= $(wildcard $(CURDIR)/../shared/data/mnist)
export MNIST_DIR
# make deploy: the Pi as for ssh (user@host or a ~/.ssh/config alias), its directory, SERVICE=1.
# Recipes read PI and PI_DIR from the environment ("$$PI"), so any character in them is safe.
PI ?=
PI_DIR ?= digitcam
HTTP ?=
export PI PI_DIR HTTP
SERVICE ?=
TRAIN_ARGS ?=
CONVERT_ARGS ?=
BENCH_ARGS ?=
# make eval: set sizes, e.g. EVAL_ARGS='--photos 2000 --no-digit 200'; the real photos beside us
EVAL_ARGS ?=
REAL_DIR ?= $(wildcard $(CURDIR)/../shared/data/real)

.PHONY: help setup train train-quick convert deploy rollback bench eval test pi-check lint format clean FORCE

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# Rebuilt when pyproject.toml changes or a target needs an extra the venv lacks.
$(STAMP): pyproject.toml $(if $(filter-out $(VENV_EXTRAS),$(VENV_WANTS)),FORCE)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(subst $(space),$(comma),$(VENV_WANTS))]'
	echo '$(subst $(space),$(comma),$(VENV_WANTS))' > $(VENV)/.extras
	rm -f $(VENV)/.installed-* && touch $@

FORCE:

setup: $(STAMP) ## create .venv and install digitcam (EXTRAS=train-gpu,device,dev for a GPU)

train: $(STAMP) ## train the CNN on MNIST into build/train (TRAIN_ARGS=--quick for a short run)
	$(PY) -m train --out build/train $(TRAIN_ARGS)

train-quick: $(STAMP) ## a few-minute training run into build/train
	$(PY) -m train --out build/train --quick $(TRAIN_ARGS)

convert: $(STAMP) ## quantize build/train/model.keras to int8, verify, install into models/
	$(PY) -m convert --model build/train/model.keras --out models/digitcam.tflite $(CONVERT_ARGS)

deploy: $(STAMP) ## send runtime + model to a Pi, install, self-check: PI=user@host [SERVICE=1 [HTTP=8000]]
	@test -n "$$PI" || { echo "usage: make deploy PI=user@host [SERVICE=1 [HTTP=8000]] [PI_DIR=digitcam]" >&2; exit 2; }
	$(PY) -m device deploy --dir "$$PI_DIR" $(if $(filter 1 yes true,$(SERVICE)),--service) $(if $(HTTP),--http "$$HTTP") -- "$$PI"

rollback: $(STAMP) ## make the Pi's previous release current again: PI=user@host [PI_DIR=digitcam]
	@test -n "$$PI" || { echo "usage: make rollback PI=user@host [PI_DIR=digitcam]" >&2; exit 2; }
	$(PY) -m device deploy --dir "$$PI_DIR" --rollback -- "$$PI"

bench: $(STAMP) ## measure size, accuracy, latency, fps, throughput into build/bench (BENCH_ARGS=--quick)
	$(PY) -m device bench --out build/bench $(BENCH_ARGS)

eval: $(STAMP) ## every accuracy figure, each with its digitcam eval command, into build/eval
	$(PY) -m device.eval.suite --out build/eval $(if $(REAL_DIR),--real '$(REAL_DIR)') $(EVAL_ARGS)

test: $(STAMP) ## run the test suite
	$(PY) -m pytest -q

pi-check: $(STAMP) ## deploy into an arm64 Debian 12 root under qemu, compare its answers with x86 (root)
	tests/pi_check/run.sh

lint: $(STAMP) ## ruff check and format check, and the import layers (import-linter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP) ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean: ## remove build outputs (keeps .venv and models/)
	rm -rf --one-file-system build .pytest_cache
