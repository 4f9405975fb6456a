"""Reference rows (departments, locations, categories, SLA policies, who works in IT) built once
per process and held until they change.

Every kind of reference data has a version number in the shared cache. A process reads the
versions of every kind in one ``get_many`` (once per request), keeps the rows it built together
with the versions it built them at, and builds them again when one of those versions has moved.
A save, a delete (the admin's bulk delete included) and a bulk write through the models'
QuerySet (``update()``, ``bulk_update()``, ``bulk_create()``) move the version of their kind.

The rows themselves stay out of the shared cache: unpickling every location on each filing cost
more than reading them (filing p95 went from 10 ms to 77 ms).

A missing version (a new or cleared cache, Redis down) means "build again from the database".
The first reader then puts in a random version, not 1: rows a process built before the version
was lost can never match it again. A long safety age bounds how stale a process can be when a
change could not move the version (Redis down at that moment).
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import models, transaction
from django.db.models.signals import class_prepared, post_delete, post_save

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
M = TypeVar("M", bound=models.Model)

# How long a process may hold rows whatever the versions say: the bound on staleness when a
# change could not reach the shared cache.
SAFETY_SECONDS = 15 * 60.0
# Outside a request (Celery, commands) versions read are reused this long: an SLA sweep asks
# for a calendar per ticket, and one round trip per ticket would cost more than the sweep.
OUTSIDE_REQUEST_SECONDS = 1.0

Kind = str


def kind_of(model: type[models.Model]) -> Kind:
    return model._meta.label_lower


def _version_key(kind: Kind) -> str:
    return f"reference-version:{kind}"


class _Seen(threading.local):
    """The versions this thread (or greenlet) read last, and until when it may use them."""

    versions: dict[Kind, int | None] | None = None
    until = 0.0
    in_request = False


_seen = _Seen()
_kinds: set[Kind] = set()
_caches: list[ReferenceCache[Any, Any]] = []


def _current_versions(kinds: Iterable[Kind]) -> dict[Kind, int | None]:
    versions = _seen.versions
    if versions is not None and _seen.until > time.monotonic() and versions.keys() >= set(kinds):
        return versions
    everything = sorted(_kinds)
    found = cache.get_many([_version_key(kind) for kind in everything])
    missing = [kind for kind in everything if _version_key(kind) not in found]
    if missing:
        for kind in missing:
            cache.add(_version_key(kind), secrets.randbits(62), timeout=None)
        # Another process may have put its own in first: everyone uses the one that is there.
        found.update(cache.get_many([_version_key(kind) for kind in missing]))
    versions = {kind: found.get(_version_key(kind)) for kind in everything}
    _seen.versions = versions
    _seen.until = math.inf if _seen.in_request else time.monotonic() + OUTSIDE_REQUEST_SECONDS
    return versions


def _move_versions(kinds: Sequence[Kind]) -> None:
    _seen.versions = None
    for kind in kinds:
        try:
            cache.incr(_version_key(kind))
        except ValueError:
            # No version (nobody read one since the cache lost it) already means "build again".
            # Or the cache is unreachable (its backend logged that): other processes then keep
            # their rows until the safety age, this one builds again now.
            for held in _caches:
                if not held.kinds.isdisjoint(kinds):
                    held.clear()


def reference_data_changed(*kinds: Kind) -> None:
    """Tell every process that rows of these kinds changed: now, and again once the change is
    committed, or a process reading between the two would keep the old rows under the new
    version. (Outside a transaction both happen now; a second move costs nothing.)"""
    _move_versions(kinds)
    transaction.on_commit(partial(_move_versions, kinds))


class ReferenceCache(Generic[K, V]):
    """Values built from reference rows of ``kinds``, kept in this process by key until a
    version of one of those kinds moves. Treat the values as read-only: they are shared."""

    def __init__(self, *kinds: type[models.Model] | Kind, limit: int | None = None) -> None:
        """``limit``: hold at most this many values, the oldest going first (for keys that come
        from a request, which a user could vary without end)."""
        self.kinds = frozenset(kind if isinstance(kind, str) else kind_of(kind) for kind in kinds)
        self.limit = limit
        self._order = sorted(self.kinds)
        self._lock = threading.Lock()
        self._stamp: tuple[int | None, ...] | None = None
        self._expires = 0.0
        self._values: dict[K, V] = {}
        _kinds.update(self.kinds)
        _caches.append(self)

    def get_or_set(
        self, key: K, build: Callable[[], V], *, holds: Callable[[V], bool] | None = None
    ) -> V:
        """The value held for ``key``, or ``build()``'s. ``holds``: whether a held value is still
        true (for a value that changes by itself at a moment it knows, without any write)."""
        versions = _current_versions(self.kinds)
        stamp = tuple(versions[kind] for kind in self._order)
        if None in stamp:
            return build()
        now = time.monotonic()
        with self._lock:
            if stamp != self._stamp or now >= self._expires:
                self._stamp, self._expires, self._values = stamp, now + SAFETY_SECONDS, {}
            elif key in self._values:
                held = self._values[key]
                if holds is None or holds(held):
                    return held
        value = build()
        with self._lock:
            if stamp == self._stamp:
                if self.limit is not None and len(self._values) >= self.limit:
                    del self._values[next(iter(self._values))]
                self._values[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._stamp, self._values = None, {}


def forget_reference_rows() -> None:
    """Drop every process-held value and the versions this thread read (tests, between two)."""
    _seen.versions = None
    for held in _caches:
        held.clear()


def _request_started(**kwargs: Any) -> None:
    _seen.versions, _seen.in_request = None, True


def _request_finished(**kwargs: Any) -> None:
    _seen.versions, _seen.in_request = None, False


request_started.connect(_request_started, dispatch_uid="reference_cache_request_started")
request_finished.connect(_request_finished, dispatch_uid="reference_cache_request_finished")


class ReferenceQuerySet(models.QuerySet[M]):
    """Bulk writes send no signals: they move their kind's version themselves."""

    def update(self, **kwargs: Any) -> int:
        rows = super().update(**kwargs)
        reference_data_changed(kind_of(self.model))
        return rows

    def bulk_update(
        self, objs: Iterable[M], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        rows = super().bulk_update(objs, fields, batch_size=batch_size)
        reference_data_changed(kind_of(self.model))
        return rows

    def bulk_create(self, objs: Iterable[M], *args: Any, **kwargs: Any) -> list[M]:
        created = super().bulk_create(objs, *args, **kwargs)
        reference_data_changed(kind_of(self.model))
        return created


class ReferenceDataModel(models.Model):
    """Rows the reference caches hold copies of: a change to one moves its kind's version."""

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        abstract = True


def _row_changed(sender: type[models.Model], **kwargs: Any) -> None:
    reference_data_changed(kind_of(sender))


def _watch(sender: type[models.Model], **kwargs: Any) -> None:
    if issubclass(sender, ReferenceDataModel) and not sender._meta.abstract:
        post_save.connect(_row_changed, sender=sender, dispatch_uid=f"reference:{sender}")
        post_delete.connect(_row_changed, sender=sender, dispatch_uid=f"reference:{sender}")


class_prepared.connect(_watch, dispatch_uid="reference_cache_watch")
