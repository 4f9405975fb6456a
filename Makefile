# Two commands set everything up on a fresh machine: `make run` (the demo) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install run test lint format bench check-deploy clean

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

## The whole suite. DATABASE_URL / CELERY_BROKER_URL point it at PostgreSQL and Redis.
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) -m bench

## Production settings must pass Django's deployment checklist with no warnings.
check-deploy: install
	DJANGO_DEBUG=0 SECRET_KEY=check-deploy-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz \
	  ALLOWED_HOSTS=helpdesk.example.org $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
