"""The help desk behind a real PgBouncer in transaction pooling mode (bench/pgbouncer.py): one
pgbouncer for the run, in front of the suite's PostgreSQL, and every test of this folder talks
to the database through it, configured as ``DATABASE_POOLER=pgbouncer`` configures production.

The tests are transactional (autocommit, as the product runs): each statement or transaction
may land on another server connection, so whatever leans on session state breaks here as it
would in a hospital."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from django.db import connection, connections

from bench.pgbouncer import PgBouncer, pgbouncer_available, running_pgbouncer
from helpdesk.settings import postgres_database
from tests.api.conftest import api, on_call_team  # noqa: F401 (fixtures)
from tests.conftest import need
from tests.reports.conftest import dataset  # noqa: F401 (fixture)

T = TypeVar("T")


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup: None) -> Iterator[PgBouncer]:
    """Started after the test databases exist, stopped before they are dropped."""
    need(connection.vendor == "postgresql", "PostgreSQL")
    need(pgbouncer_available(), "pgbouncer (PgBouncer)")
    server = connection.settings_dict
    with running_pgbouncer(
        server_host=server["HOST"] or "127.0.0.1",
        server_port=int(server["PORT"] or 5432),
        user=server["USER"] or "postgres",
        password=server["PASSWORD"] or "",
    ) as bouncer:
        yield bouncer


def pooled_settings(bouncer: PgBouncer, database: str, *, pooler: str) -> dict[str, Any]:
    """The DATABASES entry production builds for DATABASE_URL pointing at ``bouncer``."""
    return postgres_database("DATABASE_URL", bouncer.url(database), pooler=pooler)


@pytest.fixture(autouse=True)
def through_pgbouncer(pgbouncer: PgBouncer, transactional_db: None) -> Iterator[PgBouncer]:
    """Every connection of the test (its threads' too) goes through ``pgbouncer``."""
    settings_dict = connections["default"].settings_dict
    saved = dict(settings_dict)
    pooled = pooled_settings(pgbouncer, settings_dict["NAME"], pooler="pgbouncer")
    connection.close()
    settings_dict.update({key: value for key, value in pooled.items() if key != "TEST"})
    try:
        yield pgbouncer
    finally:
        connection.close()
        settings_dict.clear()
        settings_dict.update(saved)


def at_once(*calls: Callable[[], T]) -> list[T | BaseException]:
    """Run ``calls`` in threads released together, each on its own database connection (its
    own client of PgBouncer); their results or exceptions, in order."""
    start = threading.Barrier(len(calls))
    results: list[T | BaseException] = [RuntimeError("did not run")] * len(calls)

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            start.wait(timeout=10)
            results[index] = call()
        except BaseException as error:  # reported to the test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
