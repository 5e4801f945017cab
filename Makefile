# Two entry points do all the set-up on a fresh machine (Python 3.11+, nothing else):
#   make demo   the main job: the golden path, live, on embedded PostgreSQL and Redis
#   make test   lint, type-check and run the whole suite on real services
# Both create .venv and install golden-path with its test extras into it first.

VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3
PYTEST_ARGS ?=

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/golden-path demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The whole suite in parallel, random order, with the BVJ gate and report; then the e2e
# suite again against `golden-path serve` in its own process, reached only by URL; then the
# AG-UI conformance suite against a peer no one here wrote (examples/agui-pydantic-ai).
test: lint
	@status=0; $(BIN)/pytest -n auto --gp-gate --gp-report=gp-report $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests; the suite is broken" >&2; fi; \
	[ $$status -eq 0 ] || exit $$status; \
	$(BIN)/python scripts/conformance.py -- -n auto -q
	$(BIN)/python scripts/agui_conformance.py -- -n auto -q

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
