# statekit: `make demo` runs the main job on the embedded default;
# `make test` installs what is needed, starts the stand-ins and runs the suite.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
CLOUD ?=
ENV ?=

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(CURDIR)/.jsii-cache
export CHECKPOINT_DISABLE := 1

.PHONY: install node system tools lint test demo benchmarks clean

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

system:
	bash scripts/install_system.sh

tools: install
	bash scripts/install_tools.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy statekit handlers modules tests benchmarks $(wildcard main.py)

test: install node system tools lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

demo: install
	$(PY) -m statekit.demo

benchmarks: install
	$(PY) benchmarks/store_embedded.py

clean:
	rm -rf $(VENV) node_modules .tools .statekit cdktf.out .jsii-cache
