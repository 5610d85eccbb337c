# Two commands: `make run` (the whole site with demo data) and `make test` (the
# whole suite). Each sets itself up on a fresh machine with only Python 3.11+.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-local
PYTEST_BROWSER_ARGS ?=
# Test processes (pytest-xdist), each on its own copy of the test database.
# Three on two cores: a fifth of the suite waits on processes it started.
TEST_WORKERS ?= 3
BROWSER_TEST_WORKERS ?= 2
# Some machines set PYTHONDONTWRITEBYTECODE; then every Python process compiles
# every module it imports again (measured: 31 s of a 57 s `django.setup()`
# under load, about 10 s of CPU for each Celery worker, Daphne or interpreter a
# test starts). The two commands keep the compiled modules, as Python does by
# default; __pycache__ is ignored by git.
unexport PYTHONDONTWRITEBYTECODE
# uv installs the pinned requirements in seconds where pip takes minutes; pip
# is the fallback (say, an index only pip's configuration knows).
UV_VERSION := 0.13.10

.PHONY: run test test-stripe lint format schema e2e db-stop clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Agentry needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changed.
$(STAMP): $(BIN)/python requirements/base.txt requirements/local.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/local.txt \
	  || $(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/local.txt
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m config.devserver

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -m "not e2e" -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)
	$(BIN)/python -m tests.e2e.ensure_browser
	$(BIN)/python -m pytest -m e2e -n $(BROWSER_TEST_WORKERS) $(PYTEST_ARGS)

# Opt-in: billing against Stripe's real test mode (needs internet and a key):
#   STRIPE_TESTMODE_SECRET_KEY=sk_test_... make test-stripe
test-stripe: $(STAMP)
	$(BIN)/python -m pytest tests/billing/test_stripe_testmode.py -rs $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# The API's OpenAPI schema, kept in docs/openapi.json: a test fails when the
# code's schema differs, so a change to the API regenerates it on purpose.
schema: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py spectacular \
	  --format openapi-json --file docs/openapi.json

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

db-stop: $(STAMP)
	$(BIN)/python -m config.embedded_db stop

clean: db-stop
	rm -rf .data/postgres-test .pytest_cache
