import logging
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address, ip_address

from django.conf import settings
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from core.errors import database_unavailable, is_database_unavailable

logger = logging.getLogger(__name__)


class HealthCheckMiddleware:
    """Answers /healthz/ for load balancers and container health checks before host validation
    and the HTTPS redirect, which probes from inside the network would not pass."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != "/healthz/":
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:
            return JsonResponse({"database": "down"}, status=503)
        return JsonResponse({"database": "ok"})


class DatabaseAvailabilityMiddleware:
    """While PostgreSQL is down or restarting, every request answers a 503 that says so (with
    Retry-After) instead of a 500 from whichever query first failed. The connection is checked
    once, before anything else asks the database: a connection kept from before a restart fails
    Django's health check (CONN_HEALTH_CHECKS) and is replaced by a new one, so the first request
    after the database is back is served normally. Where the database goes away mid-request,
    ``core.errors.server_error`` answers the same 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            # Opening a cursor runs no query; it connects, or first checks a kept connection as
            # CONN_HEALTH_CHECKS asks (once a request) and replaces it when it is broken.
            connection.cursor().close()
        except (OperationalError, InterfaceError) as error:
            logger.warning("database unavailable: %s", type(error).__name__)
            return database_unavailable(request)
        return self.get_response(request)


class IdleAwareSessionMiddleware(SessionMiddleware):
    """Sessions end after the idle timeout, and every request a person makes renews them; a
    page polling in the background (the live queue) is not a person and renews nothing. Views
    mark such requests with ``request.passive = True``."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "passive", False) and not request.session.modified:
            return response
        try:
            return super().process_response(request, response)
        except SessionInterrupted as error:
            # Django reads any database error in saving the session as "deleted meanwhile" and
            # answers 400. When the database went away after the view had answered (a filing
            # already committed), the answer stands: a nurse whose ticket was filed must not be
            # told her request was bad. The session keeps its last expiry until the next request.
            if not _database_went_away(error):
                raise
            logger.warning("session not renewed: the database is unavailable")
            return response


def _database_went_away(error: BaseException) -> bool:
    """Whether the database's connection was lost or refused somewhere behind ``error``."""
    behind = error.__context__
    while behind is not None:
        if is_database_unavailable(behind):
            return True
        behind = behind.__context__
    return False


class NoStoreMiddleware:
    """Nothing this app answers may stay in a browser: pages and API answers carry tickets,
    people's names and callback numbers, and the workstation is shared. With ``no-store``, Back
    after sign-out asks the server again (and gets the sign-in page) instead of showing the last
    ticket from the browser's cache. Back while signed in still works: every page is a GET that
    the browser simply requests again. A view that chose its own Cache-Control keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


def _parse_address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted_proxy(address: IPv4Address | IPv6Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str | None:
    """The address of the person's machine. Without a trusted proxy in front, that is the
    connection's. From a trusted proxy, it is the nearest hop in X-Forwarded-For that is not a
    trusted proxy: each proxy appends the address it saw, so hops further left were written by
    the client and prove nothing."""
    peer: str | None = request.META.get("REMOTE_ADDR")
    connected = _parse_address(peer or "")
    if connected is None or not _is_trusted_proxy(connected):
        return peer
    nearest = connected
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _parse_address(hop)
        if address is None:
            break
        if not _is_trusted_proxy(address):
            return str(address)
        nearest = address
    return str(nearest)
