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

.PHONY: install node system tools lint test fuzz demo benchmarks synth deploy clean

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

# The property-based suites (hypothesis models of the store on every backend, the
# queue, cache-aside) with the long `fuzz` profile: many more examples and steps than
# the bounded `ci` profile `make test` runs. Failing examples are kept in .hypothesis/.
fuzz: install node system tools
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest -p no:timeout \
	  tests/conformance/store/test_model.py tests/conformance/queue/test_model.py \
	  tests/conformance/cache/test_aside_model.py $(PYTEST_ARGS)

demo: install
	$(PY) -m statekit.demo

# DBOS (the workflows benchmark's peer) installs only here: the suite does not need it.
benchmarks: install node system tools
	bash scripts/benchmark_tools/dbos.sh
	$(PY) benchmarks/store_embedded.py
	$(PY) benchmarks/store_backends.py
	$(PY) benchmarks/store_postgresql.py
	$(PY) benchmarks/cache_hit.py
	$(PY) benchmarks/cache_hit_memcached.py
	$(PY) benchmarks/idempotency_cost.py
	$(PY) benchmarks/queue_throughput.py
	$(PY) benchmarks/workflows_local.py
	$(PY) benchmarks/observability_overhead.py
	$(PY) benchmarks/cold_start.py
	$(PY) benchmarks/synth.py

# `make synth [CLOUD=aws,gcp] [ENV=prod]`: cdktf.out/stacks/<app>-<cloud>-<env>/cdk.tf.json
# (the App: the environment file's `app`, or STATEKIT_APP=pkg.module:APP)
synth: install
	STATEKIT_CLOUDS=$(CLOUD) STATEKIT_ENVS=$(ENV) $(PY) main.py

# `make deploy CLOUD=aws ENV=dev`: one stack, with the cdktn CLI when it is installed
# (it needs Node.js 22.19+), else plain terraform (or tofu) in the stack's folder.
deploy: synth
	@test -n "$(CLOUD)" -a -n "$(ENV)" || { echo "usage: make deploy CLOUD=aws|azure|gcp ENV=dev|staging|prod"; exit 2; }
	@STACK=$$(STATEKIT_CLOUDS=$(CLOUD) STATEKIT_ENVS=$(ENV) $(PY) main.py --list) || exit 2; \
	if command -v cdktn >/dev/null; then \
	  cdktn deploy $$STACK --skip-synth; \
	else \
	  TF=$$(command -v tofu || command -v terraform) || { echo "deploy needs cdktn, terraform or tofu on PATH"; exit 2; }; \
	  cd cdktf.out/stacks/$$STACK && $$TF init && $$TF apply; \
	fi

clean:
	rm -rf $(VENV) node_modules .tools .statekit cdktf.out .jsii-cache

# `make e2e CLOUD=aws ENV=dev` (or staging, prod, or dev,prod): synthesize, apply on MiniStack,
# run the example app through its real entry points, destroy (tests/e2e/test_aws_ministack.py).
# Needs terraform and a hashicorp/aws provider mirror (skipped with the reason printed without).
.PHONY: e2e
e2e: install
	@test "$(CLOUD)" = aws || { echo "usage: make e2e CLOUD=aws ENV=dev|staging|prod (AWS is the cloud with an emulator that takes an apply)"; exit 2; }
	bash scripts/tools/ministack.sh
	STATEKIT_E2E_ENVS=$(or $(ENV),dev) $(VENV)/bin/pytest tests/e2e -s -q $(PYTEST_ARGS)
