"""A small in-process cache for reference rows read on every filing (SLA policies, calendars).

Each process keeps its own copy for at most ``seconds``; a save in this process clears it at once,
and an edit made in another process (admin on another worker) shows within ``seconds``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from django.db import models

V = TypeVar("V")

REFERENCE_DATA_SECONDS = 60.0


class TtlCache(Generic[V]):
    def __init__(self, seconds: float = REFERENCE_DATA_SECONDS) -> None:
        self.seconds = seconds
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get_or_set(self, key: Hashable, compute: Callable[[], V]) -> V:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = compute()
        with self._lock:
            self._entries[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_all: list[TtlCache[object]] = []


def reference_cache() -> TtlCache[V]:
    cache: TtlCache[V] = TtlCache()
    _all.append(cache)  # type: ignore[arg-type]
    return cache


def clear_reference_caches() -> None:
    for cache in _all:
        cache.clear()


class ReferenceDataModel(models.Model):
    """Rows the reference caches hold copies of: saving or deleting one clears them."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        clear_reference_caches()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        deleted = super().delete(*args, **kwargs)
        clear_reference_caches()
        return deleted
