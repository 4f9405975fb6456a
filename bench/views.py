"""The floor: the cheapest page the stack can serve, to measure the product's pages against.

Each view runs one indexed query (a ticket by primary key, as ``?pk=`` gives it) and returns a
few bytes. ``floor`` is anonymous; ``floor_auth`` is behind ``login_required`` like the product's
pages, so the session and auth middleware do their queries (load the session and the user, save the
session back since ``SESSION_SAVE_EVERY_REQUEST`` is on).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tickets.models import Ticket


def _one_indexed_query(request: HttpRequest) -> HttpResponse:
    try:
        pk = int(request.GET.get("pk", "0"))
    except ValueError:
        pk = 0
    found = Ticket.objects.filter(pk=pk).values("pk").first()
    return HttpResponse(b"ok" if found else b"none", content_type="text/plain")


@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    return _one_indexed_query(request)


@login_required
@require_GET
def floor_auth(request: HttpRequest) -> HttpResponse:
    return _one_indexed_query(request)
