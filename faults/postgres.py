"""A PostgreSQL cluster of the harness's own, for the scenario that restarts the database: made
with ``initdb`` in the run's folder and started with ``pg_ctl`` on a free port of 127.0.0.1, so
that restarting it touches no other database on this machine."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2

from bench.pgbouncer import SYSTEM_USER, hand_over
from bench.replica import BIN, as_system_user
from faults.stack import StackError, free_port


def cluster_tools_available() -> bool:
    return all(os.access(BIN / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres"))


@dataclass
class Cluster:
    folder: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    def admin_params(self) -> dict[str, Any]:
        """What the harness connects with to make and drop its database."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "user": SYSTEM_USER,
            "password": None,
            "dbname": "postgres",
            "connect_timeout": 5,
        }

    def create(self) -> None:
        if not cluster_tools_available():
            raise StackError(f"PostgreSQL's server programs are not in {BIN}")
        self.folder.mkdir(parents=True, exist_ok=True)
        # PostgreSQL runs as its system account, which must reach the run's folder (and only
        # pass through it: the folder lists nothing to others).
        os.chmod(self.folder.parent, 0o711)  # noqa: S103
        hand_over(self.folder)
        self._run(
            "initdb", f"--pgdata={self.data}", f"--username={SYSTEM_USER}", "--auth=trust",
            "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.folder}'\nfsync = off\n"
                "synchronous_commit = off\nshared_buffers = 64MB\nmax_connections = 100\n"
            )
        hand_over(self.folder)

    def start(self) -> None:
        self._run("pg_ctl", "start", "--wait", f"--pgdata={self.data}", f"--log={self.log}")
        deadline = time.monotonic() + 30
        while not self.ready():
            if time.monotonic() > deadline:
                raise StackError(f"PostgreSQL did not start: {self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """A fast shutdown: every session is ended, as a restart or a failover ends them."""
        self._run("pg_ctl", "stop", "--wait", "--mode=fast", f"--pgdata={self.data}", check=False)

    def ready(self) -> bool:
        params = {key: value for key, value in self.admin_params().items() if value is not None}
        try:
            psycopg2.connect(**params).close()
        except psycopg2.OperationalError:
            return False
        return True

    def version(self) -> str:
        return self._run("postgres", "--version").split()[-1]

    def log_tail(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-6:])
        except OSError:
            return "(no log)"

    def _run(self, tool: str, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            as_system_user([str(BIN / tool), *args]), capture_output=True, text=True, check=False
        )
        if check and done.returncode != 0:
            raise StackError(f"{tool} failed: {done.stderr.strip()[-400:]}")
        return done.stdout
