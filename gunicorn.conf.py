"""Gunicorn's settings, for every way the help desk runs: `make run`, the image and compose.

Read with ``gunicorn -c gunicorn.conf.py helpdesk.wsgi:application``; each value can be changed
from the environment. A malformed number stops start-up with a message.

Slow clients. A threaded (gthread) worker gives a connection a thread as soon as it is readable
and then reads the request head and any unread body with a blocking socket and no timeout: a
client that sends half a head, or a pooled client whose PUT got an early 404 and then reuses the
connection, holds that thread until it goes away, and a handful of them freeze the app. The
gevent worker reads every connection in a greenlet of its own, so such clients cost a greenlet
each and everyone else is still served. It is the default here, for `make run` and anything
else that faces clients directly. Behind the nginx of docker-compose.yml (which reads whole
requests before passing them on) the threaded worker is safe again and compose chooses it.
tests/core/test_run_stack.py measures both.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import gunicorn.http.wsgi


def _env_int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < minimum:
        raise SystemExit(f"{name} must be a whole number of at least {minimum}, not {raw!r}")
    return int(raw)


WORKER_CLASSES = ("gevent", "gthread")

bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent").strip() or "gevent"
if worker_class not in WORKER_CLASSES:
    raise SystemExit(f"GUNICORN_WORKER_CLASS must be one of {', '.join(WORKER_CLASSES)}")
workers = _env_int("GUNICORN_WORKERS", 2)
threads = _env_int("GUNICORN_THREADS", 4)  # gthread only
# gevent: connections one worker holds at once, idle keep-alive and slow clients included.
worker_connections = _env_int("GUNICORN_WORKER_CONNECTIONS", 500)

# An idle keep-alive connection is closed after this many seconds.
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
# A worker silent this long is restarted; a request is never allowed to take this long.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 10)
# Heads larger than any browser or integration sends are refused with 400 before Django runs.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# X-Forwarded-Proto/-For are believed only from these addresses (the proxy in compose).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# One line per request, without the query string: a search (?q=) can hold what a nurse typed.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

# The Server header names the product, not the web server and its version. Gunicorn has no
# setting for it; the header is written from this module-level name.
gunicorn.http.wsgi.SERVER = "helpdesk"


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """Under gevent every request runs in a greenlet of its own, so a database connection kept
    for reuse would never be reused, only left open: close it when the request ends."""
    if worker_class == "gevent":
        from django.db import connections

        connections.close_all()


def post_fork(server: Any, worker: Any) -> None:
    """Under gevent, PostgreSQL waits yield to other requests instead of blocking the worker."""
    if worker_class == "gevent":
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()


def post_worker_init(worker: Any) -> None:
    """Load every URL pattern (and so every view module) before the first request, instead of
    during it: under gevent that first request would hold up every other one in the worker."""
    from django.urls import Resolver404, resolve

    with contextlib.suppress(Resolver404):
        resolve("/")
