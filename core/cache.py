"""The cache backends the settings name: Redis in production, files in the embedded demo.

Both are shared between processes, and both count atomically (``add`` and ``incr``), so that a
limit counted in the cache holds across web workers.

Redis here is shared: the Celery broker's queues live in it, and so may another installation's
cache. Django's ``RedisCache.clear()`` empties the whole Redis database (``FLUSHDB``), which would
drop queued pages; this one removes only the keys under its own ``KEY_PREFIX``. And a cache is a
shortcut, never a dependency: with Redis down or hung a read is a miss and a write is skipped
after a short timeout, so pages, filing and the API go on working from the database. Deletes
are not softened: a delete that did not happen would leave a stale entry behind, so it fails.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

# Enough for a Redis on the same network to answer; short enough that a hung one costs a request
# a fraction of a second.
SOCKET_TIMEOUT_SECONDS = 0.25
REST_SECONDS = 5.0

T = TypeVar("T")


def _glob_escape(text: str) -> str:
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)


class SharedRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = params.setdefault("OPTIONS", {})
        options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", SOCKET_TIMEOUT_SECONDS)
        super().__init__(server, params)
        if not self.key_prefix:
            raise ImproperlyConfigured(
                "The Redis cache needs a KEY_PREFIX: it clears only the keys under it"
            )
        self.server_url = server.split(",")[0].split(";")[0]
        self.resting_until = 0.0

    def _soft(self, action: str, call: Callable[[], T], fallback: Callable[[], T]) -> T:
        """``call``, or ``fallback`` when Redis does not answer. After a failure the cache rests
        a few seconds, so a hung Redis costs one timeout per process then, not one per call."""
        if time.monotonic() < self.resting_until:
            return fallback()
        try:
            return call()
        except redis.RedisError as error:
            self.resting_until = time.monotonic() + REST_SECONDS
            logger.warning(
                "Cache %s skipped: Redis is unavailable (%s)", action, type(error).__name__
            )
            return fallback()

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._soft("read", partial(super().get, key, default, version), lambda: default)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._soft("read", partial(super().get_many, keys, version), dict)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._soft("write", partial(super().set, key, value, timeout, version), lambda: None)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._soft("write", partial(super().add, key, value, timeout, version), bool)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        def cannot_count() -> int:
            raise ValueError("The cache could not count: Redis is unavailable")

        return self._soft("count", partial(super().incr, key, delta, version), cannot_count)

    def clear(self) -> None:
        with redis.Redis.from_url(
            self.server_url,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS * 4,
            socket_timeout=SOCKET_TIMEOUT_SECONDS * 4,
        ) as client:
            batch: list[bytes] = []
            for key in client.scan_iter(match=f"{_glob_escape(self.key_prefix)}:*", count=500):
                batch.append(key)
                if len(batch) == 500:
                    client.unlink(*batch)
                    batch = []
            if batch:
                client.unlink(*batch)


class SharedFileCache(FileBasedCache):
    """Django's file cache, with ``add`` and ``incr`` made atomic across processes by a lock
    file beside the entries (Django's read the entry and write it back: two workers counting at
    once lose each other's counts)."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(location, params)
        self.lock_path = os.path.join(os.path.abspath(location), "counting.lock")

    @contextmanager
    def _counting(self) -> Iterator[None]:
        os.makedirs(os.path.dirname(self.lock_path), exist_ok=True)
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        with self._counting():
            return super().add(key, value, timeout, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        with self._counting():
            return super().incr(key, delta, version)
