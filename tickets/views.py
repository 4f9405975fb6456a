from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments.models import Location
from departments.roles import is_it_staff
from tickets import phi
from tickets.forms import CommentForm, FileTicketForm
from tickets.models import PageChain, Ticket
from tickets.services import TicketError, ticket_comment, ticket_file

MY_TICKETS_PAGE_SIZE = 50
OPEN_TICKETS_PAGE_SIZE = 100


def signed_in(request: HttpRequest) -> User:
    """The user of a view behind login_required."""
    assert isinstance(request.user, User)
    return request.user


def get_ticket_for(user: User, pk: int) -> Ticket:
    """The ticket if this user may see it; a 404 otherwise, so numbers reveal nothing."""
    queryset = Ticket.objects.for_user(user).select_related(
        "department", "location", "category", "team", "requester", "assignee"
    )
    return get_object_or_404(queryset, pk=pk)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if is_it_staff(request.user):
        return redirect("open_tickets")
    return redirect("file_ticket")


def _initial_location(request: HttpRequest) -> Location | None:
    tag = request.GET.get("ws", "").strip()
    if tag:
        found = Location.objects.filter(code__iexact=tag, is_active=True).first()
        if found is None:
            messages.warning(
                request, f"Workstation {tag[:32]} is not registered; pick your location below."
            )
        return found
    profile = getattr(request.user, "profile", None)
    if profile is not None and profile.home_department_id:
        return (
            Location.objects.filter(
                department_id=profile.home_department_id,
                kind=Location.Kind.UNIT,
                is_active=True,
            )
            .order_by("name")
            .first()
        )
    return None


@login_required
@require_http_methods(["GET", "POST"])
def file_ticket(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = FileTicketForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            filing = ticket_file(
                requester=signed_in(request),
                location=data["location"],
                category=data["category"],
                title=data["title"],
                callback=data["callback"],
                care_delayed=data["care_delayed"],
                scope=data["scope"],
                workaround=data["workaround"],
                description=data["description"],
                idempotency_key=data["idempotency_key"],
            )
            # Redirect, so a reload shows the confirmation and the form comes back empty.
            return redirect("ticket_filed", pk=filing.ticket.pk)
    else:
        profile = getattr(request.user, "profile", None)
        location = _initial_location(request)
        form = FileTicketForm(
            initial={
                "callback": profile.callback if profile is not None else "",
                "location": location.pk if location is not None else None,
            }
        )
    return render(
        request,
        "tickets/file.html",
        {"form": form, "workstation": request.GET.get("ws", "").strip()[:32]},
    )


@login_required
@require_GET
def ticket_filed(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_ticket_for(signed_in(request), pk)
    return render(request, "tickets/filed.html", {"ticket": ticket})


@login_required
@require_GET
def my_tickets(request: HttpRequest) -> HttpResponse:
    tickets = (
        Ticket.objects.filter(requester=signed_in(request))
        .select_related("department", "location", "category", "assignee")
        .order_by("-created_at")
    )
    counts = Ticket.objects.filter(requester=signed_in(request)).aggregate(
        open=Count("pk", filter=Q(status__in=Ticket.OPEN_STATUSES)), total=Count("pk")
    )
    return render(
        request,
        "tickets/my_tickets.html",
        {"tickets": tickets[:MY_TICKETS_PAGE_SIZE], "counts": counts},
    )


@login_required
@require_GET
def open_tickets(request: HttpRequest) -> HttpResponse:
    """IT's list of open tickets, most urgent first."""
    if not is_it_staff(request.user):
        return redirect("my_tickets")
    tickets = (
        Ticket.objects.open()
        .select_related("department", "location", "category", "assignee", "team")
        .order_by("priority", "created_at")
    )
    return render(
        request, "tickets/open_tickets.html", {"tickets": tickets[:OPEN_TICKETS_PAGE_SIZE]}
    )


@login_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_ticket_for(signed_in(request), pk)
    staff = is_it_staff(request.user)
    form = CommentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket_comment(ticket=ticket, author=signed_in(request), text=form.cleaned_data["text"])
        except TicketError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, "Your comment was added.")
            return redirect(ticket)
    events = ticket.events.select_related("actor").order_by("at", "pk")
    if not staff:
        events = events.filter(is_public=True)
    return render(
        request,
        "tickets/detail.html",
        {
            "ticket": ticket,
            "events": events,
            "form": form,
            "staff_view": staff,
            "clocks": ticket.sla_clocks(timezone.now()),
            "active_chain": ticket.page_chains.filter(status=PageChain.Status.ACTIVE)
            .select_related("team")
            .first()
            if staff
            else None,
        },
    )


@login_required
@require_POST
def phi_check(request: HttpRequest) -> JsonResponse:
    """What the PHI warning says as the nurse types. Nothing typed is stored or logged."""
    text = request.POST.get("text", "")[:8000]
    found = phi.kinds(
        text,
        mrn_min_digits=settings.HELPDESK["MRN_MIN_DIGITS"],
        mrn_max_digits=settings.HELPDESK["MRN_MAX_DIGITS"],
    )
    return JsonResponse(
        {
            "kinds": [kind.value for kind in found],
            "labels": [phi.PHI_KIND_LABELS[kind] for kind in found],
        }
    )


@require_POST
def keep_alive(request: HttpRequest) -> HttpResponseBase:
    """The "stay signed in" button: any request renews the idle session."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False}, status=401)
    return JsonResponse({"signed_in": True, "idle_timeout_seconds": settings.SESSION_COOKIE_AGE})
