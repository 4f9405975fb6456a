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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psutil
from django.db import connection
from django.utils import timezone
from locust.stats import RequestStats

from bench.receiver import WebhookReceiver
from faults.invariants import Rules
from faults.load import filing_times, p95_between
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
        "redis flushed",
        "FLUSHALL with tasks queued (workers stopped): the sweep's outbox redelivery sends every "
        "page and every e-mail once",
        _redis_flushed,
        # Pending pages are sent again once a minute old: too long a wait for CI's run.
        in_short=False,
        drain_seconds=150,
    ),
    Scenario(
        "web worker killed",
        "kill -9 of gunicorn workers mid-request, every half second: the integration retries "
        "with the same Idempotency-Key and gets one ticket",
        _kill_web_workers,
        Rules(allow_request_errors=True),
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
