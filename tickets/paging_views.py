"""Pages about paging: recent pages, acknowledging, paging by hand."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments.roles import display_name, is_it_staff
from tickets import paging
from tickets.models import PageChain
from tickets.selectors import active_page_chain
from tickets.views import get_ticket_for, signed_in

RECENT_CHAINS = 50


@login_required
@require_GET
def recent_pages(request: HttpRequest) -> HttpResponse:
    if not is_it_staff(request.user):
        raise Http404
    chains = (
        PageChain.objects.select_related("ticket__department", "team", "acknowledged_by")
        .annotate(page_count=Count("pages"))
        .order_by("-started_at")[:RECENT_CHAINS]
    )
    return render(request, "paging/pages.html", {"chains": chains})


@require_http_methods(["GET", "POST"])
def acknowledge_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a page. GET only shows what it is (a phone's link preview must not
    acknowledge); the button POSTs. The signed token names the page and its recipient."""
    try:
        page = paging.page_for_token(token)
    except paging.PagingError as error:
        return render(request, "paging/ack_refused.html", {"reason": str(error)}, status=400)
    chain = page.chain
    if request.method == "POST":
        try:
            paging.acknowledge(chain_id=chain.pk, user=page.recipient, via=paging.AckVia.LINK)
        except paging.PagingError as error:
            return render(request, "paging/ack_refused.html", {"reason": str(error)}, status=409)
        return render(request, "paging/ack_done.html", {"page": page})
    if chain.status != PageChain.Status.ACTIVE:
        reason = (
            f"Already acknowledged by {display_name(chain.acknowledged_by)}."
            if chain.acknowledged_by
            else f"This page has ended: {chain.get_status_display().lower()}."
        )
        return render(request, "paging/ack_refused.html", {"reason": reason}, status=409)
    return render(request, "paging/ack_confirm.html", {"page": page})


@login_required
@require_POST
def acknowledge_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_ticket_for(signed_in(request), pk)
    chain = active_page_chain(ticket=ticket)
    if chain is None:
        messages.warning(request, "Nobody is being paged for this ticket.")
        return redirect(ticket)
    try:
        paging.acknowledge(
            chain_id=chain.pk, user=signed_in(request), via=paging.AckVia.TICKET_PAGE
        )
    except paging.PagingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Acknowledged: the paging has stopped and the ticket is yours.")
    return redirect(ticket)


@login_required
@require_POST
def page_on_call(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in(request)
    ticket = get_ticket_for(user, pk)
    if not is_it_staff(user):
        raise Http404
    if not ticket.is_open:
        messages.error(request, f"{ticket.number} is not open; nobody needs paging for it.")
        return redirect(ticket)
    with transaction.atomic():
        chain = paging.start_chain(ticket=ticket, reason=PageChain.Reason.MANUAL, started_by=user)
    if chain is None:
        messages.warning(request, "The on-call technician is already being paged.")
    else:
        messages.success(request, f"Paging the {ticket.team.name} on-call technician.")
    return redirect(ticket)
