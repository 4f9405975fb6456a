"""Error answers: the API's are JSON like the rest of the API ({"detail": ...}, as DRF writes
them), whatever failed (a path that matches no route, a server error); the site's pages keep
their HTML pages. Errors a view raises inside DRF are already DRF's JSON; these handlers cover
what happens before or outside DRF.

A malformed request that gunicorn itself refuses (a broken request line or header) is answered
by gunicorn with its own short plain-text 400 and never reaches Django.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

API_PREFIX = "/api/"


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


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return api_error(500, "A server error occurred.")
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with a stale or missing CSRF token: the site's page, rendered like every other
    page (Django's own view renders it without the request, so without the signed-in user)."""
    return render(request, "403_csrf.html", status=403)
