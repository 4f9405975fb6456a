# Two commands set everything up on a fresh machine: `make run` (the demo) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install run test test-embedded test-pgbouncer lint format bench bench-smoke faults faults-short check-deploy clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## The demo, run as production runs (DEBUG off, static files collected into var/ and served by
## WhiteNoise) with the demo hospital in it: migrate, collect static files, seed demo data once,
## then web + Celery worker + beat. Ctrl-C stops all. Links in pages and e-mails point at PORT
## unless HELPDESK_BASE_URL says otherwise.
run: export DJANGO_DEBUG = 0
run: export HELPDESK_DEMO = 1
run: export HELPDESK_BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo
	$(PY) manage.py run_stack --port $(PORT)

## The whole suite, on TEST_WORKERS processes (pytest-xdist; 0 runs it in one). DATABASE_URL /
## CELERY_BROKER_URL point it at PostgreSQL and Redis; HELPDESK_REQUIRE_SERVICES=1 makes a
## missing service fail instead of skip (tests/conftest.py: need()).
TEST_WORKERS ?= 2
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

## The whole suite on the embedded default `make run` ships (SQLite, filesystem broker), whatever
## the environment points at: the PostgreSQL and Redis tests skip, the browser and the tools the
## suite drives (Chromium, git, make, nginx, openssl) must be there.
EMBEDDED_SERVICES ?= chromium,dovecot,git,make,nginx,openssl,slapd
test-embedded:
	env -u DATABASE_URL -u CELERY_BROKER_URL -u CACHE_URL \
	  HELPDESK_REQUIRE_SERVICES=$(EMBEDDED_SERVICES) $(MAKE) test

## The whole suite again with every database connection through a real PgBouncer in transaction
## pooling mode, which the suite starts on a free port in front of DATABASE_URL's server
## (tests/conftest.py; Debian's pgbouncer package). Needs PostgreSQL.
test-pgbouncer:
	HELPDESK_TEST_POOLER=pgbouncer $(MAKE) test

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) -m bench

## A small bench run, so the bench cannot rot: fails when a measure errors, never on timings.
BENCH_SMOKE_ARGS ?= --tickets 2000 --n 5 --warmup 1
bench-smoke: install
	$(PY) -m bench $(BENCH_SMOKE_ARGS)

## The help desk on several processes (2 web, 2 workers, 2 beats, its own Redis and database)
## under load, one fault per scenario, invariants checked by SQL; writes docs/reliability.md.
## DATABASE_URL names the PostgreSQL server (the harness makes and drops helpdesk_faults on it,
## or the name FAULTS_ARGS="--db-name ..." gives); the full run's PostgreSQL restart runs the
## whole stack on a cluster of its own (initdb, /usr/lib/postgresql/15/bin) instead.
faults: install
	$(PY) -m faults $(FAULTS_ARGS)

faults-short: install
	$(PY) -m faults --short $(FAULTS_ARGS)

## Production settings must pass Django's deployment checklist with no warnings.
check-deploy: install
	DJANGO_DEBUG=0 SECRET_KEY=check-deploy-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz \
	  ALLOWED_HOSTS=helpdesk.example.org $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
