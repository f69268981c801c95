# Two commands for a fresh machine: `make run` and `make test`. Each installs what it needs by itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.8
SAM_VENV := .venv-sam
PORT ?= 3000
AWS_PORT ?= 4566
export PORT AWS_PORT

.PHONY: help run test checks bench smoke security audit install install-sam install-tools lint typecheck template-check cfn-lint sam-validate \
	checkov build unit clean lock

help:
	@echo "make run    - the whole product locally (http://127.0.0.1:$(PORT))"
	@echo "make test   - lint, type checks, template checks and every test"
	@echo "make checks - lint, type checks and template checks only"
	@echo "make bench  - benchmarks; the last line is one JSON object of figures"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Installs the locked dev dependencies (requirements/dev.txt) and this project in editable mode.
$(VENV)/.installed: requirements/dev.txt pyproject.toml | $(UV)
	$(UV) pip sync --quiet --python $(BIN)/python requirements/dev.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed

# SAM CLI in its own virtual environment: its pins clash with ours.
$(SAM_VENV)/.installed: requirements/sam.txt | $(UV)
	$(PYTHON) -m venv $(SAM_VENV)
	$(UV) pip sync --quiet --python $(SAM_VENV)/bin/python requirements/sam.txt
	touch $@

install-sam: $(SAM_VENV)/.installed

# IaC security scanner (checkov) in its own virtual environment too.
TOOLS_VENV := .venv-tools
$(TOOLS_VENV)/.installed: requirements/tools.txt | $(UV)
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(UV) pip sync --quiet --python $(TOOLS_VENV)/bin/python requirements/tools.txt
	touch $@

install-tools: $(TOOLS_VENV)/.installed

# SAM CLI offline: no telemetry, no instance-metadata lookups, dummy credentials (nothing here calls AWS).
SAM_ENV := env -u AWS_PROFILE -u AWS_SESSION_TOKEN SAM_CLI_TELEMETRY=0 AWS_EC2_METADATA_DISABLED=true \
	AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1

run: install
	$(BIN)/python -m leads_local

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The four template checks are independent: run them side by side (about 60 CPU-seconds in all).
template-check: install install-sam install-tools
	@$(MAKE) --no-print-directory --jobs=4 --output-sync=target cfn-lint sam-validate checkov build

cfn-lint: install
	$(BIN)/cfn-lint template.yaml

sam-validate: install-sam
	$(SAM_ENV) $(SAM_VENV)/bin/sam validate --lint --region us-east-1 --template template.yaml

checkov: install-tools
	$(TOOLS_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

# Lambda packages for arm64/python3.13 through functions/Makefile (no Docker, no local python3.13 needed):
# locked wheels for the target platform, minus what the runtime provides. --cached rebuilds only on change.
# With a CPython 3.13 (PYTHON313, python3.13 on PATH or a pyenv 3.13) the packages hold its bytecode; without
# one they still work, but every cold start compiles its modules (a note is printed per package).
build: install install-sam
	$(SAM_ENV) UV=$(abspath $(UV)) $(SAM_VENV)/bin/sam build --template template.yaml --cached
	@for pair in SubmitConsultationFunction:submit_consultation SendAlertsFunction:send_alerts \
	  CheckSubscriptionsFunction:check_subscriptions ReplayAlertsFunction:replay_alerts StaffApiFunction:staff_api \
	  SweepLeadsFunction:sweep_leads; do \
	  fn=$${pair%%:*}; pkg=$${pair#*:}; dir=.aws-sam/build/$$fn; \
	  test -f $$dir/leads_core/__init__.py && test -f $$dir/$$pkg/app.py \
	    && ls $$dir/pydantic_core/*cpython-313-aarch64-linux-gnu.so >/dev/null \
	    && ! test -e $$dir/botocore && ! test -e $$dir/leads_ops && ! test -e $$dir/leads_cli \
	    && test "$$(ls -d $$dir/submit_consultation $$dir/send_alerts $$dir/check_subscriptions $$dir/replay_alerts $$dir/staff_api $$dir/sweep_leads 2>/dev/null | wc -l)" = 1 \
	    && { test $$pkg != staff_api || test -f $$dir/web/staff/index.html -a -f $$dir/web/staff/console.js -a -f $$dir/web/staff/console.css; } \
	    || { echo "build: $$dir is not an arm64/python3.13 package of leads_core and $$pkg only (no botocore, no ops code; the staff function with web/staff)" >&2; exit 1; }; \
	  ls $$dir/leads_core/__pycache__/__init__.cpython-313.pyc >/dev/null 2>&1 \
	    || echo "build: $$dir has no CPython 3.13 bytecode (set PYTHON313): every cold start compiles its modules" >&2; \
	  du -sh $$dir; done

# axe-core for the browser tests' accessibility checks, locked in tests/browser/package-lock.json (npm ci).
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	touch $@

# Two workers (the machines have 2 cores); the ten slowest tests are listed at the end.
unit: install $(AXE)
	$(BIN)/pytest -n 2 --cov --cov-report=term --durations=10

# The tests take both cores, so the lint, type and template checks run beside them under `nice`: they use the
# CPU the tests leave idle (tests waiting on time-outs, sleeps and child processes) and the tests keep priority.
# Their output follows the tests' (the log is in $(CHECKS_LOG)); `make test` fails when either part fails.
CHECKS_LOG := $(VENV)/checks.log
test: install $(AXE)
	@{ nice -n 10 $(MAKE) --no-print-directory checks > $(CHECKS_LOG) 2>&1; echo $$? > $(CHECKS_LOG).status; } & \
	$(MAKE) --no-print-directory unit; unit=$$?; wait; checks=$$(cat $(CHECKS_LOG).status); \
	echo "== lint, type and template checks (run beside the tests): exit $$checks =="; cat $(CHECKS_LOG); \
	test $$checks = 0 || echo "make test: the lint, type or template checks failed (above)" >&2; \
	test $$unit = 0 || echo "make test: the tests failed (above the checks' output)" >&2; \
	test $$unit = 0 -a $$checks = 0

checks: lint typecheck template-check

bench: install
	$(BIN)/python -m benchmarks

# After a deploy: the main paths of the deployed stack, end to end (never part of make test; needs AWS credentials).
smoke: install
	@test -n "$(STACK)" || { echo "usage: make smoke STACK=<stack name> [REGION=<region>]" >&2; exit 2; }
	$(BIN)/leads smoke --stack "$(STACK)" $(if $(REGION),--region "$(REGION)")

# bandit on functions/ and infrastructure/: every finding justified (also run by make test, tests/reliability).
security: install
	$(BIN)/python -m tests.reliability.security bandit

# pip-audit of the locks; needs PyPI's JSON API. Exit 1: known vulnerabilities; exit 3: AUDIT INCOMPLETE
# (packages the index cannot describe, or no network). Not part of make test: see docs/performance.md.
audit: install
	$(BIN)/python -m tests.reliability.security audit

# Re-lock after editing requirements/*.in (Lambda package: python3.13 on arm64).
lock: | $(UV)
	$(UV) pip compile --quiet --no-header --python-version 3.13 --python-platform aarch64-manylinux2014 requirements/runtime.in -o functions/requirements.txt
	$(UV) pip compile --quiet --python-version 3.11 requirements/dev.in -o requirements/dev.txt
	$(UV) pip compile --quiet --python-version 3.11 requirements/sam.in -o requirements/sam.txt
	$(UV) pip compile --quiet --python-version 3.11 requirements/tools.in -o requirements/tools.txt

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
