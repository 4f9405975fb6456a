"""The run's throwaway database, made before Django starts and dropped after it stops.

With ``DATABASE_URL`` pointing at PostgreSQL, a database of the bench's own (``helpdesk_bench`` by
default) on that server: dropped first if a previous run left it, dropped again at the end. Without
it, a SQLite file in the run's temporary directory, opened with the product's own options (the
product settings build it from ``HELPDESK_VAR_DIR``).

Nothing here imports Django's settings: this runs before ``django.setup()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql", "postgis"})
# A bench database's name says so: the harness drops it, so it must never be a real one.
_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class DatabaseError(RuntimeError):
    """The throwaway database could not be made; the message says why."""


@dataclass(frozen=True, slots=True)
class BenchDatabase:
    vendor: str  # "postgresql" or "sqlite"
    # What DATABASE_URL must be while Django runs; None: unset it (SQLite under HELPDESK_VAR_DIR).
    url: str | None
    name: str
    # Where to reach the server to create and drop it; empty for SQLite.
    admin: dict[str, Any]

    def describe(self) -> str:
        if self.vendor == "postgresql":
            host = self.admin.get("host") or "local socket"
            port = self.admin.get("port") or 5432
            return f"postgresql database {self.name} at {host}:{port} ({self._server_version()})"
        return f"sqlite file {self.name}"

    def drop(self) -> None:
        if self.vendor == "postgresql":
            _drop_postgres(self.admin, self.name)

    def _server_version(self) -> str:
        with _AdminConnection(self.admin) as conn, conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            row = cursor.fetchone()
        return f"PostgreSQL {row[0].split()[0]}" if row else "PostgreSQL"


def prepare(database_url: str | None, name: str, var_dir: Path) -> BenchDatabase:
    """Make an empty database for the run and say how Django reaches it."""
    if not _SAFE_NAME.match(name) or "bench" not in name:
        raise DatabaseError(
            f"the bench database name must be lower-case letters, digits and underscores and "
            f"contain 'bench' (it is dropped), not {name!r}"
        )
    scheme = urlsplit(database_url).scheme.lower() if database_url else ""
    if not database_url or scheme.startswith("sqlite"):
        return BenchDatabase(
            vendor="sqlite", url=None, name=str(var_dir / "helpdesk.sqlite3"), admin={}
        )
    if scheme not in POSTGRES_SCHEMES:
        raise DatabaseError(
            f"DATABASE_URL must be PostgreSQL (or unset for SQLite), not a {scheme!r} URL"
        )
    config = dj_database_url.parse(database_url)
    if config.get("NAME") == name:
        raise DatabaseError(
            f"DATABASE_URL already names {name!r}; the bench would drop it. Point DATABASE_URL at "
            "the product's database and let the bench make its own."
        )
    admin: dict[str, Any] = {
        # libpq options from the URL's query string (sslmode and the like) apply here too.
        **config.get("OPTIONS", {}),
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        # Connect to the maintenance database; the product's own may not exist yet.
        "dbname": "postgres",
        "connect_timeout": 5,
    }
    _drop_postgres(admin, name)
    with _AdminConnection(admin) as conn, conn.cursor() as cursor:
        cursor.execute(_sql("CREATE DATABASE {}", name))
    parts = urlsplit(database_url)
    url = parts._replace(path=f"/{name}").geturl()
    return BenchDatabase(vendor="postgresql", url=url, name=name, admin=admin)


def _sql(template: str, name: str) -> sql.Composed:
    return sql.SQL(template).format(sql.Identifier(name))


class _AdminConnection:
    """An autocommit connection to the server's maintenance database (CREATE/DROP DATABASE
    cannot run in a transaction); closed on exit, which psycopg2's own ``with`` does not do."""

    def __init__(self, admin: dict[str, Any]) -> None:
        self.admin = admin
        self.conn: PgConnection | None = None

    def __enter__(self) -> PgConnection:
        params = {key: value for key, value in self.admin.items() if value is not None}
        try:
            conn = psycopg2.connect(connection_factory=PgConnection, **params)
        except psycopg2.OperationalError as exc:
            raise DatabaseError(f"cannot reach PostgreSQL: {str(exc).strip()}") from None
        conn.autocommit = True
        self.conn = conn
        return conn

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _drop_postgres(admin: dict[str, Any], name: str) -> None:
    with _AdminConnection(admin) as conn, conn.cursor() as cursor:
        # WITH (FORCE) ends sessions a crashed run left behind (PostgreSQL 13+).
        force = " WITH (FORCE)" if conn.server_version >= 130000 else ""
        cursor.execute(_sql("DROP DATABASE IF EXISTS {}" + force, name))
