"""IT's pages about the help desk's mailboxes: how each is being read (with "Poll now"), and the
mail held for review, each message accepted as a ticket (or a vendor's note) or discarded.

IT staff only; anyone else gets a 404. A held message's words are shown as text, escaped like
everything else: an e-mail is never rendered as HTML here.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from departments.models import Location
from departments.roles import is_it_staff
from intake.forms import AcceptForm
from intake.imap import configured_mailboxes, mailbox_config
from intake.models import InboundMessage
from intake.polling import poll
from intake.selectors import held_message, held_messages, mailbox_panels
from intake.services import (
    ReviewRefused,
    accept_as_note,
    accept_as_ticket,
    default_location,
    sender_account,
)
from intake.services import discard as discard_message
from tickets.models import Category
from tickets.services import TicketError
from tickets.views import signed_in


def _it_staff(request: HttpRequest) -> None:
    if not is_it_staff(request.user):
        raise Http404


@login_required
@require_GET
def mail_status(request: HttpRequest) -> HttpResponse:
    _it_staff(request)
    return render(
        request,
        "intake/status.html",
        {"panels": mailbox_panels(), "held_count": held_messages().count()},
    )


@login_required
@require_POST
def poll_now(request: HttpRequest, name: str) -> HttpResponse:
    """Read one mailbox now, in this request (the lease keeps it from overlapping a beat's)."""
    _it_staff(request)
    config = mailbox_config(name)
    if config is None:
        raise Http404
    result = poll(config)
    level = messages.ERROR if result.error else messages.SUCCESS
    messages.add_message(request, level, result.summary)
    return redirect("intake:status")


@login_required
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    _it_staff(request)
    return render(
        request,
        "intake/review_list.html",
        {"held": list(held_messages()), "mailboxes": configured_mailboxes()},
    )


def _held_or_404(pk: int) -> InboundMessage:
    message = held_message(pk)
    if message is None:
        raise Http404
    return message


def _accept_initial(message: InboundMessage) -> dict[str, object]:
    """The form as IT most likely fills it: the sender's account if there is one (held for
    another reason), its unit, and the mailbox's category."""
    sender, _ = sender_account(message.sender)
    config = mailbox_config(message.mailbox)
    initial: dict[str, object] = {}
    if sender is not None:
        initial["requester"] = sender.username
        if config is not None:
            initial["location"] = default_location(sender, config)
    if config is not None:
        initial["category"] = Category.objects.filter(slug=config.category).first()
        if "location" not in initial and config.location:
            initial["location"] = Location.objects.filter(code=config.location).first()
    return initial


@login_required
@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _it_staff(request)
    message = _held_or_404(pk)
    form = AcceptForm(initial=_accept_initial(message))
    return render(request, "intake/review_detail.html", {"message": message, "form": form})


@login_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    _it_staff(request)
    message = _held_or_404(pk)
    form = AcceptForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "intake/review_detail.html",
            {"message": message, "form": form},
            status=400,
        )
    ticket_decision = form.decision()

    def file_it(held: InboundMessage, reviewer: User) -> str:
        ticket = accept_as_ticket(pk=held.pk, reviewer=reviewer, **ticket_decision)
        return f"Filed as {ticket.number} for {ticket.requester.email}."

    return _decide(request, message, file_it)


def _add_as_note(held: InboundMessage, reviewer: User) -> str:
    event = accept_as_note(pk=held.pk, reviewer=reviewer)
    return f"Added to {event.ticket.number} as an internal note."


def _discard(held: InboundMessage, reviewer: User) -> str:
    discard_message(pk=held.pk, reviewer=reviewer)
    return "Discarded. The message stays in the mailbox's processed folder."


@login_required
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    _it_staff(request)
    return _decide(request, _held_or_404(pk), _add_as_note)


@login_required
@require_POST
def discard(request: HttpRequest, pk: int) -> HttpResponse:
    _it_staff(request)
    return _decide(request, _held_or_404(pk), _discard)


Decision = Callable[[InboundMessage, User], str]


def _decide(request: HttpRequest, message: InboundMessage, decision: Decision) -> HttpResponse:
    """Carry out IT's decision and say what it did; a refused one is said on the message's page,
    and nothing changed."""
    try:
        done = decision(message, signed_in(request))
    except (ReviewRefused, TicketError) as refusal:
        messages.error(request, str(refusal))
        return redirect("intake:review_detail", pk=message.pk)
    messages.success(request, done)
    return redirect("intake:review")
