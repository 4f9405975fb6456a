"""A rate limit counted in the shared cache, the base of every throttle the API uses."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class SharedCountThrottle(SimpleRateThrottle):
    """A rate limit that holds however many web processes serve the caller.

    The count lives in the shared cache and moves by atomic increments (DRF's own throttle reads
    a list, appends and writes it back: two processes at once lose each other's requests). The
    window slides: the previous window's count weighs in for the part of it still within the
    last ``duration`` seconds, so a burst either side of a window's edge cannot double the rate.
    Refused requests are not counted, and a cache that cannot count lets the request through
    (nothing may fail because a cache is down)."""

    # Seconds until the next call fits (Retry-After), set when a call is refused.
    window_ends_in: float = 0.0

    def within_limit(self, request: Request, view: Any) -> bool:
        limit, duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        if limit is None or not duration or self.key is None:
            return True
        window, elapsed = divmod(self.timer(), duration)
        self.window_ends_in = duration - elapsed
        current = f"{self.key}:{int(window)}"
        previous: int = self.cache.get(f"{self.key}:{int(window) - 1}", 0)
        try:
            served = self._count(current, 2 * duration)
        except ValueError:
            return True
        if served + previous * (1 - elapsed / duration) <= limit:
            return True
        with suppress(ValueError):
            self.cache.decr(current)
            self.cache.touch(current, 2 * duration)  # see _count
        self.window_ends_in = self._seconds_until_allowed(
            served - 1, previous, limit, duration, elapsed
        )
        return False

    @staticmethod
    def _seconds_until_allowed(
        served: int, previous: int, limit: int, duration: int, elapsed: float
    ) -> float:
        """When one more call would fit, counting as ``within_limit`` does: later in this window
        as the previous one's weight fades, or else in the next, once this one's has faded
        enough. Retry-After then names a moment that really lets the caller in."""
        if served + 1 <= limit:
            fits_at = duration * (1 - (limit - served - 1) / previous) if previous else elapsed
            wait = max(fits_at - elapsed, 0.0)
        else:
            fits_at = duration * (1 - (limit - 1) / served) if served else 0.0
            wait = (duration - elapsed) + max(fits_at, 0.0)
        return round(wait, 3)  # whole seconds stay whole: Retry-After rounds up

    def _count(self, key: str, timeout: int) -> int:
        """One more call in ``key``'s window; the first call of a window creates it. The count
        lives ``timeout`` seconds from its latest call: a backend whose ``incr`` writes the
        entry back with the default expiry (Django's file cache: five minutes) would otherwise
        forget an hour's filings."""
        try:
            served = self.cache.incr(key)
        except ValueError:
            if self.cache.add(key, 1, timeout):
                return 1
            served = self.cache.incr(key)  # another process created it first
        self.cache.touch(key, timeout)
        return served

    def wait(self) -> float:
        return self.window_ends_in
