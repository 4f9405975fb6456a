"""The faults, one per scenario, each injected while the load runs.

A scenario's ``inject`` runs in the harness's main greenlet while locust's simulated people go
on in theirs: it may sleep (a Redis kept down), kill a process, or change what the gateway
answers, and returns when the fault is over (the process restarted, Redis back).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import gevent
import psutil
import requests
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from locust.stats import RequestStats

from bench.receiver import WebhookReceiver
from core.cache import SOCKET_TIMEOUT_SECONDS
from core.errors import DATABASE_UNAVAILABLE, DATABASE_UNAVAILABLE_NOT_SAVED
from faults import checks
from faults.invariants import Rules
from faults.load import Cast, filing_times, max_between, p95_between
from faults.postgres import Cluster
from faults.stack import Process, RedisServer, Stack, StackError


@dataclass
class Context:
    stack: Stack
    redis: RedisServer
    receiver: WebhookReceiver
    run_dir: Path
    short: bool
    say: Callable[[str], None]
    # What an injection tells the report beyond the counts (e.g. "retried 3 API filings").
    notes: list[str] = field(default_factory=list)
    # The running load's statistics, and the filing p95 while the fault lasted (if it says).
    stats: RequestStats | None = None
    fault_filing_p95_ms: float | None = None
    # Who the load plays (for the harness's own requests), and the harness's own PostgreSQL
    # when the run restarts the database.
    cast: Cast | None = None
    postgres: Cluster | None = None
    # What an injection hands its scenario's own checks (the tickets it made due, the time the
    # sweeps came back), and when the sweeps ran again after it stopped them.
    marks: dict[str, Any] = field(default_factory=dict)
    sweeps_back_at: datetime | None = None

    def pause(self, full: float, short: float) -> None:
        time.sleep(short if self.short else full)


@dataclass(frozen=True)
class Scenario:
    name: str
    proves: str
    inject: Callable[[Context], None]
    rules: Rules = field(default_factory=Rules)
    in_short: bool = True
    # Scenarios without load (a start-up check) return their own violations.
    standalone: Callable[[Context], list[str]] | None = None
    # The longest the background work may take to catch up after the load stops.
    drain_seconds: float = 60.0
    # What this scenario must show beyond every scenario's invariants (faults/checks.py).
    verify: Callable[[Context], list[str]] | None = None
    # Restarts the database: the run uses a PostgreSQL cluster of its own.
    own_postgres: bool = False


def _nothing(ctx: Context) -> None:
    ctx.pause(60, 15)


def _breaches_fall_due(ctx: Context) -> None:
    """Both beats run all along (as in every scenario); here first-response targets also fall
    due while they do, so that each beat's sweep races the other's for the same breaches."""
    soon = timezone.now() + timedelta(seconds=5)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_ticket SET response_due_at = %s + (id %% 10) * interval '1 second', "
            "response_warn_at = NULL WHERE id IN (SELECT id FROM tickets_ticket "
            "WHERE status = 'new' AND assignee_id IS NULL AND first_response_at IS NULL "
            "AND response_breached_at IS NULL ORDER BY id LIMIT 20)",
            [soon],
        )
        ctx.notes.append(f"{cursor.rowcount} first responses fell due")
    ctx.pause(30, 20)


def worker_delivering(ctx: Context) -> Process | None:
    """The Celery worker holding a connection to the gateway right now, if any."""
    port = ctx.receiver.port
    for worker in ctx.stack.workers:
        if not worker.running():
            continue
        for process in [psutil.Process(worker.pid), *worker.children()]:
            try:
                connections = process.net_connections(kind="tcp")
            except psutil.Error:
                continue
            if any(conn.raddr and conn.raddr.port == port for conn in connections):
                return worker
    return None


def _kill_worker_mid_delivery(ctx: Context) -> None:
    ctx.pause(20, 10)
    # A slow gateway, so that a delivery is in flight when the worker dies.
    ctx.receiver.configure(delay=2.0)
    seen = len(ctx.receiver.requests)
    if not ctx.receiver.wait_for_requests(seen + 1, timeout=60):
        ctx.receiver.configure()
        raise StackError("no page was delivered within 60 s to kill a worker during")
    time.sleep(0.2)
    victim = worker_delivering(ctx)
    mid = victim is not None
    victim = victim or ctx.stack.workers[0]
    victim.kill()
    ctx.notes.append(f"killed {victim.name}" + (" mid-delivery" if mid else ""))
    ctx.receiver.configure()
    time.sleep(3)
    victim.start()
    ctx.stack.wait_workers([victim])
    ctx.pause(20, 10)


def _redis_down(ctx: Context) -> None:
    ctx.pause(20, 10)
    assert ctx.stats is not None
    before = filing_times(ctx.stats)
    ctx.redis.stop()
    ctx.pause(60, 30)
    ctx.fault_filing_p95_ms = p95_between(before, filing_times(ctx.stats))
    ctx.notes.append(f"filing p95 {ctx.fault_filing_p95_ms:.0f} ms while Redis was down")
    ctx.redis.start()
    ctx.pause(20, 10)


def _redis_flushed(ctx: Context) -> None:
    """With both workers stopped, tasks pile up in Redis; FLUSHALL drops them."""
    ctx.pause(10, 5)
    for worker in ctx.stack.workers:
        worker.stop()
    ctx.pause(20, 15)
    with ctx.redis.client() as client:
        queued = client.llen("celery")
        client.flushall()
    ctx.notes.append(f"flushed {queued} queued task(s)")
    for worker in ctx.stack.workers:
        worker.start()
    ctx.stack.wait_workers(ctx.stack.workers)
    # With no worker, no sweep ran (the beats' sweeps queued and were flushed): a ticket
    # answered late meanwhile was never seen unanswered past its target by a sweep.
    ctx.sweeps_back_at = timezone.now()
    ctx.pause(10, 5)


def _kill_web_workers(ctx: Context) -> None:
    """``kill -9`` a gunicorn worker of one instance, then of the other, every half second: the
    requests they were serving (and the keep-alive connections they held) die with them, and
    the integration sends its filing again with the same key."""
    ctx.pause(15, 8)
    killed = 0
    deadline = time.monotonic() + (8 if ctx.short else 15)
    turn = 0
    while time.monotonic() < deadline:
        web = ctx.stack.web[turn % len(ctx.stack.web)]
        turn += 1
        children = web.children()
        if children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(children[0].pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.5)
    ctx.notes.append(f"killed {killed} gunicorn workers")
    ctx.pause(15, 8)


def _evicting_redis_refused(ctx: Context) -> list[str]:
    """A worker pointed at a Redis with an evicting policy must not start."""
    evicting = RedisServer(ctx.run_dir)
    evicting.start(maxmemory_policy="allkeys-lru")
    worker = Process(
        "worker-evicting",
        [*ctx.stack.workers[0].command[:-1], "faults-evicting@%h"],
        ctx.run_dir / "worker-evicting.log",
        {**ctx.stack.env, "CELERY_BROKER_URL": evicting.url},
    )
    try:
        worker.start()
        deadline = time.monotonic() + 90
        while worker.running() and time.monotonic() < deadline:
            time.sleep(0.25)
        log = worker.log_path.read_text(errors="replace")
        violations = []
        if worker.running():
            violations.append("a worker started on a Redis with maxmemory-policy allkeys-lru")
        elif "Refusing to start" not in log:
            violations.append(f"the worker stopped without saying why: {worker.log_tail(4)}")
        else:
            ctx.notes.append("the worker refused to start and named the policy")
        return violations
    finally:
        worker.stop()
        evicting.stop()


# --- Redis hung ---------------------------------------------------------------------------------

PAUSE_SECONDS = 30


def _redis_hung(ctx: Context) -> None:
    """``CLIENT PAUSE 30000 ALL``: Redis accepts connections and answers nothing for 30 s. The
    slowest filing while it is paused is compared with the slowest of as long a stretch just
    before it."""
    assert ctx.stats is not None
    ctx.pause(10, 8)
    start = filing_times(ctx.stats)
    ctx.pause(PAUSE_SECONDS, 20)
    before = filing_times(ctx.stats)
    with ctx.redis.client() as client:
        client.client_pause(PAUSE_SECONDS * 1000, all=True)
    # Until the pause is over, and the filings that were waiting on it were answered.
    time.sleep(PAUSE_SECONDS + 2)
    after = filing_times(ctx.stats)
    before_max = max_between(start, before) or 0.0
    paused_max = max_between(before, after)
    ctx.fault_filing_p95_ms = p95_between(before, after)
    ctx.marks.update(before_max=before_max, paused_max=paused_max)
    bound = _broker_bound_ms()
    ctx.notes.append(
        f"Redis paused {PAUSE_SECONDS} s: slowest filing {paused_max or 0:.0f} ms while paused "
        f"({before_max:.0f} ms in the {30 if not ctx.short else 20} s before), p95 "
        f"{ctx.fault_filing_p95_ms:.0f} ms; the broker's bound {bound:.0f} ms (socket timeout "
        f"{settings.BROKER_TIMEOUT_SECONDS} s)"
    )
    ctx.pause(15, 10)


def _broker_bound_ms() -> float:
    """The longest a filing may wait on a hung Redis: two publishes (the broker's socket timeout
    each: the filing's own, and the page of an emergency) and two cache calls (the cache's
    timeout each), after which each process stops asking Redis for a few seconds."""
    return 1000 * 2 * (settings.BROKER_TIMEOUT_SECONDS + SOCKET_TIMEOUT_SECONDS)


def _redis_hung_checks(ctx: Context) -> list[str]:
    return checks.hung_filing(
        paused_max_ms=ctx.marks["paused_max"],
        before_max_ms=ctx.marks["before_max"],
        bound_ms=_broker_bound_ms(),
    )


# --- Beat stopped, clock jump: targets and chains falling due while no sweep sees them ----------

DUE_TICKETS = 20


def _make_due(first: datetime, spread: timedelta) -> list[int]:
    """Twenty unanswered tickets' first-response targets fall due between ``first`` and
    ``first + spread``, in an order other than their ids' (so that "in due order" means
    something), each warned five minutes before."""
    step = (spread / DUE_TICKETS).total_seconds()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_ticket "
            "SET response_due_at = %s + ((id * 7) %% %s) * %s * interval '1 second', "
            "response_warn_at = %s + ((id * 7) %% %s) * %s * interval '1 second' "
            "- interval '5 minutes', "
            "response_warned_at = NULL WHERE id IN (SELECT id FROM tickets_ticket "
            "WHERE status = 'new' AND assignee_id IS NULL AND first_response_at IS NULL "
            "AND response_breached_at IS NULL ORDER BY id DESC LIMIT %s) RETURNING id",
            [first, DUE_TICKETS, step, first, DUE_TICKETS, step, DUE_TICKETS],
        )
        return sorted(row[0] for row in cursor.fetchall())


RUNNING_CHAINS = 10


def _page_held_tickets() -> int:
    """Technicians of the load acknowledge most chains within seconds (claiming a ticket does):
    ten open tickets held by someone page their team too (the product's ``start_chains``, as a
    technician paging for help does), so that chains are still running when the fault comes.
    The load never opens these tickets, so nothing acknowledges their pages."""
    # Models load once Django is set up, which the harness does after making its database.
    from tickets.models import PageChain, Ticket
    from tickets.paging import start_chains

    tickets = (
        Ticket.objects.filter(assignee__isnull=False, status__in=["assigned", "in_progress"])
        .exclude(page_chains__status=PageChain.Status.ACTIVE)
        .order_by("id")[:RUNNING_CHAINS]
    )
    return len(start_chains(tickets=list(tickets), reason=PageChain.Reason.MANUAL))


def _chains_fall_due(first: datetime, spread: timedelta) -> list[checks.ChainState]:
    """Every running page chain's next re-page or escalation falls due in the same stretch."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_pagechain "
            "SET next_action_at = %s + (id %% 10) * %s * interval '1 second' "
            "WHERE status = 'active' RETURNING id",
            [first, (spread / 10).total_seconds()],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return checks.read_chains(chain_ids=ids)


def _due_checks(ctx: Context) -> list[str]:
    """The tickets and chains the fault made due: each breach once, and after the sweeps came
    back; each chain moved once, by one step, with its timeline event."""
    back = ctx.marks["sweeps_back_at"]
    before: list[checks.ChainState] = ctx.marks["chains"]
    after = {
        chain.chain_id: chain
        for chain in checks.read_chains(chain_ids=[chain.chain_id for chain in before])
    }
    events = checks.read_move_events(
        [chain.ticket_id for chain in before], since=ctx.marks["chains_read_at"]
    )
    violations = checks.late_breaches(
        checks.read_due_tickets(ctx.marks["due_tickets"]), sweeps_back_at=back
    )
    violations += checks.escalations(before, after, events)
    moved = sum(1 for chain in before if checks.moves(chain, after[chain.chain_id]))
    ctx.notes.append(f"{moved} of {len(before)} due chain(s) moved on")
    return violations


def _beats_stopped(ctx: Context) -> None:
    """Both beats stopped (10 minutes; 45 s with --short) while targets and chains fall due;
    started again, their first sweep does all of it, late."""
    ctx.pause(10, 8)
    off_loop(_page_held_tickets)
    gap = timedelta(seconds=45 if ctx.short else 600)
    for beat in ctx.stack.beats:
        beat.stop()
    stopped = timezone.now()
    ctx.marks["due_tickets"] = off_loop(_make_due, stopped + timedelta(seconds=5), gap * 0.8)
    ctx.marks["chains_read_at"] = timezone.now()
    ctx.marks["chains"] = off_loop(_chains_fall_due, stopped + timedelta(seconds=5), gap * 0.8)
    ctx.notes.append(
        f"beats stopped {gap.total_seconds():.0f} s; {len(ctx.marks['due_tickets'])} first "
        f"responses and {len(ctx.marks['chains'])} page chain(s) fell due meanwhile"
    )
    time.sleep(gap.total_seconds())
    ctx.marks["sweeps_back_at"] = ctx.sweeps_back_at = timezone.now()
    for beat in ctx.stack.beats:
        beat.start()
    ctx.pause(30, 20)


JUMP = timedelta(hours=2)


def _clock_jump(ctx: Context) -> None:
    """One sweep sees the time two hours ahead: the harness runs the product's sweep itself
    with ``now`` two hours on, beside the beats' sweeps on the real clock. Twenty targets fall
    due within those two hours; every running chain's next step does too."""
    ctx.pause(15, 10)
    off_loop(_page_held_tickets)
    now = timezone.now()
    ctx.marks["due_tickets"] = off_loop(
        _make_due, now + timedelta(minutes=10), timedelta(minutes=100)
    )
    ctx.marks["chains_read_at"] = timezone.now()
    ctx.marks["chains"] = off_loop(partial(checks.read_chains, due_by=now + JUMP))
    jumped = ctx.marks["sweeps_back_at"] = now + JUMP
    result = off_loop(_sweep_at, jumped)
    ctx.marks["breached"] = result.count("response", "breach")
    ctx.notes.append(
        f"a sweep at +2 h breached {result.count('response', 'breach')} first response(s) and "
        f"{result.count('resolution', 'breach')} resolution(s), moved "
        f"{result.chains_advanced} page chain(s)"
    )
    ctx.pause(30, 20)


def _sweep_at(now: datetime) -> Any:
    # Models load once Django is set up, which the harness does after making its database.
    from tickets.sweep import sla_sweep

    return sla_sweep(now=now)


T = TypeVar("T")


def off_loop(work: Callable[..., T], *args: Any) -> T:
    """Run the harness's own database work during the load in a thread of its own: its queries
    would otherwise hold up every simulated person, whose requests share this process's event
    loop (long enough for the web's keep-alive to close their connections under them)."""

    def run() -> T:
        try:
            return work(*args)
        finally:
            connection.close()

    result: T = gevent.get_hub().threadpool.apply(run)
    return result


def _clock_jump_checks(ctx: Context) -> list[str]:
    jumped = ctx.marks["sweeps_back_at"]
    # A chain that also fell due on the real clock (one of an earlier scenario's quick ladders)
    # may be moved by the beats' sweeps while the jumped sweep works through the others, and
    # then again by the jumped sweep, rightly: two hours later its next step is due too. It is
    # judged with the rest of the load's chains, not as one the jump alone made due.
    chains: list[checks.ChainState] = ctx.marks["chains"]
    real = checks.moved_on_the_real_clock(
        [chain.ticket_id for chain in chains], since=ctx.marks["chains_read_at"], jumped=jumped
    )
    if real:
        ctx.marks["chains"] = [chain for chain in chains if chain.ticket_id not in real]
        ctx.notes.append(
            f"{len(real)} of the due chain(s) also fell due on the real clock and were moved by "
            "the beats' sweeps meanwhile"
        )
    violations = _due_checks(ctx)
    violations += checks.in_due_order(checks.read_breach_order(jumped))
    # What the jumped sweep paged (dated two hours ahead, so outside the scenario's window)
    # reached the gateway once each.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, status FROM tickets_page WHERE created_at = %s", [jumped])
        pages = cursor.fetchall()
    delivered = Counter(_delivered(ctx.receiver))
    lost = [pk for pk, status in pages if status != "cancelled" and not delivered[f"page-{pk}"]]
    doubled = [pk for pk, _ in pages if delivered[f"page-{pk}"] > 1]
    if lost:
        violations.append(f"{len(lost)} page(s) of the jumped sweep never delivered")
    if doubled:
        violations.append(f"{len(doubled)} page(s) of the jumped sweep delivered twice")
    ctx.notes.append(f"the jumped sweep wrote {len(pages)} page(s)")
    return violations


def _delivered(receiver: WebhookReceiver) -> list[str]:
    return [
        str(request.headers.get("Idempotency-Key"))
        for request in receiver.requests
        if 200 <= request.status < 300 and request.headers.get("Idempotency-Key")
    ]


# --- Gateway failing ------------------------------------------------------------------------------

# A ladder that moves every minute, so that a chain whose page failed is seen escalating.
FAST_LADDER = ("primary", "secondary", "manager")


def _gateway_failing(ctx: Context) -> None:
    """The gateway answers 500 (45 s), then hangs past the delivery timeout (25 s), then works.
    Every team's ladder moves each minute meanwhile."""
    # Models load once Django is set up, which the harness does after making its database.
    from departments.models import Team
    from oncall.models import EscalationPolicy, EscalationStep

    made = []
    for team in Team.objects.exclude(escalation_policies__purpose=EscalationPolicy.Purpose.TICKETS):
        policy = EscalationPolicy.objects.create(team=team, repeat_count=1)
        EscalationStep.objects.bulk_create(
            EscalationStep(policy=policy, position=n, target=target, repage_minutes=0,
                           wait_minutes=1)
            for n, target in enumerate(FAST_LADDER)
        )  # fmt: skip
        made.append(policy.pk)
    try:
        ctx.pause(10, 8)
        ctx.marks["failing_from"] = time.perf_counter()
        ctx.marks["failing_at"] = timezone.now()
        ctx.receiver.configure(default_status=500)
        # Chains nobody acknowledges while the gateway fails: their pages use every attempt.
        paged = off_loop(_page_held_tickets)
        ctx.notes.append(f"{paged} held ticket(s) paged as the gateway began failing")
        ctx.pause(45, 40)
        timeout = settings.HELPDESK_PAGING["WEBHOOK_TIMEOUT"]
        ctx.receiver.configure(default_status=503, delay=timeout + 3)
        ctx.pause(25, 20)
        ctx.receiver.configure()
        ctx.marks["recovered_at"] = time.perf_counter()
        # A minute for every chain at a failed step to move to the next.
        ctx.pause(75, 75)
    finally:
        EscalationPolicy.objects.filter(pk__in=made).delete()


def _gateway_checks(ctx: Context) -> list[str]:
    since = ctx.marks["failing_from"]
    attempts = [
        checks.Attempt(str(request.headers.get("Idempotency-Key")), request.at, request.status)
        for request in ctx.receiver.requests
        if request.at >= since and request.headers.get("Idempotency-Key")
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, c.id, c.round, c.step, "
            # Still running, and its wait over for more than two sweeps: stuck.
            "CASE WHEN c.status = 'active' AND c.next_action_at < now() - interval '15 seconds' "
            "THEN 'active' ELSE 'moving' END, p.round, p.step "
            "FROM tickets_page p JOIN tickets_pagechain c ON c.id = p.chain_id "
            "WHERE p.status = 'failed' AND p.created_at >= %s",
            [ctx.marks["failing_at"]],
        )
        failed = cursor.fetchall()
    violations = checks.gateway_recovery(
        attempts,
        recovered_at=ctx.marks["recovered_at"],
        failed_keys=[f"page-{row[0]}" for row in failed],
        max_attempts=settings.HELPDESK_PAGING["MAX_ATTEMPTS"],
    )
    stuck = sorted(
        {chain for _, chain, c_round, c_step, status, p_round, p_step in failed
         if status == "active" and (c_round, c_step) == (p_round, p_step)}
    )  # fmt: skip
    if stuck:
        violations.append(f"{len(stuck)} chain(s) stayed at the step whose page failed")
    retried = Counter(attempt.key for attempt in attempts if not 200 <= attempt.status < 300)
    ctx.notes.append(
        f"the gateway refused {sum(retried.values())} deliveries of {len(retried)} page(s); "
        f"{len(failed)} page(s) failed after every attempt and their chains escalated"
    )
    return violations


# --- Postgres restart ---------------------------------------------------------------------------

DOWN_SECONDS = 5


def _postgres_restart(ctx: Context) -> None:
    """The harness's own PostgreSQL stopped (fast: every session ended) for a few seconds and
    started again, under the load. While it is down, a person and the API are asked what they
    see; afterwards, how long until both web instances serve pages again by themselves."""
    assert ctx.postgres is not None
    assert ctx.cast is not None
    ctx.pause(20, 10)
    ctx.postgres.stop()
    down = time.monotonic()
    ctx.marks["probes"] = _probe(ctx.cast)
    time.sleep(max(DOWN_SECONDS - (time.monotonic() - down), 0))
    ctx.postgres.start()
    connections.close_all()
    ctx.marks["recovered_after"] = _until_served(ctx.cast, timeout=60)
    ctx.notes.append(
        f"PostgreSQL down {time.monotonic() - down:.0f} s; "
        + "; ".join(f"{what}: {status} {kind}" for what, status, kind, _ in ctx.marks["probes"])
    )
    ctx.pause(40, 20)


def _probe(cast: Cast) -> list[tuple[str, int, str, bool]]:
    """What a nurse opening the form, a nurse filing and the integration filing are answered on
    each web instance: (what, status, content type, whether it says why, with Retry-After: that
    nothing was saved, for the two that sent something)."""
    nurse = {cast.session_cookie: cast.nurses[0].session_key}
    api = {"Authorization": f"Bearer {cast.integration_token}", "Accept": "application/json"}
    found = []
    for base in cast.base_urls:
        for what, response in (
            ("form", requests.get(f"{base}/file/", cookies=nurse, timeout=10)),
            (
                "filing",
                requests.post(
                    f"{base}/file/", data={"title": "x"}, cookies=nurse, timeout=10,
                    allow_redirects=False,
                ),
            ),
            ("API", requests.post(f"{base}/api/tickets/", json={}, headers=api, timeout=10)),
        ):  # fmt: skip
            kind = response.headers.get("Content-Type", "").split(";")[0]
            # The form is only read: "try again"; a filing was sent: "not saved" as well.
            expected = DATABASE_UNAVAILABLE if what == "form" else DATABASE_UNAVAILABLE_NOT_SAVED
            says = bool(response.headers.get("Retry-After")) and expected in response.text
            found.append((what, response.status_code, kind, says))
    return found


def _until_served(cast: Cast, *, timeout: float) -> float | None:
    """Seconds until every web instance serves the filing form again (None: not in time)."""
    nurse = {cast.session_cookie: cast.nurses[0].session_key}
    began = time.monotonic()
    waiting = list(cast.base_urls)
    while waiting and time.monotonic() - began < timeout:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{waiting[0]}/file/", cookies=nurse, timeout=5).status_code == 200:
                waiting.pop(0)
                continue
        time.sleep(0.2)
    return None if waiting else time.monotonic() - began


def _postgres_checks(ctx: Context) -> list[str]:
    wanted = {"form": "text/html", "filing": "text/html", "API": "application/json"}
    violations = [
        f"{what} answered {status} {kind} while the database was down"
        + ("" if says else ", without saying to try again")
        for what, status, kind, says in ctx.marks["probes"]
        if status != 503 or kind != wanted[what] or not says
    ]
    if ctx.marks["recovered_after"] is None:
        violations.append("the web did not serve pages again within 60 s of the database")
    else:
        ctx.notes.append(f"pages served again {ctx.marks['recovered_after']:.1f} s after")
    return violations


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "baseline",
        "the load alone: no failed request, every filing stored once, every page delivered",
        _nothing,
    ),
    Scenario(
        "two beats",
        "two beats sweep at once while breaches fall due: each breach and page happens once",
        _breaches_fall_due,
    ),
    Scenario(
        "worker killed",
        "kill -9 of a worker while it delivers a page: the page is delivered again after the "
        "sweep finds it stranded, with the same Idempotency-Key, so the gateway sends it once",
        _kill_worker_mid_delivery,
        Rules(gateway_dedupes=True, allow_email_resend=True),
        drain_seconds=150,
    ),
    Scenario(
        "redis down",
        "Redis stopped (60 s, 30 s with --short) and started empty: filing answers while it "
        "is down (p95 under 2 s), and the outbox delivers every page afterwards",
        _redis_down,
        Rules(max_filing_p95_ms=2000),
        drain_seconds=150,
    ),
    Scenario(
        "redis hung",
        "CLIENT PAUSE 30000 ALL on Redis under load: no filing waits on it longer than the "
        "broker's timeout; nothing is lost",
        _redis_hung,
        verify=_redis_hung_checks,
        drain_seconds=150,
    ),
    Scenario(
        "redis flushed",
        "FLUSHALL with tasks queued (workers stopped): the sweep's outbox redelivery sends every "
        "page and every e-mail once",
        _redis_flushed,
        # Pending pages are sent again once a minute old: too long a wait for CI's run.
        in_short=False,
        drain_seconds=150,
    ),
    Scenario(
        "postgres restart",
        "PostgreSQL (the harness's own cluster) stopped 5 s and started under load: people and "
        "the API get a 503 that says so, pages come back by themselves, workers reconnect, no "
        "filing answered 2xx is lost",
        _postgres_restart,
        # Filings sent while it is down are refused (503), and the load counts them as failed.
        Rules(allow_request_errors=True),
        in_short=False,
        drain_seconds=180,
        verify=_postgres_checks,
        own_postgres=True,
    ),
    Scenario(
        "beat stopped",
        "both beats stopped 10 minutes (45 s with --short) while 20 first-response targets and "
        "every running page chain's next step fall due: started again, their first sweep "
        "breaches each once and moves each chain one step, late; a ticket answered late "
        "meanwhile keeps its miss on the ticket",
        _beats_stopped,
        verify=_due_checks,
        drain_seconds=150,
    ),
    Scenario(
        "gateway failing",
        "the gateway answers 500 (45 s; 40 with --short), then hangs past the delivery timeout "
        "(25 s; 20), then works, with every team's ladder moving each minute and ten held "
        "tickets paged as it begins failing: pages are retried with growing "
        "waits, a page that used all its attempts is marked failed and its chain escalates to "
        "the next step, and each page reaches the gateway exactly once (by Idempotency-Key)",
        _gateway_failing,
        Rules(failed_pages_allowed=True),
        in_short=False,
        drain_seconds=180,
        verify=_gateway_checks,
    ),
    Scenario(
        "web worker killed",
        "kill -9 of gunicorn workers mid-request, every half second: the integration retries "
        "with the same Idempotency-Key and gets one ticket",
        _kill_web_workers,
        Rules(allow_request_errors=True),
    ),
    Scenario(
        "clock jump",
        "one sweep sees the time two hours ahead (the harness runs the product's own sweep, "
        "tickets.sweep.sla_sweep, with now two hours on, beside the beats' sweeps on the real "
        "clock; no process's clock is changed), with 20 first-response targets and every "
        "running page chain falling due within those two hours: each breach fires once, oldest "
        "first, and no later sweep repeats it; each due chain moves one step, with its timeline "
        "event, and its pages are delivered once",
        _clock_jump,
        verify=_clock_jump_checks,
    ),
    Scenario(
        "redis eviction",
        "a worker refuses to start on a Redis whose maxmemory-policy may evict queued tasks",
        _nothing,
        standalone=_evicting_redis_refused,
    ),
)


def select(only: str, *, short: bool) -> list[Scenario]:
    names = [name.strip() for name in only.split(",") if name.strip()]
    known = {scenario.name.replace(" ", "-"): scenario for scenario in SCENARIOS}
    unknown = [name for name in names if name.replace(" ", "-") not in known]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(known)}")
    if names:
        return [known[name.replace(" ", "-")] for name in names]
    return [scenario for scenario in SCENARIOS if scenario.in_short or not short]
