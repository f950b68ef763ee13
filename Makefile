# Two front-door commands: `make run` and `make test`. Both build the virtual environment from nothing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
NLPC := $(VENV)/bin/nlpc
STAMP := $(VENV)/.installed
EXTRAS ?= all,dev

.PHONY: install run test models bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Re-installs only when pyproject.toml changes, so the second `make` is quick.
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

models: install
	$(NLPC) prepare

run: models
	$(NLPC) run

test: install
	bash scripts/test.sh

bench: install
	$(NLPC) bench

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
