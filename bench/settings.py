"""The product's settings as production runs them (``DJANGO_DEBUG=0``), plus what a benchmark run
needs: the bench URLconf, a fast password hasher, a local mail outbox and a private Celery queue.

``bench.harness`` sets the environment before Django imports this module: ``DATABASE_URL`` (the
throwaway database, or unset for a temporary SQLite file), ``HELPDESK_VAR_DIR`` (a temporary
directory, so the SQLite file, the filesystem broker and ``STATIC_ROOT`` are the run's own) and
``DJANGO_DEBUG``. The defaults below apply when the module is imported some other way.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
# The rate limits count every timed call, so their cost is in the figures; at these rates they
# never refuse one (a measure files and reads thousands of times a minute as one person).
os.environ.setdefault("HELPDESK_API_TOKEN_RATE", "1000000/minute")
os.environ.setdefault("HELPDESK_FILING_RATE", "1000000/hour")

from helpdesk.settings import *  # noqa: F403
from helpdesk.settings import LOGGING, STORAGES

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

# Seeded users get MD5 hashes: seeding stays fast, and no request in the bench checks a password.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Production serves collected, hashed files; the bench has no collectstatic step, so {% static %}
# resolves plain URLs (a dictionary lookup either way; no bench request fetches a static file).
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False

# Filing enqueues its notification after commit, as in production; nothing runs it (but the worker
# page_latency starts). The broker is the filesystem one under the run's HELPDESK_VAR_DIR unless
# CELERY_BROKER_URL names Redis (the harness sets a bench-only Redis database when page_latency
# runs); the queue has its own name so that a worker on the same Redis never takes the bench's
# messages.
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = "helpdesk-bench"

# The filesystem transport has no host; kombu says so on every connection. The console paging
# channel logs every page at WARNING on "helpdesk.pages" (a breach sweep pages a thousand
# technicians), and the sweep logs a line per sweep that did work: muted, here and in the worker.
LOGGING = {
    **LOGGING,
    "loggers": {
        **LOGGING["loggers"],
        "kombu.connection": {"level": "ERROR"},
        "helpdesk.pages": {"level": "ERROR"},
        "tickets.sweep": {"level": "WARNING"},
    },
}
