"""The technicians' live queue: the page, its polled fragment, claim and take-next."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from core.reference_cache import ReferenceCache
from departments.models import Department, Team
from departments.roles import is_it_staff
from tickets import queue, selectors
from tickets.forms import QueueFilterForm
from tickets.models import Ticket
from tickets.services import ClaimLost, TicketError, ticket_claim, ticket_take_next
from tickets.views import get_ticket_for, signed_in


def it_staff(request: HttpRequest) -> User:
    """The queue is IT's; to anyone else it does not exist."""
    user = signed_in(request)
    if not is_it_staff(user):
        raise Http404
    return user


def _queue_context(
    request: HttpRequest, user: User, now: datetime, latest: datetime | None
) -> dict[str, Any]:
    tickets = queue.filtered(request.GET, request, now)
    rows = selectors.queue_page(tickets=tickets, now=now) if tickets is not None else []
    current = request.GET.get("view") or queue.SavedView.ALL
    return {
        "rows": rows,
        "views": queue.view_tabs(user, now, current, latest),
        "page_size": queue.PAGE_SIZE,
    }


@login_required
@require_GET
def queue_page(request: HttpRequest) -> HttpResponse:
    user = it_staff(request)
    now = timezone.now()
    context = _queue_context(request, user, now, selectors.latest_ticket_change())
    pairs = [(name, value) for name, values in request.GET.lists() for value in values]
    context.update(
        filter_bar=_filter_bar(request.GET), filter_pairs=pairs, query=request.GET.urlencode()
    )
    return render(request, "queue/queue.html", context)


# The filter bar is the same for every technician with the same filters. Each is rendered once
# per process (the last few hundred kept) and held until a team or a department changes.
_filter_bars: ReferenceCache[str, SafeString] = ReferenceCache(Team, Department, limit=256)


def _filter_bar(query: QueryDict) -> SafeString:
    key = urlencode(
        [(name, value) for name in QueueFilterForm.base_fields for value in query.getlist(name)]
    )
    return _filter_bars.get_or_set(
        key,
        lambda: SafeString(
            render_to_string("queue/_filter_bar.html", {"bar": QueueFilterForm(query)})
        ),
    )


@login_required
@require_GET
def queue_fragment(request: HttpRequest) -> HttpResponse:
    """The rows and counts, polled by the page. 304 when nothing changed, so an idle queue
    costs a session lookup and one indexed MAX; polling never renews the idle timer."""
    request.passive = True  # type: ignore[attr-defined]
    user = it_staff(request)
    now = timezone.now()
    latest = selectors.latest_ticket_change()
    etag = f'"{queue.queue_etag(user, request.GET.urlencode(), now, latest)}"'
    if etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        context = _queue_context(request, user, now, latest)
        response = render(request, "queue/fragment.html", context)
    response["ETag"] = etag
    return response


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@login_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    user = it_staff(request)
    ticket = get_ticket_for(user, pk)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    try:
        ticket = ticket_claim(ticket=ticket, user=user)
    except ClaimLost as lost:
        if wants_json:
            return JsonResponse({"claimed": False, "message": str(lost)}, status=409)
        messages.warning(request, str(lost))
    except TicketError as error:
        if wants_json:
            return JsonResponse({"claimed": False, "message": str(error)}, status=409)
        messages.error(request, str(error))
    else:
        if wants_json:
            return JsonResponse({"claimed": True, "message": f"{ticket.number} is yours."})
        messages.success(request, f"{ticket.number} is yours.")
    return redirect(_back(request, ticket.get_absolute_url()))


@login_required
@require_POST
def take_next(request: HttpRequest) -> HttpResponse:
    """The most urgent unassigned ticket of the chosen view, to whoever asked."""
    user = it_staff(request)
    now = timezone.now()
    filters = queue.QueueFilter(
        request.POST, queryset=Ticket.objects.all(), request=request, now=now
    )
    if not filters.is_valid():
        messages.error(request, "Those filters are not valid.")
        return redirect("queue")
    ticket = ticket_take_next(user=user, queryset=filters.qs)
    if ticket is None:
        messages.info(request, "Nothing unassigned in this view. Nice work.")
        return redirect(f"{reverse('queue')}?{request.POST.get('query', '')}")
    messages.success(request, f"{ticket.number} is yours: the most urgent one waiting.")
    return redirect(ticket)
