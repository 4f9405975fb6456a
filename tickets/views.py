from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.jinja import due_phrase
from core.links import pk_url
from core.reference_cache import ReferenceCache
from departments.models import Location, Team, active_locations
from departments.roles import PEOPLE, display_name, is_it_staff
from departments.units import home_unit
from tickets import phi
from tickets.attachments import AttachmentRefused, attachment_storage
from tickets.display import FILED_VIA, FiledTicket, TimelineEntry, sla_clocks
from tickets.forms import (
    OWN_UNIT,
    AssignForm,
    CommentForm,
    FileTicketForm,
    FixedForm,
    LinkForm,
    PriorityForm,
    QuestionsForm,
    RedactForm,
    RemoveAttachmentForm,
    ReplyForm,
    RequesterStatusForm,
    ResolveForm,
    StatusForm,
    redact_form,
)
from tickets.models import Attachment, PageChain, Ticket, TicketEvent, parse_ticket_number
from tickets.priority import PAGING_RULE_LABELS
from tickets.queue import team_names
from tickets.selectors import (
    active_page_chain,
    assignable_people,
    attachment_visible_to,
    latest_page_chain,
    related_open_tickets,
    requester_ticket_counts,
    requester_tickets,
    ticket_timeline,
    ticket_visible_to,
)
from tickets.services import (
    TRANSITIONS,
    TicketError,
    Triage,
    attachment_remove,
    may_answer_questions,
    may_redact,
    record_attachment_view,
    record_view,
    ticket_answer_fixed,
    ticket_answer_questions,
    ticket_assign,
    ticket_change_priority,
    ticket_comment,
    ticket_file,
    ticket_link,
    ticket_opened_by_assignee,
    ticket_redact,
    ticket_resolve,
    ticket_set_status,
)
from tickets.throttling import FilingLimitReached, filing_refusal
from tickets.uploads import upload_refusal

MY_TICKETS_PAGE_SIZE = 50


def signed_in(request: HttpRequest) -> User:
    """The user of a view behind login_required."""
    assert isinstance(request.user, User)
    return request.user


def get_ticket_for(user: User, pk: int) -> Ticket:
    """The ticket if this user may see it; a 404 otherwise, so numbers reveal nothing."""
    ticket = ticket_visible_to(user=user, pk=pk)
    if ticket is None:
        raise Http404
    return ticket


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if is_it_staff(request.user):
        return redirect("queue")
    return redirect("file_ticket")


def _workstation(request: HttpRequest) -> Location | None:
    """The workstation of a ``?ws=WOW-ED-07`` link (a sticker or a desktop shortcut). The form
    posts back to the same address, so the send knows it too."""
    tag = request.GET.get("ws", "").strip().lower()
    if not tag:
        return None
    return next((loc for loc in active_locations().values() if loc.code.lower() == tag), None)


def _initial_location(request: HttpRequest, workstation: Location | None) -> Location | None:
    if workstation is not None:
        return workstation
    tag = request.GET.get("ws", "").strip()
    if tag:
        messages.warning(
            request, f"Workstation {tag[:32]} is not registered; pick your location below."
        )
        return None
    return home_unit(request.user)


def _filing_limit_message(refusal: FilingLimitReached) -> str:
    minutes = max(1, math.ceil((refusal.seconds or 60) / 60))
    return (
        f"You have sent {refusal.limit} tickets in the last {refusal.period}, the most one "
        f"person can send, so this one is not sent yet. What you typed is kept below: send it "
        f"again in {minutes} minute{pluralize(minutes)}, or call the Service Desk at "
        f"{settings.HELPDESK['SERVICE_DESK_PHONE']} if it cannot wait."
    )


@login_required
@require_http_methods(["GET", "POST"])
def file_ticket(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    workstation = _workstation(request)
    limited, status = "", 200
    if request.method == "POST":
        form = FileTicketForm(request.POST, request.FILES, user=user, workstation=workstation)
        if _files_valid(request, form):
            refusal = filing_refusal(request, user)
            if refusal is None:
                data = form.cleaned_data
                try:
                    filing = ticket_file(
                        requester=user,
                        location=data["location"],
                        category=data["category"],
                        title=data["title"],
                        callback=data["callback"],
                        care_delayed=data["care_delayed"],
                        scope=data["scope"],
                        workaround=data["workaround"],
                        description=data["description"],
                        idempotency_key=data["idempotency_key"],
                        workstation=workstation,
                        attachments=data["attachments"],
                    )
                except AttachmentRefused as error:
                    form.add_error("attachments", f"{error} {NOTHING_SENT}")
                else:
                    # Redirect, so a reload shows the confirmation and the form comes back empty.
                    return redirect("ticket_filed", pk=filing.ticket.pk)
            else:
                limited, status = _filing_limit_message(refusal), 429
    else:
        profile = getattr(user, "profile", None)
        location = _initial_location(request, workstation)
        form = FileTicketForm(
            initial={
                "callback": profile.callback if profile is not None else "",
                "location": location.pk if location is not None else None,
            },
            user=user,
            workstation=workstation,
        )
    return render(
        request,
        "tickets/file.html",
        {
            "form": form,
            "workstation": request.GET.get("ws", "").strip()[:32],
            "limited": limited,
            "own_unit": OWN_UNIT,
        },
        status=status,
    )


NOTHING_SENT = "Nothing was sent: choose the files to send again."


def _files_valid(request: HttpRequest, form: forms.Form) -> bool:
    """The form's own checks, and whether its files all came in (tickets/uploads.py cuts off
    a request whose files pass the limits, keeping what was typed before them)."""
    valid = form.is_valid()
    refusal = upload_refusal(request.upload_handlers)
    if refusal:
        form.add_error("attachments", f"{refusal} {NOTHING_SENT}")
        return False
    return valid


@dataclass(frozen=True, slots=True)
class FiledNotice:
    """What the confirmation tells the nurse, in this order: whether the on-call was paged, who
    has the ticket, and when to expect the call back."""

    paged: bool
    paging: str
    owner: str
    callback: str
    callback_due: str
    # "If patient care is stopped and nobody has called within 15 minutes, phone..."
    phone_if_no_call: bool


def filed_notice(ticket: Ticket) -> FiledNotice:
    chain = latest_page_chain(ticket=ticket)
    due = due_phrase(ticket.response_due_at)
    if chain is None:
        # The one paging rule decided at filing; the chain is its record.
        paging = "The on-call technician was not paged: IT answers it in turn"
        paging += f", and pages the on-call if nobody has called you back {due}." if due else "."
    elif chain.status == PageChain.Status.ACTIVE:
        paging = f"The {ticket.team.name} on-call technician is being paged now."
    elif chain.acknowledged_by is not None:
        paging = (
            f"The on-call technician was paged; {display_name(chain.acknowledged_by)} is on it."
        )
    else:
        paging = "The on-call technician was paged."
    return FiledNotice(
        paged=chain is not None,
        paging=paging,
        owner=(
            f"{display_name(ticket.assignee)} ({ticket.team.name}) has your ticket."
            if ticket.assignee
            else f"{ticket.team.name} has your ticket."
        ),
        callback=ticket.callback,
        callback_due=due,
        phone_if_no_call=ticket.priority <= 2,
    )


@login_required
@require_GET
def ticket_filed(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_ticket_for(signed_in(request), pk)
    return render(request, "tickets/filed.html", {"ticket": ticket, "notice": filed_notice(ticket)})


@login_required
@require_POST
def answer_fixed(request: HttpRequest, pk: int) -> HttpResponse:
    """The requester's "Fixed? Yes / No, still broken" on her resolved ticket."""
    user = signed_in(request)
    ticket = get_ticket_for(user, pk)
    form = FixedForm(request.POST, prefix="fixed")
    back = redirect("my_tickets") if form["back"].value() == "mine" else redirect(ticket)
    if not form.is_valid():
        _say_errors(request, form)
        return back
    fixed = form.cleaned_data["fixed"]
    try:
        ticket_answer_fixed(
            ticket=ticket, requester=user, fixed=fixed, answer=form.cleaned_data["answer"]
        )
    except TicketError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Thank you: {ticket.number} is closed."
            if fixed
            else f"{ticket.number} is reopened; {ticket.team.name} has your answer.",
        )
    return back


def triaged_message(triage: Triage) -> str:
    """What the person who answered the three questions is told."""
    ticket = triage.ticket
    if triage.chain is not None:
        return f"P{ticket.priority}: the on-call technician has been paged."
    return f"Thank you: {ticket.number} is {ticket.priority_label}. IT answers it in turn."


def triage_url(ticket: Ticket, user: User) -> str | None:
    """Where this reader answers the ticket's three questions, while it waits for them and she
    may answer them; None otherwise."""
    if not (ticket.needs_triage and ticket.is_open and may_answer_questions(ticket, user)):
        return None
    return pk_url("answer_questions")(ticket.pk)


@login_required
@require_http_methods(["GET", "POST"])
def answer_questions(request: HttpRequest, pk: int) -> HttpResponse:
    """The filing form's three questions for a ticket filed by e-mail, reached from the link in
    the receipt or the ticket page's banner: the requester answers them, or IT does for her, and
    the answers set the priority (and page the on-call when filing with them would have)."""
    user = signed_in(request)
    ticket = get_ticket_for(user, pk)
    if not may_answer_questions(ticket, user):
        raise Http404
    if not ticket.needs_triage:
        messages.info(
            request,
            f"The questions on {ticket.number} were already answered: it is "
            f"{ticket.priority_label}.",
        )
        return redirect(ticket)
    form = QuestionsForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            triage = ticket_answer_questions(ticket=ticket, user=user, **form.cleaned_data)
        except TicketError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, triaged_message(triage))
        return redirect(ticket)
    return render(request, "tickets/questions.html", {"ticket": ticket, "form": form})


@login_required
@require_GET
def my_tickets(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    tickets = requester_tickets(requester=user, limit=MY_TICKETS_PAGE_SIZE)
    counts = requester_ticket_counts(requester=user)
    rows = [(ticket, fixed_form(ticket, user, back="mine")) for ticket in tickets]
    return render(
        request,
        "tickets/my_tickets.html",
        {"rows": rows, "tickets": [ticket for ticket, _form in rows], "counts": counts},
    )


def fixed_form(ticket: Ticket | FiledTicket, user: User, *, back: str) -> FixedForm | None:
    """ "Fixed? Yes / No" for the person who filed a resolved ticket; None for anyone else."""
    if ticket.status != Ticket.Status.RESOLVED or ticket.requester_id != user.pk:
        return None
    return FixedForm(prefix="fixed", auto_id=f"fixed-{ticket.pk}-%s", initial={"back": back})


_people: ReferenceCache[str, list[tuple[int, str]]] = ReferenceCache(PEOPLE)

# The workspace's forms and the views they post to.
WORKSPACE_URLS = {
    "acknowledge": "acknowledge_ticket",
    "page": "page_on_call",
    "claim": "claim",
    "resolve": "resolve",
    "status": "change_status",
    "assign": "assign",
    "priority": "change_priority",
    "link": "link",
}

# What the reply box's send button says for each choice of "Who sees it?".
SEND_LABELS = {"reply": "Send to the requester", "internal": "Save internal note"}


def _it_people() -> list[tuple[int, str]]:
    """Whom a ticket can go to (the assign form's choices), held until someone's role or name
    changes."""
    return _people.get_or_set("people", assignable_people)


def allowed_statuses(ticket: Ticket) -> list[tuple[str, str]]:
    """The moves the status form offers (resolving has its own form), in the order a ticket
    goes through them, so Cancelled comes last."""
    allowed = TRANSITIONS.get(ticket.status, frozenset())
    return [
        (status.value, status.label)
        for status in Ticket.Status
        if status in allowed and status != Ticket.Status.RESOLVED
    ]


@dataclass(frozen=True, slots=True)
class Workspace:
    """IT's actions on one ticket, as the page offers them: the claim and page buttons when they
    apply, and the fields of each other action this ticket allows now (resolve, status, assign,
    priority, link), rendered by the same Django forms the actions validate with."""

    claim: bool
    # "Page on call", when nobody is being paged for the ticket.
    page: bool
    # Each action's fields by action name; None for an action the ticket does not allow now.
    fields: dict[str, SafeString | None]


# The workspace's fields depend on nothing but the ticket's status and priority, the people in IT
# and the teams: every ticket with the same status and priority shows the same ones. They are
# rendered once per process and held until a person or a team changes.
_workspace_fields: ReferenceCache[tuple[str, int], dict[str, SafeString | None]] = ReferenceCache(
    PEOPLE, Team
)


def _render_workspace_fields(ticket: Ticket) -> dict[str, SafeString | None]:
    statuses = allowed_statuses(ticket)
    is_open = ticket.is_open
    offered: dict[str, forms.Form | None] = {
        "resolve": ResolveForm(prefix="resolve") if is_open else None,
        "status": StatusForm.offering(statuses) if statuses else None,
        "assign": (
            AssignForm.offering(people=_it_people(), teams=team_names()) if is_open else None
        ),
        "priority": (
            PriorityForm(prefix="priority", initial={"priority": ticket.priority})
            if is_open
            else None
        ),
        "link": LinkForm(prefix="link") if is_open else None,
    }
    return {
        action: SafeString(
            render_to_string("tickets/_workspace_fields.html", {"action": action, "form": form})
        )
        if form is not None
        else None
        for action, form in offered.items()
    }


def _workspace(ticket: Ticket, active_chain: PageChain | None) -> Workspace:
    """What the workspace offers."""
    is_open = ticket.is_open
    return Workspace(
        claim=is_open and ticket.assignee_id is None,
        page=is_open and active_chain is None,
        fields=_workspace_fields.get_or_set(
            (ticket.status, ticket.priority), lambda: _render_workspace_fields(ticket)
        ),
    )


# An empty reply or comment box is the same on every ticket (IT's differs only by who it starts
# on), and so is the reason box under every file IT may remove: their fields are rendered once
# per process. A box that comes back with an error is not.
_empty_boxes: ReferenceCache[tuple[str, str], SafeString] = ReferenceCache()


def _box_fields(template: str, form: forms.Form, variant: str = "") -> SafeString:
    def rendered() -> SafeString:
        return SafeString(render_to_string(template, {"form": form}))

    if form.is_bound:
        return rendered()
    return _empty_boxes.get_or_set((template, variant), rendered)


def reply_fields(form: forms.Form) -> SafeString:
    """The fields of the reply or comment box, rendered."""
    starts_on = str(form["visibility"].value()) if "visibility" in form.fields else ""
    return _box_fields("tickets/_reply_fields.html", form, f"{type(form).__name__} {starts_on}")


def removal_reason() -> SafeString:
    """The reason box of IT's "Remove" under each file, rendered."""
    form = RemoveAttachmentForm(prefix="remove", auto_id=False)
    return _box_fields("tickets/_removal_reason.html", form)


def _redactions(ticket: Ticket, timeline: list[TimelineEntry]) -> dict[str, RedactForm]:
    """A "Remove patient data" box under each text the reader may clean, by the text's key."""
    boxes = {"title": redact_form("title", "title")}
    if ticket.description:
        boxes["description"] = redact_form("description", "description")
    for event in timeline:
        if event.is_redactable:
            key = f"event-{event.pk}"
            boxes[key] = redact_form("comment", key, event.pk)
    return boxes


@login_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The ticket page. For the requester: the public timeline and a comment box. For IT: the
    workspace, with every action, the full timeline and the reply box that says who sees it."""
    user = signed_in(request)
    ticket = get_ticket_for(user, pk)
    staff = is_it_staff(user)
    may_clean = may_redact(ticket, user)
    redacting = may_clean and request.GET.get(REDACTION_MODE) == "1"
    posted = request.method == "POST"
    form: forms.Form = (ReplyForm if staff else CommentForm)(
        request.POST if posted else None, request.FILES if posted else None
    )
    if posted and _files_valid(request, form):
        internal = staff and form.cleaned_data.get("visibility") == "internal"
        try:
            ticket_comment(
                ticket=ticket,
                author=user,
                text=form.cleaned_data["text"],
                internal=internal,
                attachments=form.cleaned_data["attachments"],
            )
        except AttachmentRefused as error:
            form.add_error("attachments", f"{error} {NOTHING_SENT}")
        except TicketError as error:
            form.add_error("text", str(error))
        else:
            if internal:
                messages.success(request, "Internal note added; only IT sees it.")
            elif staff:
                messages.success(request, "Reply sent to the requester.")
            else:
                messages.success(request, "Your comment was added.")
            return redirect(ticket)
    if request.method == "GET":
        record_view(ticket=ticket, user=user, via="page")
    timeline = ticket_timeline(ticket=ticket, public_only=not staff)
    if staff and not form.is_bound and timeline:
        latest = timeline[-1]
        if latest.kind == TicketEvent.Kind.INTERNAL_NOTE and latest.actor_username == user.username:
            # Right after her own internal note the box stays on "Internal note": the next words
            # typed must not reach the requester by surprise.
            form.initial["visibility"] = "internal"
    active_chain = None
    if staff:
        # A chain's first page writes a Paged event in the same transaction: a ticket whose
        # timeline has none was never paged, and needs no look for an active chain.
        paged = any(event.kind == TicketEvent.Kind.PAGE for event in timeline)
        active_chain = active_page_chain(ticket=ticket) if paged else None
        if active_chain is not None and ticket_opened_by_assignee(ticket=ticket, user=user):
            active_chain = None
            timeline = ticket_timeline(ticket=ticket, public_only=not staff)
    context: dict[str, Any] = {
        "ticket": ticket,
        "events": timeline,
        # Under every file IT may remove: the one reason box, without an id, in its label.
        "removal_reason": removal_reason() if staff else None,
        "form": form,
        # IT's box says who sees the message; the requester comments on her open ticket.
        "reply_box": "reply" if staff else ("comment" if ticket.is_open else None),
        "reply_fields": reply_fields(form) if staff or ticket.is_open else None,
        "send_labels": SEND_LABELS,
        "clocks": sla_clocks(ticket, timezone.now()),
        "paging_rule": PAGING_RULE_LABELS[ticket.paging_rule],
        # "Remove patient data" boxes under every text, in redaction mode only: a technician
        # working the ticket does not scroll past a box per comment (nor pay for building them).
        "redactions": _redactions(ticket, timeline) if redacting else {},
        "redaction": None if not may_clean else ("on" if redacting else "off"),
        "fixed": fixed_form(ticket, user, back="ticket"),
        "triage_url": triage_url(ticket, user),
        "filed_via": FILED_VIA[ticket.source],
        "workspace": _workspace(ticket, active_chain) if staff else None,
        "active_chain": active_chain,
        "related": related_open_tickets(ticket=ticket) if staff else [],
    }
    if staff:
        context.update(
            urls={key: pk_url(name)(ticket.pk) for key, name in WORKSPACE_URLS.items()},
            ticket_url=pk_url("ticket_detail"),
        )
    return render(request, "tickets/detail.html", context)


# The ticket page's query parameter that shows the "Remove patient data" boxes.
REDACTION_MODE = "redact"


def _say_errors(request: HttpRequest, form: forms.Form) -> None:
    """A refused action's reasons, as messages on the page it goes back to."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


def _ticket_action(
    request: HttpRequest,
    pk: int,
    form_class: type[forms.Form],
    prefix: str,
    act: Callable[[Ticket, User, dict[str, Any]], str],
    *,
    staff_only: bool = True,
    query: str = "",
) -> HttpResponse:
    """Run one workspace action, validated, refused with its reason in words; then back to the
    ticket page (with ``query``)."""
    user = signed_in(request)
    ticket = get_ticket_for(user, pk)
    if staff_only and not is_it_staff(user):
        raise Http404
    form = form_class(request.POST, prefix=prefix)
    if not form.is_valid():
        _say_errors(request, form)
        return redirect(ticket.get_absolute_url() + query)
    try:
        done = act(ticket, user, form.cleaned_data)
    except TicketError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect(ticket.get_absolute_url() + query)


@login_required
@require_POST
def change_status(request: HttpRequest, pk: int) -> HttpResponse:
    def act(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
        ticket_set_status(ticket=ticket, actor=user, status=data["status"], note=data["note"])
        return f"{ticket.number} is now {ticket.get_status_display().lower()}."

    # A requester may reopen or cancel their own ticket; ticket_set_status holds that rule.
    form_class = StatusForm if is_it_staff(signed_in(request)) else RequesterStatusForm
    return _ticket_action(request, pk, form_class, "status", act, staff_only=False)


@login_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    def act(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
        ticket_assign(ticket=ticket, actor=user, assignee=data["assignee"], team=data["team"])
        who = display_name(ticket.assignee) if ticket.assignee else ticket.team.name
        return f"{ticket.number} is with {who}."

    return _ticket_action(request, pk, AssignForm, "assign", act)


@login_required
@require_POST
def change_priority(request: HttpRequest, pk: int) -> HttpResponse:
    def act(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
        ticket_change_priority(
            ticket=ticket, actor=user, priority=data["priority"], reason=data["reason"]
        )
        return f"{ticket.number} is now {ticket.priority_label}; deadlines recomputed."

    return _ticket_action(request, pk, PriorityForm, "priority", act)


@login_required
@require_POST
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    def act(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
        ticket_resolve(ticket=ticket, actor=user, code=data["code"], note=data["note"])
        return f"{ticket.number} is resolved. The requester can reopen it if it comes back."

    return _ticket_action(request, pk, ResolveForm, "resolve", act)


@login_required
@require_POST
def link(request: HttpRequest, pk: int) -> HttpResponse:
    def act(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
        other_pk = parse_ticket_number(data["other"])
        other = Ticket.objects.filter(pk=other_pk).first() if other_pk is not None else None
        if other is None:
            raise TicketError(f"There is no ticket {data['other'].strip()[:20]}.")
        duplicate = data["kind"] == "duplicate"
        ticket_link(ticket=ticket, other=other, actor=user, duplicate=duplicate)
        if duplicate:
            return f"{ticket.number} is resolved as a duplicate of {other.number}."
        return f"{ticket.number} and {other.number} are linked."

    return _ticket_action(request, pk, LinkForm, "link", act)


@login_required
@require_POST
def redact(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a passage of patient data. The requester may, on her own open ticket; the service
    holds that rule. The message names where, never what."""

    def act(ticket: Ticket, user: User, data: dict[str, Any]) -> str:
        ticket_redact(
            ticket=ticket,
            actor=user,
            target=data["target"],
            passage=data["passage"],
            event_id=data["event"],
        )
        return f"Patient data removed from {ticket.number}."

    # Back to the page in redaction mode: the same passage is often in another comment too.
    return _ticket_action(
        request, pk, RedactForm, "redact", act, staff_only=False, query=f"?{REDACTION_MODE}=1"
    )


# What every attachment response says, whatever the file: run nothing, embed nothing, sniff
# nothing, keep no copy on the way.
ATTACHMENT_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; "
    "style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int, attachment: int) -> HttpResponseBase:
    """An attachment, to whoever may see it and its event (404 for anyone else, and for one
    removed): images shown in the page, everything else downloaded, as the content type
    detected at upload. Every serving is on the ticket's audit trail."""
    user = signed_in(request)
    ticket = get_ticket_for(user, pk)
    found = attachment_visible_to(ticket=ticket, user=user, pk=attachment)
    if found is None:
        raise Http404
    return attachment_response(found, user)


def attachment_response(attachment: Attachment, user: User) -> FileResponse:
    """The file, recorded as served to ``user`` (who may see it), with ATTACHMENT_HEADERS."""
    try:
        content = attachment_storage().open(attachment.stored_name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    record_attachment_view(attachment=attachment, user=user)
    response = FileResponse(
        content,
        as_attachment=not attachment.is_image,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    for header, value in ATTACHMENT_HEADERS.items():
        response[header] = value
    return response


@login_required
@require_POST
def remove_attachment(request: HttpRequest, pk: int, attachment: int) -> HttpResponse:
    """IT removes an attachment, saying why; the file leaves the storage."""
    user = signed_in(request)
    ticket = get_ticket_for(user, pk)
    if not is_it_staff(user):
        raise Http404
    found = attachment_visible_to(ticket=ticket, user=user, pk=attachment)
    if found is None:
        raise Http404
    form = RemoveAttachmentForm(request.POST, prefix="remove")
    if not form.is_valid():
        _say_errors(request, form)
        return redirect(ticket)
    try:
        attachment_remove(attachment=found, actor=user, reason=form.cleaned_data["reason"])
    except TicketError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Attachment removed from {ticket.number}.")
    return redirect(ticket)


@login_required
@require_POST
def phi_check(request: HttpRequest) -> JsonResponse:
    """What the PHI warning says as the nurse types, and where the flagged passages are, so that
    "Remove it" can replace them in the field. Nothing typed is stored, logged or sent back."""
    text = request.POST.get("text", "")[:8000]
    lengths = {
        "mrn_min_digits": settings.HELPDESK["MRN_MIN_DIGITS"],
        "mrn_max_digits": settings.HELPDESK["MRN_MAX_DIGITS"],
    }
    found = phi.kinds(text, **lengths)
    return JsonResponse(
        {
            "kinds": [kind.value for kind in found],
            "labels": [phi.PHI_KIND_LABELS[kind] for kind in found],
            # Offsets as the browser counts them (UTF-16 code units), not as Python does.
            "spans": [
                [_utf16_length(text[:start]), _utf16_length(text[:end])]
                for start, end in phi.spans(text, **lengths)
            ],
        }
    )


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@require_POST
def keep_alive(request: HttpRequest) -> HttpResponseBase:
    """The "stay signed in" button: any request renews the idle session."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False}, status=401)
    return JsonResponse({"signed_in": True, "idle_timeout_seconds": settings.SESSION_COOKIE_AGE})
