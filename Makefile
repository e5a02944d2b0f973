# Gatehouse: `make preview` (offline preview, STACK=staging by default) and `make test`.
# Both set up the virtualenv on a fresh machine.
PYTHON ?= python3
STACK ?= staging
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: preview test lint install bench graph clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

preview: $(STAMP)
	$(BIN)/python -m offline --stack $(STACK)

# Code quality gates first (ruff, mypy), then the tests (the slow ones too: they build throwaway
# virtualenvs with older pulumi and pulumi-policy under build/venvs/, once).
test: lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check components policy offline tests bench __main__.py
	$(BIN)/ruff format --check components policy offline tests bench __main__.py
	$(BIN)/mypy components offline bench
	$(BIN)/mypy policy/guardrails  # apart: it imports the contract as the pack does, not as policy.*

# Offline preview at 10, 100 and 1,000 tenants, accelerated and stock, against the targets; writes bench/results.json.
bench: $(STAMP)
	$(BIN)/python -m bench

# The resource graph of STACK from its offline preview: build/<stack>/graph.{svg,png}.
graph: preview
	$(BIN)/python -m offline.graph --stack $(STACK)

clean:
	rm -rf build
