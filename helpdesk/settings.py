"""Settings for the hospital IT help desk.

One file, read from the environment. The defaults run on a bare machine (SQLite in WAL mode and a
filesystem Celery broker under ``var/``); production sets ``DJANGO_DEBUG=0``, ``SECRET_KEY``,
``DATABASE_URL`` and ``CELERY_BROKER_URL``. A malformed value stops the process at start-up with a
message naming the variable, rather than running with a guess.
"""

from __future__ import annotations

import os
import re
import secrets
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
import django_stubs_ext
import ldap
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django_auth_ldap.config import (
    ActiveDirectoryGroupType,
    GroupOfNamesType,
    LDAPGroupType,
    LDAPSearch,
    NestedActiveDirectoryGroupType,
    NestedGroupOfNamesType,
)

# Lets admin and form classes be written with their type parameters (admin.ModelAdmin[Ticket]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HELPDESK_VAR_DIR", BASE_DIR / "var")).resolve()


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_base_url(name: str, default: str) -> str:
    raw = os.environ.get(name) or default
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name} must be the address people reach the help desk at, such as "
            f"https://helpdesk.hospital.org, not {raw!r}"
        )
    return raw.rstrip("/")


def host_of(url: str) -> str:
    """The ``Host`` a browser sends for ``url``, as ALLOWED_HOSTS spells it."""
    hostname = urlsplit(url).hostname or ""
    return f"[{hostname}]" if ":" in hostname else hostname


def demo_secret_key(path: Path) -> str:
    """A demo installation's signing key: made at the first start and kept in ``path``, so that
    sessions survive a restart and the web app, the worker and beat sign alike. The first process
    to link its draft in place wins; every process then reads the same key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        # Readable by its owner only, from the moment it exists.
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


DEBUG = env_bool("DJANGO_DEBUG", True)
# Demo accounts and demo data exist only where they are asked for: a debug checkout, or an
# installation that says HELPDESK_DEMO=1 on purpose (`make run` does: production settings with the
# demo hospital in them).
DEMO_MODE = env_bool("HELPDESK_DEMO", DEBUG)
# Where links in e-mails and pages point: the address staff reach the help desk at.
BASE_URL = env_base_url("HELPDESK_BASE_URL", "http://127.0.0.1:8000")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "django-insecure-local-development-only-" + "x" * 32
    elif DEMO_MODE:
        SECRET_KEY = demo_secret_key(VAR_DIR / "demo-secret-key")
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DJANGO_DEBUG=0 (only a demo, HELPDESK_DEMO=1, makes one)"
        )

# A demo answers on this machine's own names and on the host of its base URL.
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    list(dict.fromkeys(["127.0.0.1", "localhost", "[::1]", host_of(BASE_URL)]))
    if DEBUG or DEMO_MODE
    else [],
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "pgtrigger",
    "helpdesk",
    "core",
    "audit",
    "departments",
    "oncall",
    "tickets",
    "reports",
    "intake",
    "incidents",
    "demo",
]

MIDDLEWARE = [
    "helpdesk.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, whose static files keep their long caching.
    "helpdesk.middleware.NoStoreMiddleware",
    # Before anything that reads the database (the session, the user): a clear 503 while it is
    # down.
    "helpdesk.middleware.DatabaseAvailabilityMiddleware",
    "helpdesk.middleware.IdleAwareSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so that a locked-out user never reaches a view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
# Form widgets render from templates/ too (the category tiles).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "helpdesk.wsgi.application"

TEMPLATES = [
    # Every page of the project is Jinja2 (see helpdesk/jinja.py); Django's engine is there for the
    # admin's own templates.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "helpdesk.jinja.environment",
            "context_processors": [
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "helpdesk.context_processors.helpdesk",
                # The incident and downtime banner: open major incidents and planned downtimes
                # for this person, held in the process with the reference rows.
                "incidents.context_processors.banner",
            ],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# What sits between the help desk and PostgreSQL: nothing, or PgBouncer in transaction pooling
# mode (docs/deployment.md, "PgBouncer").
DATABASE_POOLERS = ("", "pgbouncer")


def database_pooler() -> str:
    pooler = env_str("DATABASE_POOLER", "").strip().lower()
    if pooler not in DATABASE_POOLERS:
        raise ImproperlyConfigured(
            f"DATABASE_POOLER must be pgbouncer or empty (a direct connection), not {pooler!r}"
        )
    return pooler


def postgres_database(name: str, url: str, *, pooler: str) -> dict[str, Any]:
    """The DATABASES entry for the PostgreSQL ``url`` (read from the variable ``name``)."""
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a database URL: {exc}") from None
    if config["ENGINE"] != "django.db.backends.postgresql":
        return config
    config["CONN_HEALTH_CHECKS"] = True
    config.setdefault("OPTIONS", {})["connect_timeout"] = 5
    if pooler == "pgbouncer":
        # Transaction pooling hands each transaction to whichever server connection is free:
        # a cursor declared by one statement is gone for the next (the CSV exports read with
        # .iterator(), which then fetches on the client), and PgBouncer refuses the "options"
        # start-up parameter, so jit and work_mem are set on the role instead (deployment.md).
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        # Reports aggregate a quarter of a million rows; compiling them with JIT costs more
        # than running them, and their percentile sorts should stay in memory.
        config["OPTIONS"]["options"] = "-c jit=off -c work_mem=16MB"
    return config


def _database_from_env(pooler: str) -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        return postgres_database("DATABASE_URL", url, pooler=pooler)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "helpdesk.sqlite3"),
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so the web process and the Celery worker
            # queue up for it instead of failing with "database is locked" half-way through.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        },
    }


def replica_database(url: str, *, pooler: str) -> dict[str, Any]:
    """The ``replica`` alias: a streaming replica of the primary, read by the reports only
    (core/replicas.py). The suite's test database mirrors the primary's."""
    config = postgres_database("DATABASE_REPLICA_URL", url, pooler=pooler)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URL must be a PostgreSQL URL (postgres://...), not {url!r}"
        )
    config["TEST"] = {"MIRROR": "default"}
    return config


DATABASE_POOLER = database_pooler()
DATABASES = {"default": _database_from_env(DATABASE_POOLER)}
# Optional: a streaming replica for the reports, which tolerate a second of lag. Writes and every
# other read stay on the primary.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL on PostgreSQL")
    DATABASES["replica"] = replica_database(DATABASE_REPLICA_URL, pooler=DATABASE_POOLER)
DATABASE_ROUTERS = ["core.replicas.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Answers only single sign-on's callback, and only when HELPDESK_OIDC_ISSUER is set.
    "departments.oidc.OidcBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Shared workstations: a session ends after 15 idle minutes. Every request renews it, and the
# page warns two minutes before the end with a button to stay signed in.
SESSION_ENGINE = "core.sessions"
SESSION_COOKIE_AGE = env_int("HELPDESK_IDLE_TIMEOUT_SECONDS", 15 * 60, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Lock out a (username, IP) pair after 5 failures for 15 minutes: a ward of nurses behind one
# NAT address must not be locked out together because one of them mistyped.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("HELPDESK_TIME_ZONE", "America/Chicago")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"HELPDESK_TIME_ZONE is not a known time zone: {TIME_ZONE!r}"
    ) from None

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# A debug checkout serves static files straight from static/ through WhiteNoise. Otherwise, the
# demo included, they are collected (hashed names, compressed) and served with far-future caching.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    # Production is served over HTTPS. A demo is too when its base URL says so; `make run`'s demo
    # on http://127.0.0.1 is not, and must not redirect to an address nobody answers on.
    _https = not DEMO_MODE or BASE_URL.startswith("https://")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
    SECURE_HSTS_PRELOAD = _https
    SESSION_COOKIE_SECURE = _https
    CSRF_COOKIE_SECURE = _https

# A demo prints its e-mails in the terminal: it has no mail server to send them to.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG or DEMO_MODE
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "IT Service Desk <servicedesk@localhost>")


def _oidc_from_env() -> dict[str, Any] | None:
    """Single sign-on with the hospital's OpenID Connect provider (departments/oidc.py), on when
    HELPDESK_OIDC_ISSUER is set. The provider's endpoints come from its discovery document at
    the first sign-in, never at start-up: a provider that is down must not stop the help desk."""
    issuer = env_str("HELPDESK_OIDC_ISSUER", "").strip().rstrip("/")
    if not issuer:
        return None
    if urlsplit(issuer).scheme not in {"http", "https"} or not urlsplit(issuer).hostname:
        raise ImproperlyConfigured(
            "HELPDESK_OIDC_ISSUER must be the provider's issuer URL, such as "
            f"https://login.microsoftonline.com/<tenant id>/v2.0, not {issuer!r}"
        )
    config: dict[str, Any] = {
        "ISSUER": issuer,
        "CLIENT_ID": env_str("HELPDESK_OIDC_CLIENT_ID", ""),
        "CLIENT_SECRET": env_str("HELPDESK_OIDC_CLIENT_SECRET", ""),
        "SCOPES": env_str("HELPDESK_OIDC_SCOPES", "openid email profile"),
        "USERNAME_CLAIM": env_str("HELPDESK_OIDC_USERNAME_CLAIM", "preferred_username"),
        "EMAIL_CLAIM": env_str("HELPDESK_OIDC_EMAIL_CLAIM", "email"),
        "NAME_CLAIM": env_str("HELPDESK_OIDC_NAME_CLAIM", "name"),
        "GROUPS_CLAIM": env_str("HELPDESK_OIDC_GROUPS_CLAIM", "groups"),
        "DEPARTMENT_CLAIM": env_str("HELPDESK_OIDC_DEPARTMENT_CLAIM", ""),
        "PHONE_CLAIM": env_str("HELPDESK_OIDC_PHONE_CLAIM", "phone_number"),
        "CLOCK_SKEW_SECONDS": env_int("HELPDESK_OIDC_CLOCK_SKEW_SECONDS", 120),
        "TIMEOUT_SECONDS": env_int("HELPDESK_OIDC_TIMEOUT_SECONDS", 5, minimum=1),
        "PROMPT": env_str("HELPDESK_OIDC_PROMPT", ""),
    }
    for name in ("CLIENT_ID", "CLIENT_SECRET"):
        if not config[name]:
            raise ImproperlyConfigured(
                f"HELPDESK_OIDC_{name} must be set with HELPDESK_OIDC_ISSUER"
            )
    if "openid" not in config["SCOPES"].split():
        raise ImproperlyConfigured("HELPDESK_OIDC_SCOPES must include openid")
    if config["PROMPT"] not in {"", "login", "select_account", "consent"}:
        raise ImproperlyConfigured(
            "HELPDESK_OIDC_PROMPT must be login, select_account or consent (or empty), "
            f"not {config['PROMPT']!r}"
        )
    return config


HELPDESK_OIDC = _oidc_from_env()
# How often (minutes) the provider is asked about each single sign-on session it gave a refresh
# token for: a person it refuses (disabled, removed, tokens revoked) is signed out here. Asked by
# the beat (departments.oidc.check_oidc_sessions), never per page.
HELPDESK_OIDC_RECHECK_MINUTES = env_int("HELPDESK_OIDC_RECHECK_MINUTES", 10, minimum=1)
# mozilla-django-oidc: the authorization code flow with PKCE (S256), state and nonce; ID tokens
# signed with RS256 only.
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True

# Celery. Task arguments are ids only, so JSON is all the serialisation needed. The broker
# timeouts are short: filing a ticket must never wait long on a broker that is down or hung (one
# timeout per request at most, see tickets/enqueue.py); rows in the database are the outbox and
# the beat sweep picks up anything that did not make it.
BROKER_TIMEOUT_SECONDS = 0.2
BROKER_FAIL_FAST_OPTIONS: dict[str, Any] = {
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_timeout": BROKER_TIMEOUT_SECONDS,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "visibility_timeout": 3600,
}
_broker_dir = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = dict(BROKER_FAIL_FAST_OPTIONS)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 30
CELERY_TASK_TIME_LIMIT = 60
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = TIME_ZONE
SLA_SWEEP_SECONDS = env_int("HELPDESK_SWEEP_SECONDS", 30, minimum=5)
CELERY_BEAT_SCHEDULE: dict[str, Any] = {
    "sla-sweep": {
        "task": "tickets.tasks.sla_sweep",
        "schedule": SLA_SWEEP_SECONDS,
        # A sweep that could not start in time is dropped; the next one does its work.
        "options": {"expires": SLA_SWEEP_SECONDS},
    },
    # Major incidents: clusters of tickets raise an alert, missed update times remind the
    # commander, unsent notices go again; at the SLA sweep's cadence.
    "incident-sweep": {
        "task": "incidents.tasks.incident_sweep",
        "schedule": SLA_SWEEP_SECONDS,
        "options": {"expires": SLA_SWEEP_SECONDS},
    },
    # Every night: accounts the directory no longer has, or has disabled, lose their access
    # (departments/directory.py). Does nothing without a directory configured.
    "directory-leavers": {
        "task": "departments.tasks.check_directory_leavers",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 6 * 3600},
    },
}
# Every minute: the single sign-on sessions not asked about for HELPDESK_OIDC_RECHECK_MINUTES
# are asked about, and those whose person the provider now refuses end (departments/oidc.py).
# Sessions begin at any time, so each minute asks about a few. Nothing without single sign-on.
CELERY_BEAT_SCHEDULE["oidc-sessions"] = {
    "task": "departments.tasks.check_oidc_sessions",
    "schedule": 60,
    "options": {"expires": 60},
}
# Every night: audit log entries past their retention leave the log (audit.services.audit_purge).
CELERY_BEAT_SCHEDULE["audit-purge"] = {
    "task": "audit.tasks.purge_audit_log",
    "schedule": crontab(hour=3, minute=15),
    "options": {"expires": 6 * 3600},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")


# The cache is shared by every process, so that limits (API throttling) count every worker's
# requests: Redis when CACHE_URL (or else the Celery broker) is Redis; otherwise files under
# var/, which make run's two web workers share. Entries are keyed under the database's name, so
# two installations (or two test runs) on one Redis never read or clear each other's; each
# parallel test worker has its own database, and its own keys or cache folder.
def _cache_from_env(database_name: str) -> dict[str, Any]:
    url = env_str("CACHE_URL", "")
    if not url and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        url = CELERY_BROKER_URL
    suffix = os.environ.get("PYTEST_XDIST_WORKER", "")
    if url.startswith(("redis://", "rediss://")):
        prefix = env_str("CACHE_KEY_PREFIX", "helpdesk-" + Path(database_name).stem + suffix)
        return {"BACKEND": "core.cache.SharedRedisCache", "LOCATION": url, "KEY_PREFIX": prefix}
    if url == "" or url == "file://":
        return {
            "BACKEND": "core.cache.SharedFileCache",
            "LOCATION": str(VAR_DIR / ("cache-" + suffix if suffix else "cache")),
            # Past MAX_ENTRIES the file cache drops a third of its entries at random, live
            # counters included: room for every signed-in person's entries of a hospital.
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    if url == "locmem://":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    raise ImproperlyConfigured(
        f"CACHE_URL must be a redis:// URL, file:// or locmem://, not {url!r}"
    )


CACHES = {"default": _cache_from_env(str(DATABASES["default"]["NAME"]))}


def _networks_from_env(name: str) -> list[IPv4Network | IPv6Network]:
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks (10.0.0.5, 172.16.0.0/12), not {item!r}"
            ) from None
    return networks


# Behind a reverse proxy every connection comes from the proxy. The client's address is then read
# from X-Forwarded-For, but only on connections from these addresses: anyone else could write
# that header. The sign-in lockout counts failures per username and client address.
TRUSTED_PROXIES = _networks_from_env("HELPDESK_TRUSTED_PROXIES")
AXES_CLIENT_IP_CALLABLE = "helpdesk.middleware.client_address"

# The product.
HELPDESK: dict[str, Any] = {
    "BASE_URL": BASE_URL,
    # Shown on the confirmation page of every P1 ticket and in the header.
    "SERVICE_DESK_PHONE": env_str("HELPDESK_SERVICE_DESK_PHONE", "x4357 (HELP)"),
    "HOSPITAL_NAME": env_str("HELPDESK_HOSPITAL_NAME", "Lakeside Regional Medical Center"),
    "MRN_MIN_DIGITS": env_int("HELPDESK_MRN_MIN_DIGITS", 6, minimum=4),
    "MRN_MAX_DIGITS": env_int("HELPDESK_MRN_MAX_DIGITS", 10, minimum=4),
    # Requesters see their own tickets; with this on, also their home department's.
    "REQUESTERS_SEE_DEPARTMENT": env_bool("HELPDESK_REQUESTERS_SEE_DEPARTMENT", False),
    # Tickets one person may file, by form and API together (tickets/throttling.py).
    "FILING_RATE": env_str("HELPDESK_FILING_RATE", "30/hour"),
    # Off: with single sign-on, only superusers (break-glass administrators) sign in with a
    # help desk password; directory accounts are not affected.
    "LOCAL_SIGN_IN": env_bool("HELPDESK_LOCAL_SIGN_IN", True),
    # The help desk's mailbox. Every e-mail about a ticket answers to it with the ticket's own
    # address (helpdesk+HD-1234.56.<signature>@...), so a reply threads back into the ticket;
    # the mail server must deliver plus-addresses to the mailbox itself.
    "REPLY_ADDRESS": env_str("HELPDESK_REPLY_ADDRESS", "helpdesk@localhost"),
}
# Major incidents (incidents/services.py): this many open tickets of one category tile from this
# many departments within the window raise a "possible major incident"; a dismissed one keeps
# its tile quiet for the quiet minutes.
HELPDESK["MAJOR_INCIDENT_TICKETS"] = env_int("HELPDESK_MAJOR_INCIDENT_TICKETS", 5, minimum=2)
HELPDESK["MAJOR_INCIDENT_UNITS"] = env_int("HELPDESK_MAJOR_INCIDENT_UNITS", 3, minimum=1)
HELPDESK["MAJOR_INCIDENT_WINDOW_MINUTES"] = env_int(
    "HELPDESK_MAJOR_INCIDENT_WINDOW_MINUTES", 10, minimum=1
)
HELPDESK["MAJOR_INCIDENT_QUIET_MINUTES"] = env_int(
    "HELPDESK_MAJOR_INCIDENT_QUIET_MINUTES", 60, minimum=1
)
# The recovery checklist a major incident starts with, by category slug ("*": any other).
HELPDESK["MAJOR_INCIDENT_RECOVERY"] = {
    "ehr": [
        "Back-enter the orders and notes written on downtime forms",
        "Verify the lab, pharmacy and ADT interfaces caught up",
        "Reconcile medication administration recorded on paper",
        "Tell the units the downtime forms can be put away",
    ],
    "*": [
        "Verify the service works on every affected unit",
        "Back-enter whatever was recorded on paper meanwhile",
    ],
}
if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", HELPDESK["FILING_RATE"]):
    raise ImproperlyConfigured(
        "HELPDESK_FILING_RATE must be a number of tickets per second, minute, hour or day, "
        f"such as 30/hour, not {HELPDESK['FILING_RATE']!r}"
    )
if not re.fullmatch(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+", HELPDESK["REPLY_ADDRESS"]):
    raise ImproperlyConfigured(
        "HELPDESK_REPLY_ADDRESS must be the help desk's mailbox, such as "
        f"helpdesk@hospital.org (no name, no plus part), not {HELPDESK['REPLY_ADDRESS']!r}"
    )
if HELPDESK["MRN_MIN_DIGITS"] > HELPDESK["MRN_MAX_DIGITS"]:
    raise ImproperlyConfigured("HELPDESK_MRN_MIN_DIGITS must not exceed HELPDESK_MRN_MAX_DIGITS")


def env_pairs(name: str, *, allowed: frozenset[str] | None = None) -> dict[str, str]:
    """``KEY=value,KEY=value`` (spaces around items ignored)."""
    pairs: dict[str, str] = {}
    for item in env_list(name, []):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not key or not value:
            raise ImproperlyConfigured(
                f"{name} must be a comma-separated list of GROUP=value, not {item!r}"
            )
        if allowed is not None and value.lower() not in allowed:
            raise ImproperlyConfigured(
                f"{name}: {value!r} is not one of {', '.join(sorted(allowed))}"
            )
        pairs[key] = value.lower() if allowed is not None else value
    return pairs


# The audit log (audit/): how long its entries are kept (six years: HIPAA's retention of
# documentation), and what the privacy officer's "unusual access" calls a burst of views: this
# many distinct tickets opened by one person within this many minutes.
HELPDESK_AUDIT_RETENTION_DAYS = env_int("HELPDESK_AUDIT_RETENTION_DAYS", 6 * 365, minimum=1)
HELPDESK_AUDIT_BURST_VIEWS = env_int("HELPDESK_AUDIT_BURST_VIEWS", 30, minimum=2)
HELPDESK_AUDIT_BURST_MINUTES = env_int("HELPDESK_AUDIT_BURST_MINUTES", 10, minimum=1)


# Sign-in with the hospital directory. Which directory group gives which role and which unit
# (department code): the starting mapping; a row in admin for the same group replaces it.
HELPDESK_DIRECTORY: dict[str, Any] = {
    "GROUP_ROLES": env_pairs(
        "HELPDESK_DIRECTORY_GROUP_ROLES",
        allowed=frozenset({"requester", "technician", "manager", "admin", "privacy_officer"}),
    ),
    "GROUP_UNITS": env_pairs("HELPDESK_DIRECTORY_GROUP_UNITS"),
}


LDAP_GROUP_TYPES: dict[str, type[LDAPGroupType]] = {
    "groupOfNames": GroupOfNamesType,
    "nestedGroupOfNames": NestedGroupOfNamesType,
    "activeDirectory": ActiveDirectoryGroupType,
    "nestedActiveDirectory": NestedActiveDirectoryGroupType,
}
LDAP_ATTRIBUTES = ("first_name", "last_name", "email", "phone", "department")


def ldap_settings() -> dict[str, Any]:
    """Sign-in against LDAP / Active Directory, read from the HELPDESK_LDAP_* variables (see the
    README). The directory is asked at sign-in and by the nightly leaver check, never per
    request; its timeouts are short, so a directory that is down or hung costs a sign-in a few
    seconds, never a hung page."""
    uris = os.environ.get("HELPDESK_LDAP_SERVER_URI", "").split()
    for uri in uris:
        if not uri.lower().startswith(("ldap://", "ldaps://")):
            raise ImproperlyConfigured(
                f"HELPDESK_LDAP_SERVER_URI must list ldap:// or ldaps:// addresses separated by "
                f"spaces, not {uri!r}"
            )
    user_base = env_str("HELPDESK_LDAP_USER_SEARCH_BASE", "")
    if not user_base:
        raise ImproperlyConfigured(
            "HELPDESK_LDAP_USER_SEARCH_BASE must be set with HELPDESK_LDAP_SERVER_URI, such as "
            "ou=Staff,dc=hospital,dc=org"
        )
    group_type_name = env_str("HELPDESK_LDAP_GROUP_TYPE", "groupOfNames")
    if group_type_name not in LDAP_GROUP_TYPES:
        raise ImproperlyConfigured(
            f"HELPDESK_LDAP_GROUP_TYPE must be one of {', '.join(LDAP_GROUP_TYPES)}, "
            f"not {group_type_name!r}"
        )
    attributes = {
        "first_name": "givenName",
        "last_name": "sn",
        "email": "mail",
        "phone": "telephoneNumber",
        **env_pairs("HELPDESK_LDAP_ATTRIBUTES"),
    }
    unknown = sorted(set(attributes) - set(LDAP_ATTRIBUTES))
    if unknown:
        raise ImproperlyConfigured(
            f"HELPDESK_LDAP_ATTRIBUTES maps {', '.join(unknown)}; it can map "
            f"{', '.join(LDAP_ATTRIBUTES)}"
        )
    timeout = env_int("HELPDESK_LDAP_TIMEOUT_SECONDS", 2, minimum=1)
    # The account attributes the help desk reads, the lock flags among them: a disabled AD
    # account (userAccountControl) or a locked OpenLDAP one (pwdAccountLockedTime) stays out.
    wanted = [*attributes.values(), "userAccountControl", "pwdAccountLockedTime"]
    options: dict[int, Any] = {
        ldap.OPT_NETWORK_TIMEOUT: timeout,
        ldap.OPT_TIMEOUT: timeout,
        ldap.OPT_REFERRALS: 0,
    }
    ca_file = env_str("HELPDESK_LDAP_CA_FILE", "")
    if ca_file:
        if not Path(ca_file).is_file():
            raise ImproperlyConfigured(f"HELPDESK_LDAP_CA_FILE is not a file: {ca_file!r}")
        options[ldap.OPT_X_TLS_CACERTFILE] = ca_file
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        # Last: makes the TLS context with the options above.
        options[ldap.OPT_X_TLS_NEWCTX] = 0
    group_base = env_str("HELPDESK_LDAP_GROUP_SEARCH_BASE", user_base)
    return {
        "AUTHENTICATION_BACKENDS": [
            "axes.backends.AxesStandaloneBackend",
            # Local accounts first: a break-glass admin signs in whatever the directory does.
            "django.contrib.auth.backends.ModelBackend",
            "departments.directory.DirectoryBackend",
            "departments.oidc.OidcBackend",
        ],
        "AUTH_LDAP_SERVER_URI": " ".join(uris),
        "AUTH_LDAP_START_TLS": env_bool("HELPDESK_LDAP_START_TLS", False),
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "AUTH_LDAP_BIND_DN": env_str("HELPDESK_LDAP_BIND_DN", ""),
        "AUTH_LDAP_BIND_PASSWORD": env_str("HELPDESK_LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(
            user_base,
            ldap.SCOPE_SUBTREE,
            env_str("HELPDESK_LDAP_USER_FILTER", "(uid=%(user)s)"),
            attrlist=wanted,
        ),
        "AUTH_LDAP_USER_ATTRLIST": wanted,
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(
            group_base,
            ldap.SCOPE_SUBTREE,
            env_str("HELPDESK_LDAP_GROUP_FILTER", "(objectClass=*)"),
        ),
        "AUTH_LDAP_GROUP_TYPE": LDAP_GROUP_TYPES[group_type_name](),
        # The help desk makes and refreshes accounts itself (departments.services), from
        # HELPDESK_LDAP_ATTRIBUTES; the library only checks the password and finds the groups.
        "AUTH_LDAP_ALWAYS_UPDATE_USER": False,
        "AUTH_LDAP_CACHE_TIMEOUT": 0,
        "HELPDESK_LDAP_ATTRIBUTES": attributes,
    }


# Without a directory, local accounts only (the demo).
AUTH_LDAP_SERVER_URI = ""
AUTH_LDAP_START_TLS = False
AUTH_LDAP_CONNECTION_OPTIONS: dict[int, Any] = {}
AUTH_LDAP_BIND_DN = ""
AUTH_LDAP_BIND_PASSWORD = ""
HELPDESK_LDAP_ATTRIBUTES: dict[str, str] = {}
if os.environ.get("HELPDESK_LDAP_SERVER_URI", "").strip():
    globals().update(ldap_settings())
if not HELPDESK["LOCAL_SIGN_IN"] and HELPDESK_OIDC is None and not AUTH_LDAP_SERVER_URI:
    raise ImproperlyConfigured(
        "HELPDESK_LOCAL_SIGN_IN=0 needs the hospital directory (HELPDESK_OIDC_ISSUER or "
        "HELPDESK_LDAP_SERVER_URI): otherwise only superusers could sign in"
    )

# On-call paging. Channels: console (the demo's terminal), email, webhook (an SMS gateway, chat
# system or paging provider receiving a signed JSON POST).
HELPDESK_PAGING: dict[str, Any] = {
    "WEBHOOK_URL": env_str("HELPDESK_PAGING_WEBHOOK_URL", ""),
    "WEBHOOK_SECRET": env_str("HELPDESK_PAGING_WEBHOOK_SECRET", ""),
    "WEBHOOK_TIMEOUT": env_int("HELPDESK_PAGING_WEBHOOK_TIMEOUT", 5, minimum=1),
    # An acknowledge link in a page works once, and only this long.
    "ACK_LINK_MAX_AGE": env_int("HELPDESK_PAGING_ACK_LINK_MAX_AGE", 4 * 3600, minimum=60),
    "MAX_ATTEMPTS": env_int("HELPDESK_PAGING_MAX_ATTEMPTS", 5, minimum=1),
}
if HELPDESK_PAGING["WEBHOOK_URL"] and not HELPDESK_PAGING["WEBHOOK_SECRET"]:
    raise ImproperlyConfigured(
        "HELPDESK_PAGING_WEBHOOK_SECRET must be set with HELPDESK_PAGING_WEBHOOK_URL: receivers "
        "check the signature"
    )

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "departments.api_auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["departments.api_auth.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env_str("HELPDESK_API_TOKEN_RATE", "600/minute")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hospital IT Help Desk API",
    "DESCRIPTION": (
        "Tickets, SLA clocks and on-call paging for hospital IT. Authenticate with the browser "
        "session or an API token (Authorization: Bearer hd_...). A token acts as its user: a "
        "requester's token sees that requester's tickets only."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.TicketStatus",
        "PageChainStatusEnum": "tickets.models.PageChain.Status",
        "ResolutionCodeEnum": "tickets.models.Ticket.ResolutionCode",
        "TicketSourceEnum": "tickets.models.Ticket.Source",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Attachments on tickets ------------------------------------------------------------------
# Files go to their own storage, never under a public URL: local files in var/attachments by
# default, or an S3-compatible bucket (django-storages; `pip install '.[s3]'`) when
# HELPDESK_ATTACHMENTS_S3_BUCKET is set. Only tickets/views.attachment_download serves them.
ATTACHMENT_MAX_MB = env_int("HELPDESK_ATTACHMENT_MAX_MB", 10, minimum=1)
ATTACHMENT_TICKET_MAX_MB = env_int("HELPDESK_ATTACHMENT_TICKET_MAX_MB", 25, minimum=1)
HELPDESK["ATTACHMENT_MAX_BYTES"] = ATTACHMENT_MAX_MB * 1024 * 1024
HELPDESK["ATTACHMENT_TICKET_MAX_BYTES"] = ATTACHMENT_TICKET_MAX_MB * 1024 * 1024
# Images are re-encoded no larger than this on their long side, and refused above this many
# pixels before being decoded (a decompression bomb).
HELPDESK["ATTACHMENT_IMAGE_MAX_SIDE"] = env_int(
    "HELPDESK_ATTACHMENT_IMAGE_MAX_SIDE", 4096, minimum=64
)
HELPDESK["ATTACHMENT_IMAGE_MAX_PIXELS"] = env_int(
    "HELPDESK_ATTACHMENT_IMAGE_MAX_PIXELS", 60_000_000, minimum=1_000_000
)
_attachments_bucket = env_str("HELPDESK_ATTACHMENTS_S3_BUCKET", "")
if _attachments_bucket:
    STORAGES["attachments"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _attachments_bucket,
            "endpoint_url": env_str("HELPDESK_ATTACHMENTS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("HELPDESK_ATTACHMENTS_S3_REGION", "") or None,
            "location": env_str("HELPDESK_ATTACHMENTS_S3_PREFIX", "attachments"),
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    ATTACHMENTS_DIR = Path(
        env_str("HELPDESK_ATTACHMENTS_DIR", str(VAR_DIR / "attachments"))
    ).resolve()
    STORAGES["attachments"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(ATTACHMENTS_DIR),
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
# An upload is counted as it arrives and cut off past the limits (tickets/uploads.py); what is
# under FILE_UPLOAD_MAX_MEMORY_SIZE stays in memory, larger files go to a temporary file.
FILE_UPLOAD_HANDLERS = [
    "tickets.uploads.AttachmentLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_PERMISSIONS = 0o600
CELERY_BEAT_SCHEDULE["attachment-orphan-sweep"] = {
    "task": "tickets.tasks.attachment_orphan_sweep",
    "schedule": 3600,
    "options": {"expires": 3600},
}


# E-mail in (intake/): the help desk's mailboxes, read over IMAP every minute. Each mailbox is
# named in HELPDESK_MAILBOXES and configured by HELPDESK_MAILBOX_<NAME>_<SETTING> (README,
# "E-mail in").
MAILBOX_SECURITY = ("tls", "starttls")


def _mailbox_from_env(name: str) -> dict[str, Any]:
    prefix = f"HELPDESK_MAILBOX_{name.upper()}_"

    def value(key: str, default: str = "") -> str:
        return env_str(prefix + key, default).strip()

    security = value("SECURITY", "tls").lower()
    if security not in MAILBOX_SECURITY:
        raise ImproperlyConfigured(
            f"{prefix}SECURITY must be tls (implicit TLS, usually port 993) or starttls "
            f"(usually port 143), not {security!r}"
        )
    mailbox: dict[str, Any] = {
        "NAME": name,
        "HOST": value("HOST"),
        "PORT": env_int(prefix + "PORT", 993 if security == "tls" else 143, minimum=1),
        "SECURITY": security,
        "CA_FILE": value("CA_FILE"),
        "USERNAME": value("USERNAME"),
        "PASSWORD": env_str(prefix + "PASSWORD", ""),
        "OAUTH_TENANT": value("OAUTH_TENANT"),
        "OAUTH_CLIENT_ID": value("OAUTH_CLIENT_ID"),
        "OAUTH_CLIENT_SECRET": env_str(prefix + "OAUTH_CLIENT_SECRET", ""),
        # Microsoft's national clouds sign in elsewhere (login.microsoftonline.us for GCC High).
        "OAUTH_AUTHORITY": value("OAUTH_AUTHORITY", "https://login.microsoftonline.com").rstrip(
            "/"
        ),
        "FOLDER": value("FOLDER", "INBOX"),
        "PROCESSED_FOLDER": value("PROCESSED_FOLDER", "Processed"),
        "FAILED_FOLDER": value("FAILED_FOLDER", "Failed"),
        "CATEGORY": value("CATEGORY", "requests"),
        "LOCATION": value("LOCATION"),
    }
    for key in ("HOST", "USERNAME"):
        if not mailbox[key]:
            raise ImproperlyConfigured(f"{prefix}{key} must be set for the mailbox {name!r}")
    oauth = [mailbox[key] for key in ("OAUTH_TENANT", "OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET")]
    if any(oauth) and not all(oauth):
        raise ImproperlyConfigured(
            f"OAuth2 for the mailbox {name!r} needs {prefix}OAUTH_TENANT, {prefix}OAUTH_CLIENT_ID "
            f"and {prefix}OAUTH_CLIENT_SECRET together"
        )
    if all(oauth) == bool(mailbox["PASSWORD"]):
        raise ImproperlyConfigured(
            f"The mailbox {name!r} signs in with {prefix}PASSWORD or with OAuth2 "
            f"({prefix}OAUTH_TENANT, _CLIENT_ID, _CLIENT_SECRET): set one of them, not both"
        )
    if urlsplit(mailbox["OAUTH_AUTHORITY"]).scheme != "https":
        raise ImproperlyConfigured(
            f"{prefix}OAUTH_AUTHORITY must be the identity platform's https:// address, not "
            f"{mailbox['OAUTH_AUTHORITY']!r}"
        )
    if mailbox["CA_FILE"] and not Path(mailbox["CA_FILE"]).is_file():
        raise ImproperlyConfigured(f"{prefix}CA_FILE: no such file {mailbox['CA_FILE']!r}")
    folders = {mailbox[key] for key in ("FOLDER", "PROCESSED_FOLDER", "FAILED_FOLDER")}
    if len(folders) != 3:
        raise ImproperlyConfigured(
            f"The mailbox {name!r} needs three different folders: the one read, the processed "
            "one and the failed one"
        )
    return mailbox


def mailboxes_from_env() -> dict[str, dict[str, Any]]:
    """The mailboxes to read, by name (lower case); none when HELPDESK_MAILBOXES is unset."""
    names = [name.lower() for name in env_list("HELPDESK_MAILBOXES", [])]
    for name in names:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
            raise ImproperlyConfigured(
                f"HELPDESK_MAILBOXES must list names of letters, digits and _ (such as "
                f"servicedesk,pacs), not {name!r}"
            )
    if len(set(names)) != len(names):
        raise ImproperlyConfigured("HELPDESK_MAILBOXES names a mailbox twice")
    return {name: _mailbox_from_env(name) for name in names}


HELPDESK_MAILBOXES = mailboxes_from_env()
# Vendors (their mail domains) whose mail quoting a ticket number ([HD-1234]) is offered to IT
# as an internal note on that ticket.
HELPDESK_MAIL_VENDOR_DOMAINS = [
    domain.lower().lstrip("@") for domain in env_list("HELPDESK_MAIL_VENDOR_DOMAINS", [])
]
MAIL_POLL_SECONDS = env_int("HELPDESK_MAIL_POLL_SECONDS", 60, minimum=10)
CELERY_BEAT_SCHEDULE["mail-poll"] = {
    "task": "intake.tasks.poll_mailboxes",
    "schedule": MAIL_POLL_SECONDS,
    # A poll that could not start in time is dropped: the next one reads what it would have.
    "options": {"expires": MAIL_POLL_SECONDS},
}
