"""The help desk as separate processes on this machine, as production runs it, for the harness to
hurt: a Redis of its own, two gunicorn instances, two Celery workers and two Celery beats.

Every process gets its settings from the environment (``Stack.env``), as in production, and
writes its log to a file in the run's directory. Each runs in a process group of its own, so
that stopping or killing one reaches its children (gunicorn's and Celery's workers) and nothing
else. Nothing here imports Django: the harness's own process sets Django up separately.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil
import redis
import requests

PROJECT_DIR = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = PROJECT_DIR / "gunicorn.conf.py"
# A 500 in gunicorn's access log (gunicorn.conf.py: '... "GET /path HTTP/1.1" 500 1234 ...').
_ACCESS_STATUS = re.compile(r'" (\d{3}) ')


class StackError(RuntimeError):
    """A process of the stack would not start; the message says which and why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Process:
    """One long-running process of the stack, started in a process group of its own."""

    name: str
    command: list[str]
    log_path: Path
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None
    # Where this start's lines begin in the log (a restart appends to it).
    log_offset: int = 0
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.log_offset = self._log.tell()
        self.popen = subprocess.Popen(
            self.command,
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise StackError(f"{self.name} is not running")
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def children(self) -> list[psutil.Process]:
        try:
            children: list[psutil.Process] = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return children

    def kill(self) -> None:
        """``kill -9`` the process and its children: what an OOM killer or a power cut does."""
        self._signal_group(signal.SIGKILL)
        self._reap(5)

    def terminate(self) -> None:
        """Ask for a warm shutdown (SIGTERM) without waiting for it."""
        if self.running():
            self._signal_group(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> None:
        """A warm shutdown (SIGTERM), killed if it is not over in ``timeout`` seconds."""
        if self.running():
            self._signal_group(signal.SIGTERM)
            if not self._reap(timeout):
                self._signal_group(signal.SIGKILL)
                self._reap(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def wait(self, timeout: float) -> bool:
        """Wait for a process that ends by itself; True when it ended well."""
        if self.popen is None or not self._reap(timeout):
            return False
        self.stop()
        return self.popen.returncode == 0

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 12) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:])

    def _signal_group(self, signum: int) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)

    def _reap(self, timeout: float) -> bool:
        if self.popen is None:
            return True
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True


@dataclass
class RedisServer:
    """A ``redis-server`` of the harness's own, on a free port, without persistence: stopping it
    loses what was queued, as a crash of an unpersisted Redis does."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self, *, maxmemory_policy: str = "noeviction") -> list[str]:
        return [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.directory), "--save", "", "--appendonly", "no",
            "--maxmemory", "256mb", "--maxmemory-policy", maxmemory_policy,
        ]  # fmt: skip

    def start(self, *, maxmemory_policy: str = "noeviction") -> None:
        self.process = Process(
            "redis",
            self.command(maxmemory_policy=maxmemory_policy),
            self.directory / "redis.log",
            dict(os.environ),
        )
        self.process.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.ping():
                return
            time.sleep(0.1)
        raise StackError(f"redis-server did not answer: {self.process.log_tail()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)

    def ping(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def version(self) -> str:
        with self.client() as client:
            return str(client.info("server")["redis_version"])


@dataclass
class Stack:
    """Every process of the help desk; ``env`` is what each of them reads its settings from."""

    run_dir: Path
    env: dict[str, str]
    web: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)
    beats: list[Process] = field(default_factory=list)
    web_ports: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, run_dir: Path, env: dict[str, str], *, instances: int = 2) -> Stack:
        stack = cls(run_dir=run_dir, env=env)
        python = sys.executable
        for n in range(1, instances + 1):
            port = free_port()
            stack.web_ports.append(port)
            stack.web.append(
                Process(
                    f"web-{n}",
                    [
                        python, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG),
                        "--bind", f"127.0.0.1:{port}", "helpdesk.wsgi:application",
                    ],
                    run_dir / f"web-{n}.log",
                    env,
                )
            )  # fmt: skip
            stack.workers.append(
                Process(
                    f"worker-{n}",
                    [
                        python, "-m", "celery", "-A", "helpdesk", "worker", "--loglevel", "INFO",
                        "--concurrency", "2", "--without-gossip", "--without-mingle",
                        "--hostname", f"faults-worker-{n}@%h",
                    ],
                    run_dir / f"worker-{n}.log",
                    env,
                )
            )  # fmt: skip
            stack.beats.append(
                Process(
                    f"beat-{n}",
                    [
                        python, "-m", "celery", "-A", "helpdesk", "beat", "--loglevel", "INFO",
                        "--schedule", str(run_dir / f"celerybeat-schedule-{n}"),
                    ],
                    run_dir / f"beat-{n}.log",
                    env,
                )
            )  # fmt: skip
        return stack

    @property
    def processes(self) -> Iterator[Process]:
        yield from self.web
        yield from self.workers
        yield from self.beats

    @property
    def base_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.web_ports]

    def start(self, *, timeout: float = 90.0) -> None:
        for process in self.processes:
            process.start()
        self.wait_web(timeout=timeout)
        self.wait_workers(self.workers, timeout=timeout)

    def stop(self) -> None:
        """Every process's warm shutdown at once, then each one waited for (or killed)."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.stop()

    def wait_web(self, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for process, url in zip(self.web, self.base_urls, strict=True):
            while True:
                if not process.running():
                    raise StackError(f"{process.name} exited: {process.log_tail()}")
                try:
                    if requests.get(f"{url}/healthz/", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise StackError(f"{process.name} did not answer: {process.log_tail()}")
                time.sleep(0.25)

    def wait_workers(self, workers: list[Process], *, timeout: float = 60.0) -> None:
        """Until each worker's log says it is ready to take tasks."""
        deadline = time.monotonic() + timeout
        for process in workers:
            while "ready." not in _read(process.log_path, process.log_offset):
                if not process.running():
                    raise StackError(f"{process.name} exited: {process.log_tail()}")
                if time.monotonic() > deadline:
                    raise StackError(f"{process.name} never got ready: {process.log_tail()}")
                time.sleep(0.25)

    def server_errors(self) -> int:
        """Server errors in every web log so far: responses with status 500 or more, except
        the 503 that says the database is unreachable (a clear answer, not a failure)."""
        count = 0
        for process in self.web:
            for line in _read(process.log_path).splitlines():
                found = _ACCESS_STATUS.search(line)
                if found and int(found.group(1)) >= 500 and int(found.group(1)) != 503:
                    count += 1
        return count


def _read(path: Path, offset: int = 0) -> str:
    try:
        with path.open("rb") as file:
            file.seek(offset)
            return file.read().decode(errors="replace")
    except OSError:
        return ""
