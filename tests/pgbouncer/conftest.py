"""The help desk behind a real PgBouncer in transaction pooling mode (bench/pgbouncer.py): one
pgbouncer for the run, in front of the suite's PostgreSQL, and every test of this folder talks
to the database through it, configured as ``DATABASE_POOLER=pgbouncer`` configures production.

The tests are transactional (autocommit, as the product runs): each statement or transaction
may land on another server connection, so whatever leans on session state breaks here as it
would in a hospital."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from django.db import connections

from bench.pgbouncer import PgBouncer
from tests.api.conftest import api, on_call_team  # noqa: F401 (fixtures)
from tests.conftest import pgbouncer_in_front, through_pgbouncer
from tests.reports.conftest import dataset  # noqa: F401 (fixture)

T = TypeVar("T")


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup: None) -> Iterator[PgBouncer]:
    with pgbouncer_in_front() as bouncer:
        yield bouncer


@pytest.fixture(autouse=True)
def pooled(pgbouncer: PgBouncer, transactional_db: None) -> Iterator[PgBouncer]:
    """Every connection of the test (its threads' too) goes through ``pgbouncer``."""
    with through_pgbouncer(pgbouncer):
        yield pgbouncer


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
