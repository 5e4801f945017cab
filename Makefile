# Two entry points do all the set-up on a fresh machine (Python 3.11+, nothing else):
#   make demo   the main job: the golden path, live, on embedded PostgreSQL and Redis
#   make test   lint, type-check and run the whole suite on real services
# Both create .venv and install exactly requirements.lock into it first (every package,
# direct and indirect, by version and hash), then golden-path itself, editable, with no
# dependency resolution: a fresh clone gets what the last green CI ran. The package keeps
# ranges in pyproject.toml for the teams that install it; only `make lock` writes the lock.

VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3
PYTEST_ARGS ?=
LOCK := requirements.lock
# The interpreter versions the universal lock is resolved for: pyproject's requires-python
# floor. uv writes markers where a package differs between 3.11, 3.12 and 3.13.
LOCK_PYTHON := 3.11
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: demo test lint install clean lock test-latest

$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv --clear $(VENV)
	$(PIP) install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	$(PIP) check
	touch $(STAMP)

# Resolve pyproject.toml's ranges anew, for every Python it claims, with uv (itself pinned
# by the lock): the only writer of requirements.lock. Then `make test` proves the new lock.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal \
		--python-version $(LOCK_PYTHON) --generate-hashes --no-header --quiet \
		--index-url https://pypi.org/simple --output-file $(LOCK).new
	{ echo "# The repository's own builds install exactly this (make demo, make test, .ci/run)."; \
	  echo "# Written by 'make lock' (uv pip compile --universal --generate-hashes) from"; \
	  echo "# pyproject.toml's extra 'dev'; never edit by hand. docs/testing.md: the lock."; \
	  cat $(LOCK).new; } > $(LOCK)
	rm -f $(LOCK).new
	$(BIN)/uv pip compile pyproject.toml $(TRIPS)/requirements.in --universal \
		--python-version $(LOCK_PYTHON) --generate-hashes --no-header --quiet \
		--index-url https://pypi.org/simple --constraint $(LOCK) --output-file $(TRIPS)/lock.new
	{ echo "# examples/trips installs exactly this beside golden-path's wheel (make test): the"; \
	  echo "# harness's own dependencies (no [server] extra) and requirements.in, at the versions"; \
	  echo "# of ../../requirements.lock. Written by 'make lock'; never edit by hand."; \
	  cat $(TRIPS)/lock.new; } > $(TRIPS)/requirements.lock
	rm -f $(TRIPS)/lock.new

# Drift seen, not suffered: a throwaway venv with the newest versions the ranges allow,
# then the lint and the main suite there. Not part of `make test`.
LATEST := $(shell echo $${TMPDIR:-/tmp})/golden-path-latest
# examples/trips runs from golden-path's wheel in a venv of its own (make test).
TRIPS := examples/trips
TRIPS_VENV := $(shell echo $${TMPDIR:-/tmp})/golden-path-trips
test-latest:
	rm -rf $(LATEST) && $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade \
		--upgrade-strategy eager -e '.[dev]'
	$(LATEST)/bin/python -m pip list --disable-pip-version-check --format=freeze \
		| grep -iE '^(redis|mypy|ruff|pytest|pydantic-ai-slim|testcontainers)=' || true
	$(LATEST)/bin/ruff check . && $(LATEST)/bin/ruff format --check . && $(LATEST)/bin/mypy
	$(LATEST)/bin/pytest -n auto -q $(PYTEST_ARGS) \
		--ignore=$(DOCKER_TESTS) $(foreach t,$(SECOND_SHARD),--ignore=$(t))
	rm -rf $(LATEST)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/golden-path demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# First Debian's Chromium for the browser tier (tests/browser; installed once, see
# scripts/install-browser.sh; where it cannot be, those tests error saying so).
# The whole suite in parallel and random order, as two shards on this one machine, as a CI
# would split it over jobs (docs/testing.md): the main pass, then the tests that drive inner
# pytest runs or a browser; `golden-path report merge --gate` then gates the union (a failed
# test, an empty coverage cell or a missing BVJ in either fails it) into gp-report/, keeping
# the union as one run of gp-report/history (the last 20 runs: the report's trends). Then the
# conformance suites shipped in the package (golden_path/conformance), each through the command
# a team runs, `golden-path conformance --protocol v1|ag-ui --url URL`: protocol v1 against
# `golden-path serve` in its own process, reached only by URL; AG-UI against a peer no one here
# wrote (examples/agui-pydantic-ai), and against the reference server's own POST /agui
# (golden-path serve, a signed-up user). The scripts start and stop those servers; then
# examples/orders, a team's project with its own schema, JWT settings and server, run from
# its folder twice: its app in-process (gp_app), then as its own process (gp_server_command);
# then examples/support-agent, a team's pydantic-ai agent server (AG-UI, its own tables and
# JWT) whose model is the model at the wire, scripted by each test (gp_model), the same two ways;
# then examples/trips, a product unlike ours (plans free/pro/team, RS256, its own WebSocket
# events and AG-UI endpoint), gated (--gp-gate) on its own plans and stages;
# then the integration and e2e tiers once more on the docker provider, with its own tests, on a
# real engine: Docker if one answers, else podman, provisioned on first use (root on Debian,
# about 75 s once, see scripts/container_engine.sh), its API service alive for that pass only.
DOCKER_TESTS := tests/integration/services/test_docker_provider.py
# The second shard: the tests that drive other processes (inner pytest runs, a browser, the
# model server's CLI and the SDKs' clients, `golden-path load`'s Locust master and workers)
# and the e2e tests that kill, restart or flood a server (recovery, slow readers, hundreds of
# sockets), so each shard stays inside its budget on 2 cores (docs/testing.md).
SLOW_E2E := tests/e2e/test_recovery.py tests/e2e/test_security_slow_reader.py \
	tests/e2e/test_security_limits.py
SECOND_SHARD := tests/integration/harness tests/browser tests/integration/model \
	tests/integration/load $(SLOW_E2E)
test: lint
	@bash scripts/install-browser.sh || echo "make test: Chromium is missing; the browser tests will error" >&2
	@find gp-report -mindepth 1 -maxdepth 1 ! -name history -exec rm -rf {} + 2>/dev/null; status=0; \
	$(BIN)/pytest -n auto --gp-report=gp-report/main --ignore=$(DOCKER_TESTS) \
		$(foreach t,$(SECOND_SHARD),--ignore=$(t)) $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests; the suite is broken" >&2; fi; \
	[ $$status -eq 0 ] || exit $$status; \
	$(BIN)/pytest -n auto --gp-report=gp-report/processes $(SECOND_SHARD) || status=$$?; \
	[ $$status -eq 0 ] || exit $$status; \
	$(BIN)/golden-path report merge gp-report/main gp-report/processes --out gp-report --gate \
		--history gp-report/history
	$(BIN)/python scripts/conformance.py -- -n auto -q
	$(BIN)/python scripts/agui_conformance.py -- -n auto -q
	$(BIN)/python scripts/agui_conformance.py --reference -- -n auto -q
	@echo "make test: examples/orders, a team's own project on the harness: gp_app, then gp_server_command"
	cd examples/orders && $(abspath $(BIN))/pytest -n auto -q
	cd examples/orders && $(abspath $(BIN))/pytest -n auto -q -o gp_app= \
		-o "gp_server_command={python} -m uvicorn orders.app:app --port {port}"
	@echo "make test: examples/support-agent, a team's agent server whose model is gp_model, scripted"
	cd examples/support-agent && $(abspath $(BIN))/pytest -n auto -q
	cd examples/support-agent && $(abspath $(BIN))/pytest -n auto -q -o gp_app= \
		-o "gp_server_command={python} -m uvicorn support.app:app --port {port}"
	@echo "make test: examples/trips, a product unlike ours (its plans, RS256, its events, AG-UI),"
	@echo "  from golden-path's wheel without the [server] extra, gated on its own plans and stages"
	rm -rf $(TRIPS_VENV) && $(PYTHON) -m venv $(TRIPS_VENV)
	$(TRIPS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		--require-hashes --no-deps -r $(TRIPS)/requirements.lock
	$(PIP) wheel --quiet --no-deps --no-build-isolation --wheel-dir $(TRIPS_VENV)/wheel .
	$(TRIPS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
		$(TRIPS_VENV)/wheel/golden_path-*.whl
	$(TRIPS_VENV)/bin/python -m pip check --disable-pip-version-check
	$(TRIPS_VENV)/bin/python -c "import importlib.util as u, sys; \
		found = [m for m in ('fastapi', 'argon2', 'uvloop', 'locust') if u.find_spec(m)]; \
		sys.exit(f'the harness-only install holds {found}' if found else 0)"
	cd $(TRIPS) && $(TRIPS_VENV)/bin/pytest -n auto -q --gp-gate
	rm -rf $(TRIPS_VENV)
	@echo "make test: the docker pass: integration and e2e tiers on --gp-services=docker"
	PYTHON=$(BIN)/python bash scripts/container_engine.sh run -- \
		$(BIN)/pytest -n auto -m "integration or e2e" --gp-services=docker -q \
		--ignore=tests/integration/harness

clean:
	rm -rf $(VENV) $(LATEST) $(TRIPS_VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
