# loom — the two commands a fresh machine needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: install peers demo test lint typecheck unit corpus bench golden sdk clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==0.13.9

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups --quiet
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

install: $(VENV)/.synced node_modules/.installed

demo: install
	$(PY) -m loom demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/pyright

# The peers (camunda-orchestration-sdk, openapi-python-client) live in their own venvs under
# build/peers; the runtime tests compare the Camunda SDK's token request with the real one.
peers: install
	$(PY) -m bench.peers

unit: install peers
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q

test: lint typecheck unit

corpus: install
	$(PY) -m bench.corpus
	$(VENV)/bin/pytest -m corpus -q -p no:randomly tests/codegen/test_proxmox_strict.py

bench: install
	$(PY) -m bench.run_all

golden: install
	$(PY) -m tests.codegen.regenerate_golden

sdk: install
	$(PY) -m loom generate examples/camunda/rest-api.bundle.json -o build/camunda --config examples/camunda/loom.toml

clean:
	rm -rf build $(VENV) $(TOOLS) node_modules
