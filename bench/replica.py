"""A throwaway streaming replica for the tests: a second PostgreSQL cluster made with
``pg_basebackup`` from the server the suite uses, started with ``pg_ctl`` on a free port of
127.0.0.1 in a temporary folder, following the primary's WAL as a hot standby.

The primary must accept replication connections from 127.0.0.1: :func:`allow_replication` adds
that rule to its ``pg_hba.conf`` when it is missing and reloads the server's configuration (no
restart). ``wal_level`` must be ``replica`` or more (PostgreSQL's default).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2

from bench.pgbouncer import SYSTEM_USER, hand_over
from bench.slapd import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
# A hot standby refuses to start with any of these lower than on its primary.
STANDBY_LIMITS = (
    "max_connections",
    "max_prepared_transactions",
    "max_locks_per_transaction",
    "max_wal_senders",
    "max_worker_processes",
)
REPLICATION_RULE = "host replication all 127.0.0.1/32 trust"


def replica_tools_available() -> bool:
    return all(os.access(BIN / tool, os.X_OK) for tool in ("pg_basebackup", "pg_ctl", "postgres"))


def as_system_user(command: list[str]) -> list[str]:
    """PostgreSQL's tools refuse to run as root; as root, they run as its system account."""
    return ["runuser", "-u", SYSTEM_USER, "--", *command] if os.geteuid() == 0 else command


def allow_replication(dsn: str) -> None:
    """Let the primary at ``dsn`` (a superuser's connection) stream to 127.0.0.1."""
    primary = psycopg2.connect(dsn)
    primary.autocommit = True
    try:
        with primary.cursor() as cursor:
            cursor.execute("SHOW wal_level")
            (wal_level,) = cursor.fetchone() or ("",)
            if wal_level not in ("replica", "logical"):
                raise RuntimeError(f"the primary's wal_level is {wal_level}: it cannot stream")
            cursor.execute("SHOW hba_file")
            (hba_file,) = cursor.fetchone() or ("",)
            hba = Path(hba_file)
            with hba.open("r+") as rules:
                fcntl.flock(rules, fcntl.LOCK_EX)
                if REPLICATION_RULE not in rules.read().splitlines():
                    rules.write(f"\n# Streaming replicas on this machine\n{REPLICATION_RULE}\n")
                    rules.flush()
                    cursor.execute("SELECT pg_reload_conf()")
                    # The postmaster reads pg_hba.conf again a moment after the signal.
                    time.sleep(1)
    finally:
        primary.close()


class Replica:
    """A running hot standby of the primary at ``primary_host``:``primary_port``."""

    def __init__(self, folder: Path, *, primary_host: str, primary_port: int, user: str) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.user = user
        self.primary_dsn = f"host={primary_host} port={primary_port} dbname=postgres user={user}"
        hand_over(folder)
        subprocess.run(
            as_system_user(
                [
                    str(BIN / "pg_basebackup"),
                    f"--host={primary_host}",
                    f"--port={primary_port}",
                    f"--username={user}",
                    f"--pgdata={self.data}",
                    "--write-recovery-conf",
                    "--wal-method=stream",
                    "--checkpoint=fast",
                    "--no-password",
                ]
            ),
            check=True,
            capture_output=True,
        )
        # Debian keeps the primary's configuration out of its data folder: the replica gets
        # one of its own (its recovery settings are in postgresql.auto.conf).
        (self.data / "postgresql.conf").write_text(
            "\n".join(
                [
                    f"port = {self.port}",
                    "listen_addresses = '127.0.0.1'",
                    f"unix_socket_directories = '{folder}'",
                    "hot_standby = on",
                    *(f"{name} = {value}" for name, value in self.primary_limits().items()),
                    "shared_buffers = 16MB",
                    "fsync = off",
                    "",
                ]
            )
        )
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        (self.data / "pg_ident.conf").write_text("")
        hand_over(folder)

    def primary_limits(self) -> dict[str, str]:
        """The settings a hot standby may not have lower than its primary's."""
        primary = psycopg2.connect(self.primary_dsn)
        try:
            with primary.cursor() as cursor:
                cursor.execute(
                    "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                    [list(STANDBY_LIMITS)],
                )
                return dict(cursor.fetchall())
        finally:
            primary.close()

    def start(self) -> None:
        subprocess.run(
            as_system_user(
                [
                    str(BIN / "pg_ctl"),
                    "start",
                    "--wait",
                    f"--pgdata={self.data}",
                    f"--log={self.folder / 'replica.log'}",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            as_system_user(
                [str(BIN / "pg_ctl"), "stop", "--wait", "--mode=fast", f"--pgdata={self.data}"]
            ),
            check=False,
            capture_output=True,
        )

    def log(self) -> str:
        path = self.folder / "replica.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={database} user={self.user}"

    def url(self, database: str) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, *params: object) -> object:
        """Run ``statement`` on the replica; its first value."""
        connection = psycopg2.connect(self.dsn())
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, params or None)
                row = cursor.fetchone()
                return row[0] if row else None
        finally:
            connection.close()

    def pause(self) -> None:
        """Stop applying the primary's changes: the replica lags from now on."""
        self.sql("SELECT pg_wal_replay_pause()")
        while self.sql("SELECT pg_get_wal_replay_pause_state()") != "paused":
            time.sleep(0.02)

    def resume(self) -> None:
        self.sql("SELECT pg_wal_replay_resume()")

    def catch_up(self, primary_dsn: str, timeout: float = 60) -> None:
        """Wait until the replica has applied everything the primary has written so far."""
        primary = psycopg2.connect(primary_dsn)
        primary.autocommit = True
        try:
            with primary.cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_lsn()::text")
                (target,) = cursor.fetchone() or ("0/0",)
        finally:
            primary.close()
        deadline = time.monotonic() + timeout
        while not self.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the replica did not reach {target} in {timeout} s: {self.log()}"
                )
            time.sleep(0.05)


@contextmanager
def running_replica(*, primary_host: str, primary_port: int, user: str) -> Iterator[Replica]:
    """A started replica of the primary, stopped and wiped afterwards."""
    allow_replication(f"host={primary_host} port={primary_port} dbname=postgres user={user}")
    folder = Path(tempfile.mkdtemp(prefix="helpdesk-replica-"))
    try:
        replica = Replica(folder, primary_host=primary_host, primary_port=primary_port, user=user)
        replica.start()
        try:
            yield replica
        finally:
            replica.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
