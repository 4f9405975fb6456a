"""API authentication by token, and throttling for integrations."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from departments.models import ApiToken


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer hd_...``. The token's hash is looked up; a revoked token or an
    inactive user is refused with 401."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        scheme, _, raw = header.partition(" ")
        if scheme != self.keyword:
            return None
        raw = raw.strip()
        if not raw:
            raise exceptions.AuthenticationFailed("The Authorization header has no token.")
        try:
            token = (
                ApiToken.objects.active().select_related("user").get(key_hash=ApiToken.hash(raw))
            )
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed(
                "This token is not valid or was revoked."
            ) from None
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


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


class TokenRateThrottle(SharedCountThrottle, UserRateThrottle):
    """Integrations are limited per token user; people in the browser are not throttled."""

    scope = "token"

    def allow_request(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, ApiToken):
            return True
        return self.within_limit(request, view)


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "helpdesk.api_auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API token (hd_...)."}
