"""A real streaming replica of the suite's PostgreSQL (bench/replica.py), one for the run, and the
``replica`` database alias DATABASE_REPLICA_URL would configure, pointing at the test database
on it. The alias exists only for the tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections

from bench.replica import Replica, replica_tools_available, running_replica
from core.replicas import REPLICA, forget_replica_failure
from helpdesk.settings import replica_database
from tests.conftest import DATABASE_SERVER, need
from tests.reports.conftest import dataset  # noqa: F401 (fixture)


@pytest.fixture(scope="session")
def streaming_replica(django_db_setup: None) -> Iterator[Replica]:
    """Made after the test databases exist, so that they are on it."""
    need(connection.vendor == "postgresql", "PostgreSQL")
    need(replica_tools_available(), "PostgreSQL 15 server binaries for a streaming replica")
    server = DATABASE_SERVER  # the server itself, not a PgBouncer the suite may go through
    with running_replica(
        primary_host=server["HOST"] or "127.0.0.1",
        primary_port=int(server["PORT"] or 5432),
        user=server["USER"] or "postgres",
    ) as replica:
        yield replica


@contextmanager
def replica_alias_at(url: str) -> Iterator[None]:
    """The ``replica`` alias, as DATABASE_REPLICA_URL=``url`` configures it."""
    config: dict[str, Any] = connections.configure_settings(
        {"default": connection.settings_dict, REPLICA: replica_database(url, pooler="")}
    )[REPLICA]
    settings.DATABASES[REPLICA] = config
    connections.settings[REPLICA] = config
    forget_replica_failure()
    try:
        yield
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        # One dict, or two: the settings and the connections' copy of them.
        connections.settings.pop(REPLICA, None)
        settings.DATABASES.pop(REPLICA, None)
        forget_replica_failure()


@pytest.fixture(scope="module")
def replica_alias(streaming_replica: Replica) -> Iterator[Replica]:
    """The alias, pointing at the test database on the replica, for this module's tests (set
    up before their database access is checked, hence module-wide)."""
    with replica_alias_at(streaming_replica.url(connection.settings_dict["NAME"])):
        yield streaming_replica


@pytest.fixture
def replica(replica_alias: Replica) -> Iterator[Replica]:
    """The replica, applying the primary's changes again whatever the test did."""
    yield replica_alias
    replica_alias.resume()
