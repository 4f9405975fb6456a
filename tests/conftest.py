"""The shared cast: a nurse in the ED, one in the OR, one on Med-Surg, a technician, a manager and
an outsider (another Med-Surg nurse), over the organisation the migrations seed."""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kombu.pools
import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection, connections
from django.template.backends.jinja2 import Template as JinjaTemplate
from django.test.signals import template_rendered

from bench.pgbouncer import PgBouncer, pgbouncer_available, running_pgbouncer
from bench.receiver import WebhookReceiver
from core.reference_cache import forget_reference_rows
from departments.defaults import seed_escalation_policies, seed_organisation
from departments.models import Department
from helpdesk.settings import postgres_database
from tests.departments.oidc_provider.server import OidcProvider
from tests.factories import UserFactory
from tests.smtp_server import SmtpServer
from tickets.defaults import seed_categories, seed_sla_policies
from tickets.enqueue import forget_broker_failure


@dataclass(frozen=True)
class Services:
    """What this run of the suite is given, from HELPDESK_REQUIRE_SERVICES.

    Unset (a laptop): a test that needs a service runs when the service is there and skips
    otherwise. "1" or "all" (CI on PostgreSQL and Redis): every service must be there, a missing
    one fails. A comma-separated list (CI on the embedded default, "chromium,git,make,nginx,
    openssl"): the listed ones must be there, and the tests of any other service skip even where
    it happens to run, so the run is exactly what it says. A service is named by a word of what
    the test needs: "A git checkout" is git, "PostgreSQL" is postgresql.
    """

    raw: str
    everything: bool
    listed: frozenset[str]

    @classmethod
    def parse(cls, raw: str) -> Services:
        raw = raw.strip().lower()
        if raw in ("1", "all"):
            return cls(raw, True, frozenset())
        return cls(raw, False, frozenset(name.strip() for name in raw.split(",") if name.strip()))

    def check(self, condition: bool, what: str) -> None:
        listed = bool(set(re.findall(r"[a-z0-9]+", what.lower())) & self.listed)
        if self.listed and not listed:
            pytest.skip(f"{what} is not part of this run (HELPDESK_REQUIRE_SERVICES={self.raw})")
        if condition:
            return
        if self.everything or listed:
            pytest.fail(
                f"{what} is required (HELPDESK_REQUIRE_SERVICES={self.raw}) but not available"
            )
        pytest.skip(f"{what} is not available")


SERVICES = Services.parse(os.environ.get("HELPDESK_REQUIRE_SERVICES", ""))


def need(condition: bool, what: str) -> None:
    """Skip on a bare laptop; fail where the suite was told the service is there (CI); skip
    a service the run leaves out (the embedded run leaves out PostgreSQL and Redis)."""
    SERVICES.check(condition, what)


@contextmanager
def silent_server() -> Iterator[int]:
    """A server on a free port of 127.0.0.1 that accepts connections and never answers, as a
    hung Redis or a hung identity provider does; yields its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# Where DATABASE_URL points, whatever a test points the connection at later.
DATABASE_SERVER = {
    key: settings.DATABASES["default"].get(key) for key in ("HOST", "PORT", "USER", "PASSWORD")
}


@contextmanager
def pgbouncer_in_front() -> Iterator[PgBouncer]:
    """A pgbouncer (bench/pgbouncer.py) in front of the suite's PostgreSQL, started after the
    test databases exist and stopped before they are dropped (it holds connections to them)."""
    need(connection.vendor == "postgresql", "PostgreSQL")
    need(pgbouncer_available(), "pgbouncer (PgBouncer)")
    server = DATABASE_SERVER
    with running_pgbouncer(
        server_host=server["HOST"] or "127.0.0.1",
        server_port=int(server["PORT"] or 5432),
        user=server["USER"] or "postgres",
        password=server["PASSWORD"] or "",
    ) as bouncer:
        yield bouncer


@contextmanager
def through_pgbouncer(bouncer: PgBouncer) -> Iterator[None]:
    """Every new connection to the default database (every thread's) goes through ``bouncer``,
    configured as DATABASE_POOLER=pgbouncer configures production."""
    settings_dict = connections["default"].settings_dict
    saved = dict(settings_dict)
    pooled = postgres_database(
        "DATABASE_URL", bouncer.url(settings_dict["NAME"]), pooler="pgbouncer"
    )
    connection.close()
    settings_dict.update({key: value for key, value in pooled.items() if key != "TEST"})
    try:
        yield
    finally:
        connection.close()
        settings_dict.clear()
        settings_dict.update(saved)


@pytest.fixture(autouse=True, scope="session")
def _the_whole_suite_through_pgbouncer(request: pytest.FixtureRequest) -> Iterator[None]:
    """HELPDESK_TEST_POOLER=pgbouncer runs the suite's database tests through a real PgBouncer
    in transaction pooling mode (``make test-pgbouncer``)."""
    if os.environ.get("HELPDESK_TEST_POOLER", "") != "pgbouncer":
        yield
        return
    request.getfixturevalue("django_db_setup")
    with pgbouncer_in_front() as bouncer, through_pgbouncer(bouncer):
        yield


@pytest.fixture(autouse=True, scope="session")
def _jinja_templates_report_their_context() -> Iterator[None]:
    """The test client's ``response.context``, as Django's test runner gives it for its own
    engine: the pages are Jinja2, which sends no ``template_rendered`` by itself."""
    render = JinjaTemplate.render

    def render_and_report(
        self: JinjaTemplate, context: dict[str, object] | None = None, request: object = None
    ) -> str:
        # The backend adds the request, the CSRF field and the context processors' names to
        # the dict it is given: report them too, as Django's own engine does.
        context = dict(context or {})
        html = render(self, context, request)  # type: ignore[arg-type]
        template_rendered.send(sender=self, template=self, context=context)
        return html

    JinjaTemplate.render = render_and_report  # type: ignore[method-assign]
    yield
    JinjaTemplate.render = render  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    forget_reference_rows()
    yield
    cache.clear()
    forget_reference_rows()


@pytest.fixture
def reference_data(db: None) -> None:
    """The migrations seed the organisation; transactional tests flush it, so put it back."""
    if not Department.objects.exists():
        seed_organisation(apps)  # type: ignore[arg-type]
        seed_escalation_policies(apps, policies_app="oncall")  # type: ignore[arg-type]
        seed_categories(apps)  # type: ignore[arg-type]
        seed_sla_policies(apps)  # type: ignore[arg-type]


@pytest.fixture
def nurse_ed(reference_data: None) -> User:
    return UserFactory(username="nurse.ed", first_name="Erin", role="requester", home="ED")


@pytest.fixture
def nurse_or(reference_data: None) -> User:
    return UserFactory(username="nurse.or", first_name="Omar", role="requester", home="OR")


@pytest.fixture
def nurse_medsurg(reference_data: None) -> User:
    return UserFactory(
        username="nurse.medsurg", first_name="Maya", role="requester", home="MEDSURG"
    )


@pytest.fixture
def outsider(reference_data: None) -> User:
    return UserFactory(username="nurse.other", first_name="Olga", role="requester", home="MEDSURG")


@pytest.fixture
def tech(reference_data: None) -> User:
    return UserFactory(username="tech", first_name="Terry", role="technician")


@pytest.fixture
def manager(reference_data: None) -> User:
    return UserFactory(username="manager", first_name="Morgan", role="manager")


@pytest.fixture
def privacy_officer(reference_data: None) -> User:
    return UserFactory(username="privacy", first_name="Priya", role="privacy_officer")


@contextmanager
def celery_broker(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the Celery app at another broker for one test, then back."""
    from helpdesk.celery import app

    # Celery prefers the environment variable over its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    keys = ("CELERY_BROKER_URL", "CELERY_BROKER_TRANSPORT_OPTIONS")
    saved = {key: app.conf[key] for key in keys}
    app.conf["CELERY_BROKER_URL"] = url
    app.conf["CELERY_BROKER_TRANSPORT_OPTIONS"] = dict(settings.BROKER_FAIL_FAST_OPTIONS)
    app._pool = None
    app.amqp._producer_pool = None
    forget_broker_failure()
    try:
        yield url
    finally:
        app.pool.force_close_all()
        app.conf.update(saved)
        app._pool = None
        app.amqp._producer_pool = None
        forget_broker_failure()
        # kombu shares pools per broker URL; the closed one must not be handed out again.
        kombu.pools.reset()


@contextmanager
def embedded_worker(**options: Any) -> Iterator[Any]:
    """A Celery worker in a thread of this process (``celery.contrib.testing``), on the app's
    broker. Its thread closes its database connection after each task: kept for reuse
    (CONN_MAX_AGE) it would outlive the thread and the test, and the test database could not be
    dropped at the end of the run ("is being accessed by other users")."""
    from helpdesk.celery import app

    def close_the_worker_threads_connection(sender: Any = None, **_: Any) -> None:
        if not getattr(sender.request, "is_eager", False):
            connections.close_all()

    task_postrun.connect(close_the_worker_threads_connection, weak=False)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10, **options
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_the_worker_threads_connection)


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Celery pointed at a port where nothing listens, as when Redis is down."""
    with celery_broker("redis://127.0.0.1:1/0", monkeypatch) as url:
        yield url


@pytest.fixture
def redis_url() -> str:
    """This machine's Redis (CI's, or the one in CELERY_BROKER_URL), for the shared cache."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        url = "redis://127.0.0.1:6379/15"
    need(port_open("127.0.0.1", 6379) or "127.0.0.1" not in url, "Redis")
    return url


@pytest.fixture
def redis_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Celery on this machine's Redis (CI's, or the one in CELERY_BROKER_URL)."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        url = "redis://127.0.0.1:6379/15"
    need(port_open("127.0.0.1", 6379) or "127.0.0.1" not in url, "Redis")
    with celery_broker(url, monkeypatch) as broker_url:
        yield broker_url


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A running webhook receiver answering 200; ``.configure(...)`` changes its answers."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """A real SMTP server on a free port, with Django's SMTP backend sending to it."""
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        yield server


@pytest.fixture(scope="session")
def oidc_provider(
    live_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OidcProvider]:
    """The hospital's OpenID Connect provider, in a process of its own on a free port; the help
    desk is registered with it as a client, for the live server and for the test client."""
    provider = OidcProvider(
        tmp_path_factory.mktemp("oidc-provider"),
        [f"{live_server.url}/oidc/callback/", "http://testserver/oidc/callback/"],
    )
    yield provider
    provider.stop()


@pytest.fixture
def oidc(settings: Any, oidc_provider: OidcProvider, reference_data: None) -> OidcProvider:
    """Single sign-on on, with the test provider, and the hospital's group mapping."""
    settings.HELPDESK_DIRECTORY = {
        "GROUP_ROLES": {"GRP-ED-NURSING": "requester", "GRP-IT-SERVICEDESK": "technician"},
        "GROUP_UNITS": {"GRP-ED-NURSING": "ED", "Perioperative Services": "OR"},
    }
    forget_reference_rows()
    oidc_provider.reset()
    oidc_provider.next_id_token("")  # an honest one, whatever an earlier test asked for
    settings.HELPDESK_OIDC = {
        "ISSUER": oidc_provider.issuer,
        "CLIENT_ID": oidc_provider.client_id,
        "CLIENT_SECRET": oidc_provider.client_secret,
        "SCOPES": "openid email profile",
        "USERNAME_CLAIM": "preferred_username",
        "EMAIL_CLAIM": "email",
        "NAME_CLAIM": "name",
        "GROUPS_CLAIM": "groups",
        "DEPARTMENT_CLAIM": "department",
        "PHONE_CLAIM": "phone_number",
        "CLOCK_SKEW_SECONDS": 120,
        # Above the product's 5 s: a CI machine running the suite on every core is slow.
        "TIMEOUT_SECONDS": 10,
        "PROMPT": "",
    }
    return oidc_provider


@pytest.fixture
def attachments_dir(settings, tmp_path: Path) -> Path:
    """The attachments storage in a folder of the test's own."""
    folder = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    return folder
