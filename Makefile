# Needs only python3 (3.11+) and make. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# pytest-xdist workers for `make test` (logical: one per CPU the tests may use); 0 runs in one process.
PYTEST_WORKERS ?= logical

MSG_IGNORE := --ignore=.venv --ignore=var --ignore=node_modules --ignore=build --ignore=tests \
	--ignore=bench --ignore=docs

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt messages bench clean

help:
	@echo "make run       install, migrate, collect the static files, load the demo, start web + worker + beat"
	@echo "               on http://127.0.0.1:8000/"
	@echo "make test      install, run the tests in parallel (PYTEST_ARGS='-k name' to narrow,"
	@echo "               PYTEST_ARGS='-m bench' for the benchmarks' smoke test, PYTEST_WORKERS=0 serial)"
	@echo "make lint      ruff check, ruff format --check, mypy, import contracts (lint-imports)"
	@echo "make fmt       ruff fix and format"
	@echo "make messages  extract and compile translations (fr, es); needs gettext"
	@echo "make bench     run the benchmarks"
	@echo "make clean     remove the venv, var/ and caches"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[test,dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	@# With DEBUG=0 pages name their static files from the manifest collectstatic writes.
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py load_demo --if-empty
	@echo ""
	@echo "  Policy tracker: http://127.0.0.1:8000/"
	@echo ""
	@echo "  Demo logins (password: demo)"
	@echo "  username  organisation         roles"
	@echo "  claire    France               drafter, representative (presidency)"
	@echo "  youssef   Morocco              drafter, representative"
	@echo "  lena      Luxembourg           representative"
	@echo "  andres    Ecuador              representative"
	@echo "  camila    Colombia             representative"
	@echo "  gabriel   Quebec (observer)    drafter"
	@echo "  rita      Mont-Blanc Meetings  reviewer"
	@echo "  ines      AIM                  reviewer"
	@echo "  sam       Mont-Blanc Meetings  secretariat"
	@echo "  admin     -                    superuser"
	@echo ""
	@echo "  sam and admin also type a code: add the secret POLICYTRACKERDEMOTOTPSECRET23456"
	@echo "  to an authenticator app, or print the current code with"
	@echo "  $(BIN)/python -c 'from base64 import b32decode as d; from django_otp.oath import totp; print(\"%06d\" % totp(d(\"POLICYTRACKERDEMOTOTPSECRET23456\")))'"
	@echo ""
	exec $(BIN)/honcho -f Procfile.dev start

# PYTHONDONTWRITEBYTECODE is dropped for the tests: pytest keeps its rewritten test modules (and
# the packages of plugins such as Faker) only where Python may write bytecode, and without that
# cache every worker rewrites them again, seconds each.
test: $(STAMP)
	@env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit 5): that is a failure"; fi; \
	exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l fr -l es $(MSG_IGNORE)
	$(BIN)/python manage.py compilemessages -l fr -l es $(MSG_IGNORE)

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache *.egg-info build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
