"""``python -m bench``: make a throwaway database, seed it, time the measures, print, clean up.

Output (stdout): one line per measure, ``name: n=.. p50_ms=.. p95_ms=.. queries=.. ratio_p95=..``;
every other line starts with ``#``. Errors go to stderr with a non-zero exit status.
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import database
from bench.measures import BASELINE, REGISTRY, Bench, BenchError, Measure

DEFAULT_DB_NAME = "helpdesk_bench"


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    n: int
    p50_ms: float
    p95_ms: float
    queries: int

    def line(self, baseline_p95_ms: float) -> str:
        ratio = self.p95_ms / baseline_p95_ms if baseline_p95_ms > 0 else math.nan
        return (
            f"{self.name}: n={self.n} p50_ms={self.p50_ms:.2f} p95_ms={self.p95_ms:.2f} "
            f"queries={self.queries} ratio_p95={ratio:.2f}"
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
            + f". ratio_p95 is each p95 over {BASELINE}'s, which always runs."
        ),
    )
    parser.add_argument("--n", type=_positive, default=200, help="timed calls per measure")
    parser.add_argument(
        "--warmup", type=_non_negative, default=20, help="untimed calls first (default 20)"
    )
    parser.add_argument(
        "--tickets", type=_positive, default=100_000, help="tickets to seed (default 100000)"
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
    return parser.parse_args(argv)


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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    measures = select(args.only)
    var_dir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    db: database.BenchDatabase | None = None
    try:
        db = database.prepare(os.environ.get("DATABASE_URL"), args.db_name, var_dir)
        _configure_environment(db, var_dir)
        return _run(args, measures, db)
    except (database.DatabaseError, BenchError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        _clean_up(db, var_dir, keep=args.keep)


def _configure_environment(db: database.BenchDatabase, var_dir: Path) -> None:
    """What bench.settings reads when Django imports it (so this runs before django.setup())."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["HELPDESK_VAR_DIR"] = str(var_dir)
    # Production's settings: no query log, no debug templates, HTTPS redirect on.
    os.environ["DJANGO_DEBUG"] = "0"
    if db.url is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = db.url


def _run(args: argparse.Namespace, measures: list[Measure], db: database.BenchDatabase) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench import settings as bench_settings
    from bench.seed import SeedConfig, seed

    say(f"database: {db.describe()}{_sqlite_version(connection.vendor)}")
    broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
    say(
        f"django {django.get_version()}, DEBUG={settings.DEBUG}; celery broker {broker} "
        f"(queue {bench_settings.CELERY_TASK_DEFAULT_QUEUE}, nothing consumes it)"
    )
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    say(f"migrated in {time.perf_counter() - started:.1f}s")

    seeded = seed(SeedConfig(tickets=args.tickets), log=lambda text: say(f"seeding {text}"))
    say(
        f"seeded {seeded.tickets:,} tickets ({seeded.open_tickets:,} open, {seeded.events:,} "
        f"events), {seeded.counts['requesters']:,} requesters, {seeded.counts['technicians']} "
        f"technicians, {seeded.counts['locations']} locations in {seeded.seconds:.1f}s; "
        f"nurse owns {seeded.nurse_tickets}"
    )
    say(f"n={args.n} timed calls per measure after {args.warmup} warm-up calls; {_load()} at start")

    bench = Bench(seeded=seeded)
    results: dict[str, Result] = {}
    printed: set[str] = set()
    for measure in measures:
        results[measure.name] = time_measure(
            measure, bench, n=args.n, warmup=args.warmup, show_sql=args.sql
        )
        baseline = results.get(BASELINE)
        if baseline is None:
            continue  # lines before the baseline's wait for it
        for name, result in results.items():
            if name not in printed:
                print(result.line(baseline.p95_ms), flush=True)
                printed.add(name)
    say(f"{_load()} at end")
    return 0


def _load() -> str:
    """Other work on the machine shows in the percentiles; say how busy it was."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} (5 min {five:.2f}) on {os.cpu_count()} CPUs"


def time_measure(
    measure: Measure, bench: Bench, *, n: int, warmup: int, show_sql: bool = False
) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    n = measure.n or n
    operation = measure.prepare(bench)
    for _ in range(measure.warmup if measure.warmup is not None else warmup):
        operation()
    # One extra, untimed call for the query count (capturing slows queries down a little).
    with CaptureQueriesContext(connection) as captured:
        operation()
    # Count now: the next request's request_started signal empties the query log.
    queries = len(captured)
    if show_sql:
        for number, query in enumerate(captured, start=1):
            say(f"{measure.name} query {number}: {' '.join(query['sql'].split())}")
    gc.collect()
    samples: list[float] = []
    clock = time.perf_counter
    for _ in range(n):
        start = clock()
        operation()
        samples.append(clock() - start)
    samples.sort()
    return Result(
        name=measure.name,
        n=n,
        p50_ms=percentile(samples, 0.50) * 1000,
        p95_ms=percentile(samples, 0.95) * 1000,
        queries=queries,
    )


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
    """Drop the run's filing notifications from a Redis broker (a filesystem broker's queue is
    in the temporary directory, removed with it)."""
    from django.conf import settings

    if not settings.configured or settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return
    from helpdesk.celery import app

    try:
        purged = app.control.purge()
    except Exception as error:  # a broker that is down has nothing of ours to purge
        say(f"could not purge the bench queue: {error}")
    else:
        say(f"purged {purged} queued notifications from the broker")
