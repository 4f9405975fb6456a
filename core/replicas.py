"""Reads that may come from a streaming replica (``DATABASE_REPLICA_URL``).

A replica trails the primary by up to a second or so. Only reads that tolerate that go to it:
the managers' reports and their CSV exports, which look at weeks of tickets and never at the
ticket someone filed a moment ago. They say so by running inside :func:`lag_tolerant_reads`
(or by streaming through :func:`lag_tolerant`); the router then sends their reads to the
``replica`` alias. Every write, every read outside that scope and every read inside a
transaction on the primary (it must see its own writes) goes to ``default``. Without a replica
configured, everything goes to ``default``, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
T = TypeVar("T")

_lag_tolerant: ContextVar[bool] = ContextVar("lag_tolerant_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def lag_tolerant_reads() -> Iterator[None]:
    """Reads in this block may come from the replica."""
    token = _lag_tolerant.set(True)
    try:
        yield
    finally:
        _lag_tolerant.reset(token)


def lag_tolerant(rows: Iterable[T]) -> Iterator[T]:
    """``rows``, read inside :func:`lag_tolerant_reads`: for a streamed response, whose rows
    are read after the view has returned."""
    with lag_tolerant_reads():
        yield from rows


def read_alias() -> str:
    """Where a read made here goes."""
    if (
        _lag_tolerant.get()
        and replica_configured()
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        return REPLICA
    return DEFAULT_DB_ALIAS


class PrimaryReplicaRouter:
    """Writes to the primary; lag-tolerant reads to the replica when there is one."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        alias = read_alias()
        return alias if alias == REPLICA else None

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        # Even for an object read from the replica: the replica is read-only.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: an object read from one relates to the other's.
        aliases = {obj1._state.db, obj2._state.db}
        return True if aliases <= {DEFAULT_DB_ALIAS, REPLICA} else None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # The replica gets the primary's schema by replication.
        return False if db == REPLICA else None
