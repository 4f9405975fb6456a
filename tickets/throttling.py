"""How many tickets one person may file: generous for a nurse in a bad hour (ten tickets is
nothing unusual), a stop for a script filing a thousand. One counter per user in Django's default
cache, shared by every process and moved atomically (core.throttling.SharedCountThrottle),
counts filings from the form and from the API alike; the rate is
the setting HELPDESK_FILING_RATE (30/hour by default). IT staff filing for callers are not
limited: in an outage the Service Desk may log a call a minute.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from core.throttling import SharedCountThrottle
from departments.roles import is_it_staff

PERIODS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


class FilingLimitReached(exceptions.Throttled):
    """Over the limit: the API's 429 (with Retry-After), saying which limit was reached."""

    def __init__(self, *, wait: float | None, limit: int, period: str) -> None:
        self.limit, self.period, self.seconds = limit, period, wait
        super().__init__(
            wait=wait,
            detail=f"This account has filed {limit} tickets in the last {period}, the most one "
            "person may; nothing was filed.",
        )


class FilingRateThrottle(SharedCountThrottle):
    scope = "filing"

    def get_rate(self) -> str:
        return str(settings.HELPDESK["FILING_RATE"])

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        user = request.user
        if user is None or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}

    def allow_request(self, request: Request, view: APIView) -> bool:
        """Counts one filing; over the limit, refuses it with the reason and the wait. The role
        is read only then, so that a nurse's filing costs no query for it."""
        if self.within_limit(request, view) or is_it_staff(request.user):
            return True
        limit, duration = self.parse_rate(self.get_rate())
        raise FilingLimitReached(
            wait=self.wait(),
            limit=limit or 0,
            period=PERIODS.get(duration or 0, f"{duration} seconds"),
        )


def filing_refusal(request: HttpRequest, user: User) -> FilingLimitReached | None:
    """For the filing form: counts one filing by the signed-in ``user`` on the API's counter,
    and gives the refusal (``seconds`` to wait) when she is over the limit."""
    as_api = Request(request)
    as_api.user = user
    try:
        FilingRateThrottle().allow_request(as_api, APIView())
    except FilingLimitReached as refusal:
        return refusal
    return None
