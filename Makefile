# The one task-runner file. `make run` and `make test` are the README's two
# commands; CI (.ci/run) calls `make test`, `make test-postgres` and then
# `make test-replica`.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
# A streaming replica of PG_URL's server replicates every database in it, so
# the replica's URL names the same database.
REPLICA_PORT ?= 5433
REPLICA_URL ?= postgres://postgres@127.0.0.1:$(REPLICA_PORT)/$(notdir $(PG_URL))

# Django 6.1 needs Python >= 3.12. Use the first interpreter that really runs
# and is new enough: $PYTHON if given, versioned names on PATH, then pyenv's
# installed versions (pyenv shims for unselected versions refuse to run, and
# the check below skips them).
PYTHON_CANDIDATES = $(PYTHON) python3.14 python3.13 python3.12 python3 \
	$(sort $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python))
FIND_PYTHON = for p in $(PYTHON_CANDIDATES); do \
	  if "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo "$$p"; exit 0; fi; \
	done; echo "No Python >= 3.12 found. Install one, or run: make PYTHON=/path/to/python3.12 ..." >&2; exit 1

.PHONY: help install run dev test test-quick test-postgres test-replica screenshots messages lint format check bench bench-http bench-instructions bench-xlsx eval-check check-model cluster cluster-stop fault-test fault-test-short clean

help:
	@echo "make run            install, migrate, load sample data and articles, serve http://127.0.0.1:$(PORT)/"
	@echo "make dev            debug-mode development server (no sample data loaded)"
	@echo "make test           install and run the test suite (SQLite), browser tests included"
	@echo "make test-quick     the suite without the browser tests"
	@echo "make screenshots    the browser tests' screenshots, written to docs/screenshots/"
	@echo "make messages       update the translation catalogues (locale/); needs gettext"
	@echo "make test-postgres  the suite against PostgreSQL (PG_URL=$(PG_URL))"
	@echo "make test-replica   the read-replica tests against a streaming replica of it (port $(REPLICA_PORT))"
	@echo "make lint | format | check | bench"
	@echo "make bench-http     HTTP load on gunicorn with wrk (BENCH_ARGS=\"--agencies 20000 --db sqlite\")"
	@echo "                   --peer: each workload against Datasette on the same data, e.g."
	@echo "                   BENCH_ARGS=\"--peer --db postgres --agencies 1000000 --reuse\""
	@echo "make bench-instructions  instructions per request in process, callgrind (BENCH_ARGS=\"--db postgres --workload api_phone\")"
	@echo "make eval-check     the message check's precision and recall on tests/data/check (BENCH_ARGS=\"--db postgres\")"
	@echo "make check-model    retrain the message check's clause model on tuning.yaml (agencies/check/model.json, ~1 min)"
	@echo "make bench-xlsx     import_agencies on a 100,000-row .xlsx workbook, SQLite (BENCH_ARGS=\"--compare-jsonl\")"
	@echo "make cluster        nginx, two gunicorn instances, PostgreSQL primary + replica, Redis on this machine (https://127.0.0.1:8443/)"
	@echo "make cluster-stop   stop all of it and remove its folder"
	@echo "make fault-test     faults under load on the cluster, ~30 min; writes docs/reliability.md (FAULT_ARGS=\"--soak-minutes 5\")"
	@echo "make fault-test-short  the same, a few seconds a step (~4 min, CI)"

# Re-install only when the lock file changes.
$(VENV)/.installed: requirements.lock
	@test -x $(PY) || { py=$$($(FIND_PYTHON)) && echo "Creating $(VENV) with $$py" && "$$py" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	@touch $@

# Local settings: a generated secret key, so manage.py works with debug off
# (the default). Git-ignored; never overwritten.
.env: | $(VENV)/.installed
	@echo "Writing .env with a new secret key (see .env.example for the other settings)."
	@printf '# Local settings, read by portal/settings.py. See .env.example.\nDJANGO_SECRET_KEY=%s\n' \
	  "$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@

install: $(VENV)/.installed .env

# The demo runs as production does: gunicorn (portal/gunicorn.conf.py), debug
# off, hashed static files, the real error pages, no query strings in the
# access log. Plain HTTP (no redirect, no secure-only admin cookies) since it
# only listens on 127.0.0.1. `make dev` is the debug-mode server.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_sample
	$(PY) manage.py sync_articles
	DJANGO_DEBUG=false $(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Serving http://127.0.0.1:$(PORT)/ with gunicorn (Ctrl-C stops)"
	@DJANGO_DEBUG=false DJANGO_SECURE_SSL_REDIRECT=false DJANGO_SECURE_COOKIES=false \
	  GUNICORN_BIND=127.0.0.1:$(PORT) $(VENV)/bin/gunicorn -c portal/gunicorn.conf.py portal.wsgi

dev: install
	DJANGO_DEBUG=true $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=true $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Browser tests (tests/browser) need Debian's Chromium (apt-get install chromium
# fonts-noto-cjk); without it they are skipped, with the reason, unless
# PORTAL_REQUIRE_BROWSER is set, as .ci/run does.
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-quick: install
	$(PY) -m pytest -m "not browser" $(PYTEST_ARGS)

screenshots: install
	PORTAL_SCREENSHOTS=1 PORTAL_REQUIRE_BROWSER=1 $(PY) -m pytest tests/browser/test_screenshots.py $(PYTEST_ARGS)

test-postgres: install
	DATABASE_URL=$(PG_URL) $(PY) -m pytest $(PYTEST_ARGS)

# Starts a streaming replica of the PostgreSQL on 127.0.0.1:5432
# (scripts/pg-replica.sh), runs the tests marked `replica` against primary and
# replica, and stops and removes the replica however the tests end.
test-replica: install
	@trap 'REPLICA_PORT=$(REPLICA_PORT) scripts/pg-replica.sh stop' EXIT; \
	REPLICA_PORT=$(REPLICA_PORT) scripts/pg-replica.sh start && \
	REPLICA_TEST_URL=$(REPLICA_URL) DATABASE_URL=$(PG_URL) DATABASE_REPLICA_URLS=$(REPLICA_URL) \
	  $(PY) -m pytest -m replica $(PYTEST_ARGS)

# The UI's strings are written in Simplified Chinese. The Traditional catalogue
# is generated from them with OpenCC (manage.py traditional_catalogue; reviewed
# entries are kept) and compiled; the .po and .mo files are committed, so
# running the site needs no gettext.
MESSAGE_IGNORES = --ignore=staticfiles --ignore=tests --ignore=bench --ignore=docs --ignore=scripts
messages: install
	$(PY) manage.py makemessages -l zh_Hant -l en --no-obsolete --no-location $(MESSAGE_IGNORES)
	$(PY) manage.py traditional_catalogue
	@# English is written by hand: new and changed strings come out empty or
	@# fuzzy in locale/en; translate them, then run `make messages` again.
	$(PY) manage.py compilemessages -l zh_Hant -l en --ignore=$(VENV)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: install lint
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

bench: install
	$(PY) bench/run.py $(BENCH_ARGS)

# Precision and recall of the message check, per signal, on the tuning and
# held-out halves of tests/data/check; see docs/benchmarks.md.
eval-check: install
	$(PY) bench/eval_check.py $(BENCH_ARGS)

# The message check's clause model, from tests/data/check/tuning.yaml alone:
# cross-validates, prints the threshold it chose, writes agencies/check/model.json.
check-model: install
	$(PY) bench/train_check_model.py $(BENCH_ARGS)

# Fails under 5,000 rows/s (--min-rate); see docs/benchmarks.md.
bench-xlsx: install
	$(PY) bench/import_xlsx.py $(BENCH_ARGS)

# Not part of the test run: minutes of load on 127.0.0.1. Needs wrk
# (apt-get install wrk); see docs/benchmarks.md. --peer also installs
# Datasette (bench/peer-requirements.txt, hashed) into bench/out/datasette-venv.
bench-http: install
	@command -v wrk >/dev/null || { echo "bench-http needs wrk: apt-get install wrk" >&2; exit 1; }
	$(PY) bench/http_load.py $(BENCH_ARGS)

# Instructions per request in process under callgrind (needs valgrind): the
# same for the same code whatever else the machine does. Uses the database and
# URL lists bench-http left, e.g. BENCH_ARGS="--db postgres --workload api_phone".
bench-instructions: install
	@command -v valgrind >/dev/null || { echo "bench-instructions needs valgrind: apt-get install valgrind" >&2; exit 1; }
	$(PY) bench/instructions.py $(BENCH_ARGS)

# The production topology on one machine (scripts/cluster.sh; docs/deploy.md):
# nginx on 127.0.0.1:8080/8443, gunicorn on 8101 and 8102, PostgreSQL on 5442
# with a replica on 5443, Redis on 6390, all in one folder under $TMPDIR or /tmp.
# Run as root (PostgreSQL then runs as postgres) or as a user who may run
# PostgreSQL's programs. Needs: apt-get install nginx redis-server postgresql
# gettext-base openssl curl.
cluster: install
	scripts/cluster.sh start

cluster-stop:
	scripts/cluster.sh stop

# Faults under a steady load (scripts/fault_test.py, wrk on 127.0.0.1 only);
# every target asserted, exit 1 on a miss. The full run soaks for 20 minutes
# and writes its table into docs/reliability.md; the short one (CI) writes
# bench/out/fault-short.md only. Either stops the cluster however it ends.
FAULT_TOOLS = command -v wrk >/dev/null && command -v nginx >/dev/null || \
	{ echo "the fault test needs wrk and nginx: apt-get install wrk nginx" >&2; exit 1; }
fault-test: install
	@$(FAULT_TOOLS)
	@trap 'scripts/cluster.sh stop >/dev/null 2>&1 || true' EXIT; \
	$(PY) scripts/fault_test.py --report docs/reliability.md $(FAULT_ARGS)

fault-test-short: install
	@$(FAULT_TOOLS)
	@trap 'scripts/cluster.sh stop >/dev/null 2>&1 || true' EXIT; \
	$(PY) scripts/fault_test.py --short $(FAULT_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
