"""``python -m faults``: the help desk on several processes, under load, through faults.

1. A database of its own (``helpdesk_faults`` on the server DATABASE_URL names), made fresh,
   migrated and seeded small (``bench.seed``): nurses, 100 technicians on weekly rotations paged
   by webhook, a manager, an integration's API token, a few thousand tickets of history.
2. A Redis of its own on a free port (so the harness can stop and flush it), the webhook
   receiver standing in for the SMS gateway (it counts deliveries by Idempotency-Key), and the
   stack: two gunicorn instances, two Celery workers, two Celery beats (faults/stack.py).
3. Each scenario (faults/scenarios.py): the load (faults/load.py) starts, the fault is injected,
   the load stops, the harness waits for the background work to catch up, and the invariants are
   checked by SQL (faults/invariants.py).
4. The table is printed and written to docs/reliability.md. The exit status is 1 when an
   invariant failed, 2 when the harness itself could not run.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
import psutil
import psycopg2
from locust.stats import RequestStats, StatsEntry
from psycopg2 import sql

from bench.receiver import WebhookReceiver
from faults import invariants, report
from faults.ledger import Ledger
from faults.load import (
    FILING_NAMES,
    QUEUE_FRAGMENT,
    Cast,
    Crowd,
    Load,
    Person,
    Place,
    Shared,
    measure_capacity,
)
from faults.postgres import Cluster
from faults.scenarios import Context, Scenario, select
from faults.stack import PROJECT_DIR, Process, RedisServer, Stack, StackError

DEFAULT_DB_NAME = "helpdesk_faults"
DEFAULT_REPORT = PROJECT_DIR / "docs" / "reliability.md"
STATIC_CACHE = PROJECT_DIR / "var" / "faults-static"
FINGERPRINT = ".faults-fingerprint"
SWEEP_SECONDS = 5
TECHNICIANS = 100
# The capacity measure (full runs): nurses filing back to back, more at each step.
CAPACITY_LEVELS = (1, 2, 4, 8)
CAPACITY_P95_MS = 250
# Whom the sessions the harness makes say signed the person in (a password sign-in).
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m faults",
        description="Run the help desk on several processes under load, inject one fault per "
        "scenario and check the invariants by SQL.",
    )
    parser.add_argument(
        "--short", action="store_true", help="shorter faults and load (CI): under 9 minutes"
    )
    parser.add_argument("--only", default="", help="comma-separated scenarios (e.g. redis-down)")
    parser.add_argument(
        "--db-name", default=DEFAULT_DB_NAME, help="the database to (re)create and drop"
    )
    parser.add_argument(
        "--report", type=Path, default=DEFAULT_REPORT, help="where the Markdown table goes"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    return parser.parse_args(argv)


def say(text: str) -> None:
    print(f"# {text}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios = select(args.only, short=args.short)
    if "faults" not in args.db_name:
        raise SystemExit("the database name must contain 'faults': the harness drops it")
    started = time.monotonic()
    run_dir = Path(tempfile.mkdtemp(prefix="helpdesk-faults-"))
    admin = _admin_params(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"))
    # Restarting the database must touch nobody else's: such a run has a cluster of its own.
    postgres = Cluster(run_dir / "postgres") if any(s.own_postgres for s in scenarios) else None
    redis = RedisServer(run_dir)
    receiver = WebhookReceiver()
    stack: Stack | None = None
    keep_logs = args.keep
    try:
        if postgres is not None:
            postgres.create()
            postgres.start()
            admin = postgres.admin_params()
            say(f"PostgreSQL of its own on port {postgres.port}")
        _create_database(admin, args.db_name)
        redis.start()
        receiver.start()
        env = _environment(admin, args.db_name, redis, receiver, run_dir)
        _link_static(run_dir)
        os.environ.update(env)
        stack = Stack.build(run_dir, {**os.environ, **env})
        cast = _prepare(stack)
        say(f"starting 2 web instances, 2 workers, 2 beats; logs in {run_dir}")
        stack.start()
        ctx = Context(stack, redis, receiver, run_dir, args.short, say, cast=cast,
                      postgres=postgres)  # fmt: skip
        rows: list[report.Row] = []
        benchmark: list[str] = []
        for scenario in scenarios:
            rows.append(_run_scenario(scenario, ctx, cast, args.short, benchmark))
            print(report.table(rows[-1:]).splitlines()[-1], flush=True)
        seconds = time.monotonic() - started
        print(report.table(rows), flush=True)
        for line in benchmark:
            say(line)
        command = "python -m faults" + (" --short" if args.short else "")
        if args.only:
            command += f" --only {args.only}"
        text = report.document(
            rows,
            machine=_machine(admin, redis),
            day=date.today(),
            command=command,
            seconds=seconds,
            benchmark=benchmark,
            scenarios=[(scenario.name, scenario.proves) for scenario in scenarios],
        )
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text)
        broken = report.failures(rows)
        for line in broken:
            print(f"faults: {line}", file=sys.stderr)
        say(f"done in {seconds:.0f}s; table written to {args.report}")
        if broken:
            say(f"the processes' logs are kept in {run_dir}")
            keep_logs = True
            return 1
        return 0
    except StackError as error:
        print(f"faults: {error}; the processes' logs are in {run_dir}", file=sys.stderr)
        keep_logs = True
        return 2
    finally:
        if stack is not None:
            stack.stop()
        receiver.stop()
        redis.stop()
        if not args.keep:
            from django.db import connections

            connections.close_all()
            # A cluster of the run's own goes with its folder, database and all.
            if postgres is None:
                _drop_database(admin, args.db_name)
        if postgres is not None:
            postgres.stop()
        # Last: the run's own cluster keeps its files in this folder until it has stopped.
        if not keep_logs:
            shutil.rmtree(run_dir, ignore_errors=True)


# --- One scenario -------------------------------------------------------------------------------


def _run_scenario(
    scenario: Scenario, ctx: Context, cast: Cast, short: bool, benchmark: list[str]
) -> report.Row:
    from django.utils import timezone

    say(f"scenario {scenario.name}: {scenario.proves}")
    ctx.notes.clear()
    ctx.marks.clear()
    ctx.sweeps_back_at = None
    if scenario.standalone is not None:
        violations = scenario.standalone(ctx)
        return report.Row(
            scenario.name,
            0,
            0,
            math.nan,
            0,
            0,
            0,
            0,
            0,
            not violations,
            tuple(violations),
            tuple(ctx.notes),
        )
    ledger = Ledger()
    shared = Shared(cast=cast, ledger=ledger)
    crowd = Crowd(
        nurses=12 if short else 20,
        technicians=TECHNICIANS,
        managers=2,
        integrations=2 if short else 4,
    )
    errors_before = ctx.stack.server_errors()
    began = timezone.now()
    load = Load(shared, crowd)
    ctx.stats = load.env.stats
    ctx.fault_filing_p95_ms = None
    load.start()
    clock = time.monotonic()
    try:
        scenario.inject(ctx)
    finally:
        stats = load.stop()
    ran = time.monotonic() - clock
    ended = timezone.now()
    _drain(began, scenario.drain_seconds)
    filing = _filing_entry(stats)
    figures = invariants.Figures(
        requests=stats.total.num_requests,
        errors=stats.total.num_failures,
        filing_p95_ms=filing.get_response_time_percentile(0.95) if filing.num_requests else 0,
        fault_filing_p95_ms=ctx.fault_filing_p95_ms,
    )
    observed = invariants.observe(
        filings=ledger.filings,
        started=began,
        ended=ended,
        delivered_keys=_delivered_keys(ctx.receiver),
        server_errors=ctx.stack.server_errors() - errors_before,
        sweep_seconds=SWEEP_SECONDS,
        sweeps_back_at=ctx.sweeps_back_at,
    )
    outcome = invariants.check(scenario.rules, ledger.filings, observed, figures)
    violations = [*outcome.violations, *(scenario.verify(ctx) if scenario.verify else [])]
    failed = sorted(stats.errors.values(), key=lambda error: -error.occurrences)
    ctx.notes += [
        f"{error.occurrences} x {error.method} {error.name} failed: {str(error.error)[:120]}"
        for error in failed[:3]
    ]
    api_filings = sum(1 for filing in ledger.filings if filing.via == "api")
    ctx.notes.append(
        f"{len(ledger.filings)} filings answered ({api_filings} by the API, which retried "
        f"{ledger.api_retries} time(s))"
    )
    if ctx.notes:
        say(f"{scenario.name}: " + "; ".join(ctx.notes))
    if scenario.name == "baseline":
        fragment = stats.get(QUEUE_FRAGMENT, "GET")
        benchmark.append(
            f"the baseline's load filed {len(ledger.filings) / ran:.1f} tickets/s over "
            f"{ran:.0f} s on 2 web instances (form and API) at filing p95 "
            f"{figures.filing_p95_ms:.0f} ms"
        )
        benchmark.append(
            f"queue fragment p95 {fragment.get_response_time_percentile(0.95):.0f} ms with "
            f"{crowd.technicians} technicians polling every 15 s "
            f"({fragment.num_requests} polls)"
        )
        if not short:
            benchmark.append(_capacity(cast))
    return report.Row(
        scenario=scenario.name,
        requests=figures.requests,
        errors=figures.errors,
        filing_p95_ms=figures.filing_p95_ms,
        pages_expected=outcome.pages_expected,
        pages_delivered=outcome.pages_delivered,
        pages_duplicated=outcome.pages_duplicated,
        breaches_expected=outcome.breaches_expected,
        breaches_recorded=outcome.breaches_recorded,
        passed=not violations,
        violations=tuple(violations),
        notes=tuple(ctx.notes),
    )


def _capacity(cast: Cast) -> str:
    """The most filings per second the two web instances sustain with p95 under 250 ms."""
    levels = measure_capacity(
        Shared(cast=cast, ledger=Ledger(), emergency_share=0.0), CAPACITY_LEVELS, 15
    )
    measured = ", ".join(
        f"{level.nurses} nurses: {level.filings_per_second:.1f}/s at p95 {level.p95_ms:.0f} ms"
        for level in levels
    )
    within = [level for level in levels if level.p95_ms < CAPACITY_P95_MS]
    if not within:
        return f"no filing rate held p95 under {CAPACITY_P95_MS} ms ({measured})"
    best = max(within, key=lambda level: level.filings_per_second)
    return (
        f"{best.filings_per_second:.1f} filings/s sustained at p95 under {CAPACITY_P95_MS} ms "
        f"through the form, nurses filing back to back ({measured})"
    )


def _filing_entry(stats: RequestStats) -> StatsEntry:
    """Filing through the form and through the API, as one."""
    combined = StatsEntry(stats, "filing", "POST", use_response_times_cache=False)
    for name in FILING_NAMES:
        combined.extend(stats.get(name, "POST"))
    return combined


def _drain(since: datetime, timeout: float) -> None:
    """Wait until every page, and every alert and e-mail written ``since`` the scenario began,
    is delivered (two sweeps in a row find none), or until ``timeout``: what is still unsent
    then is for the invariants to report."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if invariants.unfinished(since=since) == 0 else 0
        if quiet >= 2:
            return
        time.sleep(SWEEP_SECONDS)


def _delivered_keys(receiver: WebhookReceiver) -> list[str]:
    return [
        str(request.headers.get("Idempotency-Key"))
        for request in receiver.requests
        if 200 <= request.status < 300 and request.headers.get("Idempotency-Key")
    ]


# --- Setting up ---------------------------------------------------------------------------------


def _environment(
    admin: dict[str, Any], name: str, redis: RedisServer, receiver: WebhookReceiver, run_dir: Path
) -> dict[str, str]:
    """Production's settings, from the environment (README: Configuration)."""
    password = f":{admin['password']}" if admin.get("password") else ""
    user = admin.get("user") or "postgres"
    host, port = admin.get("host") or "127.0.0.1", admin.get("port") or 5432
    return {
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": f"postgres://{user}{password}@{host}:{port}/{name}",
        "CELERY_BROKER_URL": redis.url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        # Served on plain http on this machine, as `make run` serves the demo: a base URL on
        # http turns off the redirect to https and the secure-only cookies.
        "HELPDESK_DEMO": "1",
        "HELPDESK_BASE_URL": "http://127.0.0.1:8000",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HELPDESK_VAR_DIR": str(run_dir / "var"),
        "HELPDESK_PAGING_WEBHOOK_URL": receiver.url,
        "HELPDESK_PAGING_WEBHOOK_SECRET": secrets.token_hex(16),
        "HELPDESK_SWEEP_SECONDS": str(SWEEP_SECONDS),
        # A few nurses file for a whole hospital here: the per-person limits would refuse them.
        "HELPDESK_FILING_RATE": "100000/hour",
        "HELPDESK_API_TOKEN_RATE": "100000/minute",
        "HELPDESK_IDLE_TIMEOUT_SECONDS": "3600",
        "GUNICORN_WORKER_CLASS": "gthread",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "4",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


def _prepare(stack: Stack) -> Cast:
    """Migrate, collect static files, seed, sign people in; returns who the load plays."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from bench.seed import SeedConfig, Seeder
    from core.sessions import SessionStore
    from departments.models import ApiToken, Location, Profile
    from tickets.models import Category, Ticket

    clock = time.monotonic()
    collect = _collect_static(stack)
    call_command("migrate", interactive=False, verbosity=0)
    say(f"migrated in {time.monotonic() - clock:.0f}s")
    seeded = Seeder(
        SeedConfig(tickets=3000, technicians=TECHNICIANS, due_tickets=20, makers=1),
        log=lambda text: None,
    ).seed()
    Profile.objects.filter(user_id__in=[*seeded.technician_ids, seeded.manager_id]).update(
        page_channels="webhook"
    )
    say(
        f"seeded {seeded.tickets} tickets ({seeded.open_tickets} open), "
        f"{len(seeded.technician_ids)} technicians paged by webhook, in "
        f"{time.monotonic() - clock:.0f}s"
    )

    def person(user_id: int) -> Person:
        user = User.objects.get(pk=user_id)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = MODEL_BACKEND
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        assert session.session_key is not None
        return Person(user.pk, session.session_key)

    def place(location_id: int) -> Place:
        location = Location.objects.select_related("department").get(pk=location_id)
        return Place(location.pk, location.code, location.department.code)

    def category(category_id: int) -> tuple[int, str]:
        return category_id, Category.objects.get(pk=category_id).slug

    if collect is not None:
        if not collect.wait(timeout=900):
            raise StackError(f"collectstatic failed: {collect.log_tail()}")
        (STATIC_CACHE / FINGERPRINT).write_text(_static_fingerprint())
        say(f"static files collected at {time.monotonic() - clock:.0f}s")
    nurses = [seeded.nurse_id, seeded.filer_id, *seeded.requester_ids[:30]]
    integration = User.objects.get(pk=seeded.filer_id)
    return Cast(
        base_urls=tuple(stack.base_urls),
        session_cookie=settings.SESSION_COOKIE_NAME,
        nurses=tuple(person(pk) for pk in nurses),
        technicians=tuple(person(pk) for pk in seeded.technician_ids),
        managers=(person(seeded.manager_id),),
        integration_token=ApiToken.issue(user=integration, name="faults integration")[1],
        integration_user_id=integration.pk,
        ward=place(seeded.nurse_location_id),
        ward_category=category(seeded.filing_category_id),
        emergency=place(seeded.page_location_id),
        emergency_category=category(seeded.page_category_id),
        resolution_code=Ticket.ResolutionCode.FIXED.value,
    )


def _static_fingerprint() -> str:
    """What the collected files are made from: every source file's path, size and time."""
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in finder.list([]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _collect_static(stack: Stack) -> Process | None:
    """Production serves hashed, compressed static files (``collectstatic``). Making them takes
    a minute or more, so they are kept between runs under var/ and made again only when a
    source file changed; when they are, on the other core while this one migrates and seeds."""
    marker = STATIC_CACHE / FINGERPRINT
    if marker.exists() and marker.read_text() == _static_fingerprint():
        say("static files unchanged since the last run")
        return None
    marker.unlink(missing_ok=True)
    collect = Process(
        "collectstatic",
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        stack.run_dir / "collectstatic.log",
        stack.env,
    )
    collect.start()
    return collect


def _link_static(run_dir: Path) -> None:
    """The run's STATIC_ROOT (var/staticfiles under HELPDESK_VAR_DIR) is the kept copy."""
    STATIC_CACHE.mkdir(parents=True, exist_ok=True)
    (run_dir / "var").mkdir(parents=True, exist_ok=True)
    (run_dir / "var" / "staticfiles").symlink_to(STATIC_CACHE, target_is_directory=True)


def _admin_params(database_url: str) -> dict[str, Any]:
    scheme = urlsplit(database_url).scheme
    if scheme not in {"postgres", "postgresql"}:
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (the harness needs one)")
    config = dj_database_url.parse(database_url)
    return {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "password": config.get("PASSWORD") or None,
        "dbname": "postgres",
        "connect_timeout": 5,
    }


def _admin(admin: dict[str, Any], statement: sql.Composable) -> None:
    params = {key: value for key, value in admin.items() if value is not None}
    conn = psycopg2.connect(**params)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(statement)
    finally:
        conn.close()


def _create_database(admin: dict[str, Any], name: str) -> None:
    _drop_database(admin, name)
    _admin(admin, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop_database(admin: dict[str, Any], name: str) -> None:
    _admin(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _machine(admin: dict[str, Any], redis: RedisServer) -> report.Machine:
    params = {key: value for key, value in admin.items() if value is not None}
    conn = psycopg2.connect(**params)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            row = cursor.fetchone()
    finally:
        conn.close()
    return report.Machine(
        cpus=os.cpu_count() or 0,
        memory_gib=psutil.virtual_memory().total / 2**30,
        postgres=str(row[0]).split()[0] if row else "?",
        redis=redis.version() if redis.ping() else "?",
        load_average=os.getloadavg()[0],
    )
