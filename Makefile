# Two front-door commands: `make run` and `make test`. Both build the virtual environment from nothing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
NLPC := $(VENV)/bin/nlpc
STAMP := $(VENV)/.installed
EXTRAS ?= all,dev
# Installed before the extras so nothing pulls another torch; empty (TORCH=) where no extra needs it (the UI image).
TORCH ?= torch==2.13.0

.PHONY: install run test lint models minilm minilm-finish bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Re-installs only when pyproject.toml changes, so the second `make` is quick.
$(STAMP): pyproject.toml | $(PY)
	$(if $(TORCH),$(PIP) install --quiet "$(TORCH)")
	$(PIP) install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

# With NLPC_MODELS_URL=gs://bucket/prefix/version set, `nlpc prepare` first pulls the models of that published set
# the models folder lacks (minilm_hate too, so nothing is trained in the background; docs/registry.md).
models: install
	$(NLPC) prepare

# While it serves, `make run` trains the fine-tuned default (minilm_hate, `make minilm` below) in the background at
# the lowest CPU priority when the models folder lacks it, continuing an interrupted run, and the API switches to it
# when it is ready; before that, to the best checkpoint so far each time the run publishes one as minilm_hate_preview
# (--preview, docs/transformers.md). A run stopped after saving minilm_hate but before its export and calibration are done is
# finished by the next `make run` (`make minilm-finish`, in the background too). BACKGROUND= serves without either.
BACKGROUND ?= --train-in-background "make --no-print-directory minilm TRAIN_FLAGS='--resume-if-interrupted --preview'" \
	--finish-in-background "make --no-print-directory minilm-finish"
run: models
	$(NLPC) run $(BACKGROUND)

# The fine-tuned `hate` transformer and its int8 export (about an hour on 2 idle cores, docs/transformers.md):
# `make run` serves it from then on instead of the TF-IDF model. Retrains when run again; after an interruption,
# `make minilm TRAIN_FLAGS=--resume` (or --resume-if-interrupted) continues from the last checkpoint. Each training
# text's target is an all-mpnet-base-v2 teacher's score of it, read from the scores bundled in data/teacher_scores/
# (the teacher itself is not needed); DISTIL_FLAGS= trains on the labels alone (the default before 2026-12-06,
# docs/transformers.md).
# Last, its scores are calibrated on the validation split (isotonic: the teacher's probabilities carry the class
# weighting of its own training, test ECE 0.129 -> 0.014, docs/evaluation.md); CALIBRATION= leaves them raw.
TRAIN_FLAGS ?=
DISTIL_FLAGS ?= --set teacher_scores=teacher_scores/mpnet_hate_40k.npz --set distillation_weight=1.0 --set class_weights=false
CALIBRATION ?= isotonic
minilm: install
	$(NLPC) train transformer --preset hate $(DISTIL_FLAGS) --num-threads 2 --time-budget-minutes 115 $(TRAIN_FLAGS)
	$(MAKE) --no-print-directory minilm-finish

# What follows the training of minilm_hate, alone (about 6 minutes on 2 cores): its int8 export and calibration.
minilm-finish: install
	$(NLPC) export onnx --model minilm_hate --quantize int8 --threads 2
	$(if $(CALIBRATION),$(NLPC) calibrate --model minilm_hate --method $(CALIBRATION))

# ruff (lint rules and formatting) and mypy on src/, all configured in pyproject.toml; `make test` runs it first.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install lint
	bash scripts/test.sh

bench: install
	$(NLPC) bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
