"""``python -m bench``: make a throwaway database, seed it, time the measures, print, clean up.

Output (stdout): one line per measure, ``name: n=.. p50_ms=.. p95_ms=.. queries=.. ratio_p95=..``;
every other line starts with ``#``. Errors go to stderr with a non-zero exit status.

Sizes: ``--tickets`` (default 100,000) of which ``--open`` are open (default 1%, and at least
twice the tickets the breach sweep needs due). ``--grow-from N`` seeds N tickets first (every
open one among them), times the history measures (``history=True``: the SLA sweeps) there as
``name@<N>``, then adds the rest of the closed history and times everything, the history
measures as ``name@<tickets>``. ``--profile sweep`` is the sweep's target: 100,000 open among
200,000 and then 1,000,000 tickets. ``--profile queue`` is the queue's, the API's and the reports'
target: 10,000 open among 1,000,000 tickets, the reports (history measures) also at 100,000.

History (``--history``, with ``--grow-from``): ``older`` (default) files the first N tickets over
the last 365 days and grows the history backwards, the rest filed over the years before at the
same rate (``--profile queue``: 100,000 in the last year, 900,000 over the nine before), so the
last 90 days hold the same tickets at both sizes: what a help desk that has run for ten years
looks like, and what "a report's cost tracks its range, not the history" is measured on.
``spread`` files every ticket over the same 365 days, so growing makes the year ten times denser
(a report over 90 days covers ten times the tickets): the scenario of a much busier hospital.
Without ``--grow-from`` all the tickets are filed over the last 365 days.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench import database
from bench.measures import BASELINE, REGISTRY, Bench, BenchError, Elapsed, Measure, Skip
from bench.worker import BrokerChoice, choose_broker

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from bench.seed import Seeded

DEFAULT_DB_NAME = "helpdesk_bench"
DEFAULT_TICKETS = 100_000
# Named sizes; explicit --tickets / --open / --grow-from override a profile's.
PROFILES: dict[str, dict[str, int | None]] = {
    "default": {"tickets": DEFAULT_TICKETS, "open": None, "grow_from": None},
    # The sweep's target: 100,000 open tickets among 200,000, then among 1,000,000.
    "sweep": {"tickets": 1_000_000, "open": 100_000, "grow_from": 200_000},
    # The queue's and the reports' target: 10,000 open tickets among 1,000,000; the history
    # measures (the reports) also at 100,000.
    "queue": {"tickets": 1_000_000, "open": 10_000, "grow_from": 100_000},
}
# bench.ticketgen.HISTORIES, which cannot be imported before Django is set up.
HISTORY_CHOICES = ("older", "spread")
# Measures that need a Celery worker (and so PostgreSQL and Redis).
WORKER_MEASURES = frozenset({"page_latency"})


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    n: int
    p50_ms: float
    p95_ms: float
    queries: int
    # The median CPU time this process spent on a call: Django's side of it (the database's work
    # and the waits are not in it). Other work on the machine moves it far less than the clock,
    # so its ratio says where a change went when the machine is busy.
    cpu_p50_ms: float = math.nan

    def line(self, baseline: Result) -> str:
        ratio = self.p95_ms / baseline.p95_ms if baseline.p95_ms > 0 else math.nan
        cpu_ratio = self.cpu_p50_ms / baseline.cpu_p50_ms if baseline.cpu_p50_ms > 0 else math.nan
        return (
            f"{self.name}: n={self.n} p50_ms={self.p50_ms:.2f} p95_ms={self.p95_ms:.2f} "
            f"queries={self.queries} ratio_p95={ratio:.2f} cpu_p50_ms={self.cpu_p50_ms:.2f} "
            f"cpu_ratio={cpu_ratio:.2f}"
        )


def percentile(sorted_samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of samples sorted ascending."""
    if not sorted_samples:
        raise ValueError("no samples")
    rank = max(1, math.ceil(fraction * len(sorted_samples)))
    return sorted_samples[rank - 1]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Seed a throwaway database (PostgreSQL when DATABASE_URL names one, else a temporary "
            "SQLite file) and time requests through the full Django stack. Measures: "
            + ", ".join(REGISTRY)
            + f". ratio_p95 is each p95 over {BASELINE}'s, which always runs; cpu_ratio is each "
            "median CPU time (this process's, not the database's) over its."
        ),
    )
    parser.add_argument("--n", type=_positive, default=200, help="timed calls per measure")
    parser.add_argument(
        "--warmup", type=_non_negative, default=20, help="untimed calls first (default 20)"
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="default",
        help="named sizes: default (100000 tickets, 1%% open); sweep (1000000 tickets, 100000 "
        "open, history measures also at 200000); queue (1000000 tickets, 10000 open, history "
        "measures (the reports) also at 100000)",
    )
    parser.add_argument(
        "--tickets", type=_positive, default=None, help="tickets to seed (default 100000)"
    )
    parser.add_argument(
        "--open",
        type=_positive,
        default=None,
        help="of which open (default 1%%, at least twice the breach sweep's due tickets)",
    )
    parser.add_argument(
        "--grow-from",
        type=_positive,
        default=None,
        metavar="N",
        help="seed N tickets first (all the open ones among them) and time the history measures "
        "(the SLA sweeps) there too, then grow the closed history to --tickets",
    )
    parser.add_argument(
        "--history",
        choices=HISTORY_CHOICES,
        default="older",
        help="with --grow-from, what growing adds: older (default) files the first N tickets "
        "over the last 365 days and the rest over the years before, at the same rate (a date "
        "range holds the same tickets at both sizes); spread files them all over the same 365 "
        "days (growing makes the range denser)",
    )
    parser.add_argument("--only", default="", help="comma-separated measures to run")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (and temporary directory)"
    )
    parser.add_argument(
        "--sql", action="store_true", help="print each measure's queries (as # lines)"
    )
    parser.add_argument(
        "--db-name",
        default=DEFAULT_DB_NAME,
        help=f"PostgreSQL database to (re)create (default {DEFAULT_DB_NAME})",
    )
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile]
    for name in ("tickets", "open", "grow_from"):
        if getattr(args, name) is None:
            setattr(args, name, profile[name])
    if args.grow_from is not None and args.grow_from >= args.tickets:
        args.grow_from = None  # nothing to grow
    return args


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _non_negative(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return value


def select(only: str) -> list[Measure]:
    """The measures to run, in registry order; the baseline always runs."""
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        raise SystemExit(f"unknown measure(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    wanted = set(names) | {BASELINE} if names else set(REGISTRY)
    return [measure for name, measure in REGISTRY.items() if name in wanted]


def say(text: str) -> None:
    print(f"# {text}", flush=True)


def size_label(count: int) -> str:
    """200000 -> 200k, 1000000 -> 1m, 1500 -> 1.5k."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:g}m"
    if count >= 1_000:
        return f"{count / 1_000:g}k"
    return str(count)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    measures = select(args.only)
    var_dir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    db: database.BenchDatabase | None = None
    try:
        db = database.prepare(os.environ.get("DATABASE_URL"), args.db_name, var_dir)
        broker = _configure_environment(db, var_dir, measures)
        return _run(args, measures, db, broker, var_dir)
    except (database.DatabaseError, BenchError, ValueError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        _clean_up(db, var_dir, keep=args.keep)


def _configure_environment(
    db: database.BenchDatabase, var_dir: Path, measures: list[Measure]
) -> BrokerChoice:
    """What bench.settings reads when Django imports it (so this runs before django.setup())."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["HELPDESK_VAR_DIR"] = str(var_dir)
    # Production's settings: no query log, no debug templates, HTTPS redirect on.
    os.environ["DJANGO_DEBUG"] = "0"
    if db.url is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = db.url
    # The worker's pages go to the bench's receiver, nowhere else.
    for name in ("HELPDESK_PAGING_WEBHOOK_URL", "HELPDESK_PAGING_WEBHOOK_SECRET"):
        os.environ.pop(name, None)
    return choose_broker(
        wants_worker=any(m.name in WORKER_MEASURES for m in measures), vendor=db.vendor
    )


def _run(
    args: argparse.Namespace,
    measures: list[Measure],
    db: database.BenchDatabase,
    broker: BrokerChoice,
    var_dir: Path,
) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench import settings as bench_settings
    from bench.seed import SeedConfig, Seeder

    say(f"database: {db.describe()}{_sqlite_version(connection.vendor)}")
    scheme = settings.CELERY_BROKER_URL.split("://", 1)[0]
    consumer = "a worker consumes it during page_latency" if broker.url else "nothing consumes it"
    say(
        f"django {django.get_version()}, DEBUG={settings.DEBUG}; celery broker {scheme} "
        f"(queue {bench_settings.CELERY_TASK_DEFAULT_QUEUE}, {consumer})"
    )
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    say(f"migrated in {time.perf_counter() - started:.1f}s")
    if broker.url:
        _purge_broker_queue()

    config = SeedConfig(
        tickets=args.tickets,
        open_tickets=args.open,
        first_stage=args.grow_from,
        history=args.history,
    )
    say(f"history: {config.describe_history()}")
    seeder = Seeder(config, log=lambda text: say(f"seeding {text}"))
    seeded = seeder.seed()
    _say_seeded(seeded)
    say(f"n={args.n} timed calls per measure after {args.warmup} warm-up calls; {_load()} at start")

    bench = Bench(seeded=seeded, var_dir=var_dir, redis_url=broker.url, worker_skip=broker.skip)
    for stage in range(1, seeded.stages + 1):
        if stage > 1:
            seeded = seeder.grow()
            bench.seeded = seeded
            say(
                f"grew the closed history to {seeded.tickets:,} tickets ({seeded.events:,} "
                f"events) in {seeded.seconds:.1f}s"
            )
        final = stage == seeded.stages
        staged = [m for m in measures if final or m.history or m.name == BASELINE]
        _run_stage(args, staged, bench, labelled=seeded.stages > 1, final=final)
    say(f"{_load()} at end")
    return 0


def _run_stage(
    args: argparse.Namespace,
    measures: list[Measure],
    bench: Bench,
    *,
    labelled: bool,
    final: bool,
) -> None:
    seeded = bench.seeded
    suffix = f"@{size_label(seeded.tickets)}"
    if any(m.history for m in measures):
        _say_sweep_counts(seeded)
    results: dict[str, Result] = {}
    printed: set[str] = set()
    for measure in measures:
        name = measure.name
        if labelled and (measure.history or (measure.name == BASELINE and not final)):
            name += suffix
        try:
            result = time_measure(
                measure, bench, n=args.n, warmup=args.warmup, show_sql=args.sql, name=name
            )
        except Skip as skip:
            say(f"{measure.name} skipped: {skip}")
            continue
        results[measure.name] = result
        baseline = results.get(BASELINE)
        if baseline is None:
            continue  # lines before the baseline's wait for it
        for key, found in results.items():
            if key not in printed:
                print(found.line(baseline), flush=True)
                printed.add(key)


def _say_seeded(seeded: Seeded) -> None:
    say(
        f"seeded {seeded.tickets:,} tickets ({seeded.open_tickets:,} open, {seeded.events:,} "
        f"events), {seeded.counts['requesters']:,} requesters, {seeded.counts['technicians']} "
        f"technicians ({seeded.counts['rotations']} on-call rotations), "
        f"{seeded.counts['locations']} locations in {seeded.seconds:.1f}s; "
        f"nurse owns {seeded.nurse_tickets}"
    )


def _say_sweep_counts(seeded: Seeded) -> None:
    order = ["on_track", "at_risk", "breached", "paused", "due"]
    names = [state for state in order if state in seeded.states]
    names += sorted(set(seeded.states) - set(order))
    states = ", ".join(f"{name.replace('_', ' ')} {seeded.states[name]:,}" for name in names)
    say(
        f"sla sweep over {seeded.open_tickets:,} open tickets among {seeded.tickets:,} "
        f"({states}); idle sweep at the seed's now, breach sweep "
        f"{(seeded.sweep_breach_at - seeded.sweep_idle_at).total_seconds():.0f}s later "
        f"({len(seeded.breach_ticket_ids):,} first responses due in between)"
    )


def _load() -> str:
    """Other work on the machine shows in the percentiles; say how busy it was."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} (5 min {five:.2f}) on {os.cpu_count()} CPUs"


def time_measure(
    measure: Measure,
    bench: Bench,
    *,
    n: int,
    warmup: int,
    show_sql: bool = False,
    name: str | None = None,
) -> Result:
    """Warm up, count one call's queries, time ``n`` calls. A measure's own n / warmup cap the
    run's. ``Timed`` operations are reset (untimed) after every call and closed at the end."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    name = name or measure.name
    n = min(n, measure.n) if measure.n else n
    warmup = min(warmup, measure.warmup) if measure.warmup is not None else warmup
    operation = measure.prepare(bench)
    reset: Callable[[], None] | None = getattr(operation, "reset", None)
    close: Callable[[], None] | None = getattr(operation, "close", None)
    clock = time.perf_counter
    queries = 0

    def counted() -> None:
        """One untimed call, its queries counted (capturing slows queries down a little). The
        log keeps every query: a sweep runs thousands."""
        nonlocal queries
        with _unlimited_query_log(connection):
            with CaptureQueriesContext(connection) as captured:
                operation()
            # Count now: the next request's request_started signal empties the query log.
            logged = captured.captured_queries
        queries = len(logged)
        if show_sql:
            for number, query in enumerate(logged, start=1):
                say(f"{name} query {number}: {' '.join(query['sql'].split())}")

    try:
        # The count is taken on the last warm-up call, or on one more call when there are
        # fewer than two (so that it is never the cold first call after warm-up calls).
        calls = warmup if warmup >= 2 else warmup + 1
        for number in range(calls):
            if number == calls - 1:
                counted()
            else:
                operation()
            if reset is not None:
                reset()
        gc.collect()
        samples: list[float] = []
        cpu: list[float] = []
        for _ in range(n):
            start, start_cpu = clock(), time.process_time()
            value = operation()
            elapsed, elapsed_cpu = clock() - start, time.process_time() - start_cpu
            samples.append(float(value) if isinstance(value, Elapsed) else elapsed)
            cpu.append(elapsed_cpu)
            if reset is not None:
                reset()
    finally:
        if close is not None:
            close()
    samples.sort()
    cpu.sort()
    return Result(
        name=name,
        n=n,
        p50_ms=percentile(samples, 0.50) * 1000,
        p95_ms=percentile(samples, 0.95) * 1000,
        queries=queries,
        cpu_p50_ms=percentile(cpu, 0.50) * 1000,
    )


@contextmanager
def _unlimited_query_log(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Django keeps the last 9,000 queries in a connection's log; keep them all for a while."""
    limited = connection.queries_log
    connection.queries_log = deque(limited)
    try:
        yield
    finally:
        connection.queries_log = deque(connection.queries_log, maxlen=limited.maxlen)


def _sqlite_version(vendor: str) -> str:
    if vendor != "sqlite":
        return ""
    import sqlite3

    return f" (SQLite {sqlite3.sqlite_version})"


def _clean_up(db: database.BenchDatabase | None, var_dir: Path, *, keep: bool) -> None:
    if "django" in sys.modules and os.environ.get("DJANGO_SETTINGS_MODULE") == "bench.settings":
        _purge_broker_queue()
        from django.db import connections

        connections.close_all()
    if keep:
        if db is not None:
            say(f"kept {db.describe()}")
        say(f"kept {var_dir}")
        return
    try:
        if db is not None:
            db.drop()
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def _purge_broker_queue() -> None:
    """Drop the run's queued tasks from a Redis broker (a filesystem broker's queue is in the
    temporary directory, removed with it)."""
    from django.conf import settings

    if not settings.configured or settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return
    from bench.worker import purge_queue

    try:
        purged = purge_queue()
    except Exception as error:  # a broker that is down has nothing of ours to purge
        say(f"could not purge the bench queue: {error}")
    else:
        say(f"purged {purged} queued tasks from the bench queue")
