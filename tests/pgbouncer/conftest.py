"""The help desk behind a real PgBouncer in transaction pooling mode (bench/pgbouncer.py): one
pgbouncer for the run, in front of the suite's PostgreSQL, and every test of this folder talks
to the database through it, configured as ``DATABASE_POOLER=pgbouncer`` configures production.

The tests are transactional (autocommit, as the product runs): each statement or transaction
may land on another server connection, so whatever leans on session state breaks here as it
would in a hospital."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.pgbouncer import PgBouncer
from tests.api.conftest import api, on_call_team  # noqa: F401 (fixtures)
from tests.conftest import pgbouncer_in_front, through_pgbouncer
from tests.reports.conftest import dataset  # noqa: F401 (fixture)


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup: None) -> Iterator[PgBouncer]:
    with pgbouncer_in_front() as bouncer:
        yield bouncer


@pytest.fixture(autouse=True)
def pooled(pgbouncer: PgBouncer, transactional_db: None) -> Iterator[PgBouncer]:
    """Every connection of the test (its threads' too) goes through ``pgbouncer``."""
    with through_pgbouncer(pgbouncer):
        yield pgbouncer
