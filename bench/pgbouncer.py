"""A throwaway PgBouncer for the tests: Debian's ``pgbouncer`` on a free port of 127.0.0.1, in
transaction pooling mode (what hospitals run), in front of the PostgreSQL server the suite uses,
with its configuration, log and pid file in a temporary folder.

Every database is reachable through it (a ``*`` entry), so the test databases pytest-django
creates are too. Clients are not authenticated (``auth_type = any``); PgBouncer logs in to
PostgreSQL as the suite does. It refuses start-up parameters it does not know (``options``
among them), as a production PgBouncer does.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2

from bench.slapd import free_port

PGBOUNCER = "/usr/sbin/pgbouncer"
# PgBouncer refuses to run as root; as root, it runs as the database's system account.
SYSTEM_USER = "postgres"


def pgbouncer_available() -> bool:
    return os.access(PGBOUNCER, os.X_OK)


def run_as() -> list[str]:
    """The arguments that drop root, when the suite runs as root."""
    return ["-u", SYSTEM_USER] if os.geteuid() == 0 else []


def hand_over(folder: Path) -> None:
    """Make ``folder`` the system account's when the suite runs as root."""
    if os.geteuid() == 0:
        account = pwd.getpwnam(SYSTEM_USER)
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)


class PgBouncer:
    """A running pgbouncer. ``port`` is where clients connect; ``user`` and ``server`` are the
    PostgreSQL account and address it logs in to."""

    def __init__(
        self,
        folder: Path,
        *,
        server_host: str,
        server_port: int,
        user: str,
        password: str = "",
        pool_size: int = 4,
    ) -> None:
        self.folder = folder
        self.port = free_port()
        self.user = user
        self.server_port = server_port
        self.process: subprocess.Popen[bytes] | None = None
        login = f"user={user}" + (f" password={password}" if password else "")
        self.config = folder / "pgbouncer.ini"
        self.config.write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host={server_host} port={server_port} {login}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = any",
                    "pool_mode = transaction",
                    f"default_pool_size = {pool_size}",
                    "max_client_conn = 200",
                    f"logfile = {folder / 'pgbouncer.log'}",
                    f"pidfile = {folder / 'pgbouncer.pid'}",
                    "",
                ]
            )
        )
        hand_over(folder)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [PGBOUNCER, *run_as(), str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                psycopg2.connect(self.dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pgbouncer did not start: {self.log()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={database} user={self.user}"

    def url(self, database: str) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


@contextmanager
def running_pgbouncer(
    *, server_host: str, server_port: int, user: str, password: str = "", pool_size: int = 4
) -> Iterator[PgBouncer]:
    """A started pgbouncer, stopped and wiped afterwards. Stopping it closes its connections
    to the server, so the databases behind it can be dropped."""
    folder = Path(tempfile.mkdtemp(prefix="helpdesk-pgbouncer-"))
    bouncer = PgBouncer(
        folder,
        server_host=server_host,
        server_port=server_port,
        user=user,
        password=password,
        pool_size=pool_size,
    )
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()
        shutil.rmtree(folder, ignore_errors=True)
