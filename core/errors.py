"""Error answers: the API's are JSON like the rest of the API ({"detail": ...}, as DRF writes
them), whatever failed (a path that matches no route, a server error); the site's pages keep
their HTML pages. Errors a view raises inside DRF are already DRF's JSON; these handlers cover
what happens before or outside DRF.

A malformed request that gunicorn itself refuses (a broken request line or header) is answered
by gunicorn with its own short plain-text 400 and never reaches Django.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views import defaults

API_PREFIX = "/api/"
# What a person (or an integration) is told while PostgreSQL cannot be reached: a restart or a
# failover takes seconds to a minute. Reading a page, that is all; sending a form (filing a
# ticket, a reply, a claim), they must also hear that nothing they sent was kept.
DATABASE_UNAVAILABLE = "The help desk cannot reach its database; try again in a minute."
DATABASE_UNAVAILABLE_NOT_SAVED = (
    "The help desk cannot reach its database; what you sent was not saved (a ticket was not "
    "filed), send it again in a minute."
)
DATABASE_RETRY_AFTER_SECONDS = 60


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def api_error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(400, "Bad request.")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(403, "You do not have permission to perform this action.")
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(404, "Not found.")
    return defaults.page_not_found(request, exception)


def database_unavailable_message(request: HttpRequest) -> str:
    """What the 503 says: a request that only reads is told to try again; one that sent
    something (a form, an API write) is told it was not saved."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return DATABASE_UNAVAILABLE
    return DATABASE_UNAVAILABLE_NOT_SAVED


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After while the database cannot be reached: JSON under /api/, a page
    for people. The page is rendered without the request, whose user and banners would ask the
    database again."""
    message = database_unavailable_message(request)
    response: HttpResponse
    if is_api(request):
        response = api_error(503, message)
    else:
        response = HttpResponse(
            render_to_string(
                "503_database.html",
                {
                    "message": message,
                    "sent": message == DATABASE_UNAVAILABLE_NOT_SAVED,
                    "hospital_name": settings.HELPDESK["HOSPITAL_NAME"],
                    "service_desk_phone": settings.HELPDESK["SERVICE_DESK_PHONE"],
                },
            ),
            status=503,
        )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def is_database_unavailable(error: BaseException | None) -> bool:
    """The database refused or dropped the connection (down, restarting, failing over), as
    opposed to a query it refused: those stay server errors."""
    return isinstance(error, InterfaceError) or (
        isinstance(error, OperationalError) and _connection_lost(error)
    )


def _connection_lost(error: OperationalError) -> bool:
    # psycopg reports a lost or refused connection as OperationalError without a SQLSTATE, or
    # with one of class 08 (connection exception) or 57P (operator intervention: the server is
    # shutting down or restarting); a lock timeout or a serialization failure has its own.
    cause = error.__cause__
    code = str(getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None) or "")
    return code == "" or code.startswith(("08", "57P"))


def server_error(request: HttpRequest) -> HttpResponse:
    """The site's 500, or the database's 503 when it is the database that went away (mid-request,
    after the check of DatabaseAvailabilityMiddleware)."""
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable(request)
    if is_api(request):
        return api_error(500, "A server error occurred.")
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with a stale or missing CSRF token: the site's page, rendered like every other
    page (Django's own view renders it without the request, so without the signed-in user)."""
    return render(request, "403_csrf.html", status=403)
