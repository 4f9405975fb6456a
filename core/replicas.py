"""Reads that may come from a streaming replica (``DATABASE_REPLICA_URL``).

A replica trails the primary by up to a second or so. Only reads that tolerate that go to it:
the managers' reports and their CSV exports, which look at weeks of tickets and never at the
ticket someone filed a moment ago. They say so by running inside :func:`lag_tolerant_reads`
(or by streaming through :func:`lag_tolerant`); the router then sends their reads to the
``replica`` alias. Every write, every read outside that scope and every read inside a
transaction on the primary (it must see its own writes) goes to ``default``. Without a replica
configured, everything goes to ``default``, as before.

A replica that cannot be reached does not take the reports down with it: the scope that finds
it so reads from the primary, and this process leaves the replica alone for a few seconds
before trying it again, so a dead replica costs one failed connection per process then, not
one per report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
# After the replica failed to answer, this process reads from the primary this long.
REST_SECONDS = 10.0
T = TypeVar("T")

_lag_tolerant: ContextVar[bool] = ContextVar("lag_tolerant_reads", default=False)
_rest = threading.Lock()
_failed_at: float | None = None


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_resting() -> bool:
    with _rest:
        return _failed_at is not None and time.monotonic() - _failed_at < REST_SECONDS


def forget_replica_failure() -> None:
    """Try the replica at the next lag-tolerant read (another replica configured, in tests)."""
    global _failed_at
    with _rest:
        _failed_at = None


def replica_usable() -> bool:
    """Whether the replica is configured and answers (connecting now if need be). Not inside
    a transaction on the primary: reads there stay on the primary anyway."""
    global _failed_at
    if not replica_configured() or replica_resting():
        return False
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return False
    try:
        connections[REPLICA].ensure_connection()
    except DatabaseError:
        with _rest:
            _failed_at = time.monotonic()
        logger.warning("the read replica does not answer: reports read from the primary")
        return False
    return True


@contextmanager
def lag_tolerant_reads() -> Iterator[None]:
    """Reads in this block may come from the replica, if it answers."""
    token = _lag_tolerant.set(replica_usable())
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
    if _lag_tolerant.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
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
