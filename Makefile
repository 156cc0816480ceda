# The two commands a new user runs: `make demo` and `make test`. Each builds .venv from nothing
# when it is missing or older than pyproject.toml, so no step is done by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.crmsync-installed
B ?=

.PHONY: demo test lint typecheck pytest bench venv clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,celery]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/crmsync demo

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check connectors mappings orchestrator tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench $(B)

clean:
	rm -rf $(VENV) .venv-peers .crmsync crmsync-demo .pytest_cache .mypy_cache .ruff_cache
