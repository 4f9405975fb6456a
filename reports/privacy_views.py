"""The privacy officer's pages: who viewed a ticket, what a person viewed, unusual access. Each
answers on the page and as CSV; every CSV is itself on the audit log. Anyone without the role
gets a 404: the pages reveal nothing, not even that they exist."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from departments.roles import is_privacy_officer
from reports import conf, exports, privacy
from reports.privacy_forms import DateRangeForm, PersonActivityForm, TicketLookupForm
from reports.queries import local_today
from tickets.models import ticket_number

_ACCESS_HEADER = ["at", "what", "ticket", "user name", "name", "via", "details"]


def privacy_officer(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not is_privacy_officer(user):
        raise Http404
    return user


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def _access_rows(rows: Iterable[privacy.Access]) -> Iterable[exports.Row]:
    for row in rows:
        yield [row.at, row.kind_label, row.ticket_number, row.actor_username or "",
               row.actor_name, row.via, row.what]  # fmt: skip


def _csv(
    user: User, report: str, filters: dict[str, Any], header: list[str], rows: Iterable[Any]
) -> StreamingHttpResponse:
    exports.record_export(user=user, report=report, filters=filters)
    return exports.csv_response(header=header, rows=rows, filename=f"{report}.csv")


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context.update(
        time_zone=conf.hospital_tz().key,
        querystring=request.GET.urlencode(),
        burst_views=settings.HELPDESK_AUDIT_BURST_VIEWS,
        burst_minutes=settings.HELPDESK_AUDIT_BURST_MINUTES,
    )
    return render(request, template, context)


@login_required
@require_GET
def ticket_access(request: HttpRequest) -> HttpResponseBase:
    """Who viewed this ticket: every read of it (page, API, its files) and every change the
    log holds, newest first, with each person's role."""
    user = privacy_officer(request)
    form = TicketLookupForm(request.GET if "ticket" in request.GET else None)
    rows: list[privacy.Access] | None = None
    number = ""
    if form.is_valid():
        ticket_id = form.cleaned_data["ticket"]
        number = ticket_number(ticket_id)
        if _wants_csv(request):
            everything = privacy.ticket_access(ticket_id=ticket_id, limit=None)
            header = [*_ACCESS_HEADER, "in IT", "is the requester"]
            lines = (
                [*line, row.actor_is_it, row.actor_id is not None
                 and row.actor_id == row.requester_id]
                for line, row in zip(_access_rows(everything), everything, strict=True)
            )  # fmt: skip
            return _csv(user, f"access-{number}", {"ticket": number}, header, lines)
        rows = privacy.ticket_access(ticket_id=ticket_id)
    return _render(
        request,
        "privacy/ticket.html",
        {"form": form, "rows": rows, "number": number, "limit": privacy.TICKET_PAGE_ROWS},
    )


@login_required
@require_GET
def person_activity(request: HttpRequest) -> HttpResponseBase:
    """What did this person view (and do) between these dates."""
    user = privacy_officer(request)
    form = PersonActivityForm(request.GET if "person" in request.GET else None, today=local_today())
    rows: list[privacy.Access] | None = None
    if form.is_valid():
        person, start, end = (form.cleaned_data[name] for name in ("person", "start", "end"))
        if _wants_csv(request):
            everything = privacy.person_activity(
                user_id=person.pk, start=start, end=end, limit=None
            )
            name = f"activity-{person.username}-{start}-{end}"
            return _csv(user, name, form.filters(), _ACCESS_HEADER, _access_rows(everything))
        rows = privacy.person_activity(user_id=person.pk, start=start, end=end)
    return _render(
        request,
        "privacy/person.html",
        {"form": form, "rows": rows, "limit": privacy.LIST_PAGE_ROWS},
    )


@login_required
@require_GET
def unusual_access(request: HttpRequest) -> HttpResponseBase:
    """Reads of a requester's ticket by someone outside IT who is not its requester, and
    bursts of views by one person."""
    user = privacy_officer(request)
    form = DateRangeForm(request.GET, today=local_today())
    context: dict[str, Any] = {"form": form, "outside": None, "bursts": None}
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        if _wants_csv(request):
            return _unusual_csv(user, form)
        context["outside"] = privacy.outside_reads(start=start, end=end)
        context["bursts"] = privacy.bursts(start=start, end=end)
        context["limit"] = privacy.LIST_PAGE_ROWS
    return _render(request, "privacy/unusual.html", context)


def _unusual_csv(user: User, form: DateRangeForm) -> StreamingHttpResponse:
    """Both lists in one file: a "finding" column says which each line is."""
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    outside = privacy.outside_reads(start=start, end=end, limit=None)
    found = privacy.bursts(start=start, end=end)

    def rows() -> Iterable[exports.Row]:
        for line in _access_rows(outside):
            yield ["read by someone outside IT, not the requester", *line, "", "", ""]
        for burst in found:
            yield ["burst of views", burst.first_at, "Ticket viewed", "", burst.actor_username,
                   burst.actor_name, "", "", burst.last_at, burst.tickets,
                   burst.views]  # fmt: skip

    header = ["finding", *_ACCESS_HEADER, "until", "tickets", "views"]
    return _csv(user, f"unusual-access-{start}-{end}", form.filters(), header, rows())
