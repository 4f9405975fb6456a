"""Major incident pages: the IT list, declare form, detail (timeline, tickets, affected units,
update, resolve, recovery checklist) and alert decisions; and the page everyone concerned sees,
where one tap says "me too"."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.ids import parse_id
from departments.roles import is_it_staff
from incidents import selectors, services
from incidents.forms import DeclareForm, JoinForm, LinkForm, RecoveryForm, ResolveForm, UpdateForm
from incidents.models import Affected, Incident, IncidentAlert, RecoveryItem
from tickets.models import Ticket, parse_ticket_number
from tickets.selectors import ticket_visible_to


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _it(request: HttpRequest) -> User:
    user = _user(request)
    if not is_it_staff(user):
        raise Http404
    return user


def _incident(request: HttpRequest, pk: int) -> Incident:
    return get_object_or_404(selectors.incidents_for(request.user), pk=pk)


@login_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    _it(request)
    open_incidents, recent = selectors.incident_list()
    return render(
        request,
        "incidents/list.html",
        {"open_incidents": open_incidents, "recent": recent, "alerts": selectors.open_alerts()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def declare(request: HttpRequest) -> HttpResponse:
    user = _it(request)
    alert = ticket = None
    initial: dict[str, object] = {"hospital_wide": True}
    source = request.POST if request.method == "POST" else request.GET
    if "alert" in source:
        alert = get_object_or_404(
            IncidentAlert.objects.select_related("category"), pk=parse_id(source["alert"]) or 0
        )
        initial.update(category=alert.category_id, service=alert.category.name)
    if "ticket" in source:
        ticket = ticket_visible_to(user=user, pk=parse_id(source["ticket"]) or 0)
        if ticket is None:
            raise Http404
        tile = ticket.category.parent_id or ticket.category_id
        initial.update(category=tile, service=str(ticket.category.parent or ticket.category))
    form = DeclareForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.declare(
                by=user, service=data["service"], category=data["category"],
                hospital_wide=data["hospital_wide"], departments=data["departments"],
                message=data["message"], workaround=data["workaround"],
                next_update_at=data["next_update_at"], alert=alert, ticket=ticket,
            )  # fmt: skip
        except services.IncidentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{incident.number} declared. The banner is up.")
            return redirect("incidents:detail", pk=incident.pk)
    return render(
        request, "incidents/declare.html", {"form": form, "alert": alert, "ticket": ticket}
    )


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    _it(request)
    incident = get_object_or_404(
        Incident.objects.select_related(
            "team", "commander", "category", "commander_chain__acknowledged_by"
        ).prefetch_related("updates", "departments", "recovery"),
        pk=pk,
    )
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "timeline": selectors.incident_timeline(incident),
            "tickets": selectors.linked_tickets(incident),
            "by_unit": selectors.affected_by_unit(incident),
            "commander_paging": selectors.commander_paging(incident),
            "update_form": UpdateForm(),
            "resolve_form": ResolveForm(),
            "link_form": LinkForm(),
            "recovery_form": RecoveryForm(),
        },
    )


def _act(request: HttpRequest, pk: int, run: Callable[[User, Incident], str]) -> HttpResponse:
    user = _it(request)
    incident = get_object_or_404(Incident, pk=pk)
    try:
        done = run(user, incident)
    except services.IncidentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("incidents:detail", pk=pk)


@login_required
@require_POST
def post_update(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, incident: Incident) -> str:
        form = UpdateForm(request.POST)
        if not form.is_valid():
            raise services.IncidentError("Write the update; the next update time must be a time.")
        services.post_update(
            incident=incident, by=user, text=form.cleaned_data["text"],
            next_update_at=form.cleaned_data["next_update_at"],
        )  # fmt: skip
        return "Update posted: the banner shows it and everyone affected is e-mailed."

    return _act(request, pk, run)


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, incident: Incident) -> str:
        services.acknowledge_commander_page(incident=incident, by=user)
        return "Acknowledged: the commander paging has stopped."

    return _act(request, pk, run)


@login_required
@require_POST
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, incident: Incident) -> str:
        form = ResolveForm(request.POST)
        if not form.is_valid():
            raise services.IncidentError("Write what everyone affected is told.")
        services.resolve(incident=incident, by=user, resolution=form.cleaned_data["resolution"])
        return f"{incident.number} resolved with its tickets; everyone affected is told."

    return _act(request, pk, run)


@login_required
@require_POST
def link(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, incident: Incident) -> str:
        number = parse_ticket_number(request.POST.get("ticket", ""))
        ticket = Ticket.objects.filter(pk=number).first() if number else None
        if ticket is None:
            raise services.IncidentError("No ticket has that number.")
        services.link_ticket(incident=incident, ticket=ticket, by=user)
        return f"{ticket.number} linked."

    return _act(request, pk, run)


@login_required
@require_POST
def unlink(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, incident: Incident) -> str:
        found = get_object_or_404(Ticket, pk=parse_id(request.POST.get("ticket", "")) or 0)
        services.unlink_ticket(incident=incident, ticket=found, by=user)
        return f"{found.number} unlinked."

    return _act(request, pk, run)


@login_required
@require_POST
def recovery_add(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, incident: Incident) -> str:
        services.recovery_add(incident=incident, by=user, text=request.POST.get("text", ""))
        return "Added to the recovery checklist."

    return _act(request, pk, run)


@login_required
@require_POST
def recovery_tick(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, incident: Incident) -> str:
        found = get_object_or_404(
            RecoveryItem, pk=parse_id(request.POST.get("item", "")) or 0, incident=incident
        )
        done = request.POST.get("done") != "0"
        services.recovery_tick(item=found, by=user, done=done)
        return f"{'Done' if done else 'Not done'}: {found.text}"

    return _act(request, pk, run)


@login_required
@require_POST
def alert_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    user = _it(request)
    alert = get_object_or_404(IncidentAlert, pk=pk)
    try:
        services.alert_dismiss(alert=alert, by=user)
    except services.IncidentError as error:
        messages.error(request, str(error))
    else:
        quiet = int(services.thresholds().quiet.total_seconds() // 60)
        messages.success(request, f"Dismissed: {alert.category} stays quiet for {quiet} minutes.")
    return redirect("incidents:list")


@login_required
@require_http_methods(["GET", "POST"])
def known(request: HttpRequest, pk: int) -> HttpResponse:
    """The incident as the units see it; "add yourself" counts her in, with no ticket."""
    user = _user(request)
    incident = _incident(request, pk)
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _affected, created = services.join(
                incident=incident,
                user=user,
                callback=form.cleaned_data["callback"],
                note=form.cleaned_data["note"],
            )
        except services.IncidentError as error:
            messages.error(request, str(error))
        else:
            if created:
                messages.success(request, "You are added: you will hear when it is back.")
            return redirect("incidents:known", pk=pk)
    joined = Affected.objects.filter(incident=incident, user=user).exists()
    count = Affected.objects.filter(incident=incident).count()
    return render(
        request,
        "incidents/known.html",
        {
            "incident": incident,
            "updates": list(incident.updates.order_by("-posted_at", "-pk")),
            "joined": joined,
            "others": count - 1 if joined else count,
            "form": form,
        },
    )
