"""The broker and a real Celery worker, for measures that need background work to happen.

``choose_broker`` runs before Django starts (the broker URL is a setting): ``page_latency`` needs
PostgreSQL and Redis, so when it is selected the run publishes to Redis, to ``CELERY_BROKER_URL``
if that names Redis, else to a bench-only database (``BENCH_REDIS_URL``, default
``redis://127.0.0.1:6379/14``). ``CeleryWorker`` starts ``celery -A helpdesk worker`` as a
subprocess on the bench queue, with the bench's settings and database, and stops it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
REDIS_SCHEMES = frozenset({"redis", "rediss"})
PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class BrokerChoice:
    url: str | None  # the Redis URL page_latency publishes to; None when it is skipped
    skip: str  # why page_latency cannot run here ("" when it can)


def choose_broker(*, wants_worker: bool, vendor: str) -> BrokerChoice:
    """Decide (and export) the broker before Django reads its settings."""
    if not wants_worker:
        return BrokerChoice(None, "")
    if vendor != "postgresql":
        return BrokerChoice(None, "needs PostgreSQL (DATABASE_URL); this run is on SQLite")
    configured = os.environ.get("CELERY_BROKER_URL", "")
    scheme = urlsplit(configured).scheme.lower()
    if configured and scheme not in REDIS_SCHEMES:
        return BrokerChoice(None, f"needs a Redis broker; CELERY_BROKER_URL is {scheme}://")
    url = configured or os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    problem = redis_problem(url)
    if problem:
        return BrokerChoice(None, f"Redis at {_where(url)} is not reachable ({problem})")
    os.environ["CELERY_BROKER_URL"] = url
    return BrokerChoice(url, "")


def redis_problem(url: str) -> str:
    """'' when Redis answers PING at ``url``, else what went wrong."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()  # type: ignore[no-untyped-call]
    except Exception as error:  # connection refused, auth, DNS: all mean "not here"
        return f"{type(error).__name__}: {error}"
    return ""


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path}"


def purge_queue() -> int:
    """Drop every message waiting in the bench's queue (the bench's broker, whichever it is)."""
    from bench.settings import CELERY_TASK_DEFAULT_QUEUE
    from helpdesk.celery import app

    with app.connection_for_write() as connection:
        channel: Any = getattr(connection, "default_channel")  # noqa: B009 (untyped in stubs)
        purged = channel.queue_purge(CELERY_TASK_DEFAULT_QUEUE)
    return int(purged or 0)


class CeleryWorker:
    """``python -m celery -A helpdesk worker --pool=solo -Q <bench queue>`` in a subprocess."""

    def __init__(self, *, env: dict[str, str], log_path: Path) -> None:
        from bench.settings import CELERY_TASK_DEFAULT_QUEUE

        self.queue = CELERY_TASK_DEFAULT_QUEUE
        self.name = f"bench-{os.getpid()}@localhost"
        self.log_path = log_path
        self._log: IO[bytes] | None = None
        self._env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", **env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 60.0) -> float:
        """Start it and wait until it answers a ping; returns the seconds that took."""
        from helpdesk.celery import app

        started = time.perf_counter()
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=solo",
                "-Q", self.queue, "-n", self.name, "--loglevel=INFO",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=PROJECT_DIR,
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the Celery worker exited with {self.process.returncode}: {self.log_tail()}"
                )
            if app.control.ping(destination=[self.name], timeout=0.5):
                return time.perf_counter() - started
        raise RuntimeError(f"the Celery worker did not answer in {timeout:.0f}s: {self.log_tail()}")

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()  # warm shutdown: the current task finishes
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no worker log)"
        return " | ".join(text.strip().splitlines()[-lines:])
