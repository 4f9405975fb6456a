"""Removing patient data (services.ticket_redact): after a removal the original is nowhere (no
table, page, API answer, CSV or e-mail), the timeline says who removed it and where but not
what, the PHI flag follows what remains, and every refusal says why and changes nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import models
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEntry
from departments.models import Location
from tickets.models import Category, Ticket, TicketEvent
from tickets.phi import REDACTION_MARK
from tickets.priority import Scope
from tickets.services import (
    TicketError,
    ticket_comment,
    ticket_edit,
    ticket_file,
    ticket_redact,
    ticket_set_status,
)

pytestmark = pytest.mark.django_db
K = TicketEvent.Kind
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=timezone.get_fixed_timezone(-300))
NAME = "Jonathan Quill"


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def file(requester, *, title: str, description: str = "") -> Ticket:
    return ticket_file(
        requester=requester,
        location=Location.objects.get(code="MEDSURG"),
        category=Category.objects.get(slug="medication"),
        title=title,
        description=description,
        callback="x4410",
        care_delayed=False,
        scope=Scope.ME,
        workaround=True,
    ).ticket


def rows_holding(text: str) -> list[str]:
    """Every table and text column that still holds ``text`` anywhere in a value."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField):
                continue
            if model._default_manager.filter(**{f"{field.attname}__contains": text}).exists():
                found.append(f"{model._meta.db_table}.{field.column}")
    return found


def texts_of(ticket: Ticket) -> dict[str, Any]:
    """Everything a refused removal must leave as it was."""
    ticket.refresh_from_db()
    events = ticket.events.order_by("pk").values_list("kind", "text", "old_value", "new_value")
    return {
        "title": ticket.title,
        "description": ticket.description,
        "phi_suspected": ticket.phi_suspected,
        "updated_at": ticket.updated_at,
        "events": list(events),
    }


@contextmanager
def refused(message: str, ticket: Ticket) -> Iterator[None]:
    """The service says no, in exactly these words, and nothing about the ticket changes."""
    before = texts_of(ticket)
    with pytest.raises(TicketError) as error:
        yield
    assert str(error.value) == message
    assert texts_of(ticket) == before


def csv_export(manager) -> str:
    client = APIClient()
    client.force_login(manager)
    day = timezone.localdate()
    response = client.get(
        reverse("reports:export", args=["tickets"]),
        {"period": "custom", "start": str(day - timedelta(days=1)), "end": str(day),
         "include_titles": "1"},
    )  # fmt: skip
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_after_a_removal_the_original_is_nowhere(
    settings, django_capture_on_commit_callbacks, frozen, nurse_medsurg, tech, manager
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Filed with the name in the title: the e-mails are queued, not yet sent.
    with django_capture_on_commit_callbacks() as queued:
        ticket = file(
            nurse_medsurg,
            title=f"Pump keeps alarming for {NAME}",
            description=f"Bed 4, {NAME}, pump 22 alarms every 5 min",
        )
    assert queued, "the filing notices wait for the commit"
    ticket_edit(ticket=ticket, actor=tech, changes={"title": f"Pump 22 alarming ({NAME})"})
    ticket_comment(ticket=ticket, author=nurse_medsurg, text=f"{NAME} is being moved to bed 6")
    ticket_comment(ticket=ticket, author=tech, text=f"Swap pump for {NAME}", internal=True)
    LogEntry.objects.create(
        user=tech,
        content_type=ContentType.objects.get_for_model(Ticket),
        object_id=str(ticket.pk),
        object_repr=str(ticket),
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Title"]}}]',
    )
    assert set(rows_holding(NAME)) == {
        "tickets_ticket.title",
        "tickets_ticket.description",
        "tickets_ticketevent.text",
        "tickets_ticketevent.old_value",
        "tickets_ticketevent.new_value",
        "django_admin_log.object_repr",
    }

    ticket_redact(ticket=ticket, actor=tech, target="title", passage=NAME)

    assert rows_holding(NAME) == []
    ticket.refresh_from_db()
    assert ticket.title == f"Pump 22 alarming ({REDACTION_MARK})"
    assert ticket.description == f"Bed 4, {REDACTION_MARK}, pump 22 alarms every 5 min"

    # The pages: IT's whole timeline and the requester's public one.
    for user in (tech, nurse_medsurg):
        client = APIClient()
        client.force_login(user)
        page = client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
        assert NAME not in page
        assert REDACTION_MARK in page
        for path in (f"/api/tickets/{ticket.pk}/", f"/api/tickets/{ticket.pk}/timeline/"):
            answer = client.get(path)
            assert answer.status_code == 200
            assert NAME not in answer.content.decode()
        # Searching the queue or the API finds the ticket by its remaining words only.
        assert client.get("/api/tickets/", {"q": NAME.split()[0]}).json()["results"] == []
        found = client.get("/api/tickets/", {"q": "alarming"}).json()["results"]
        assert [row["number"] for row in found] == [ticket.number]

    export = csv_export(manager)
    assert ticket.number in export
    assert NAME not in export
    row = next(row for row in csv.reader(io.StringIO(export)) if ticket.number in row)
    assert row[-1] == f"Pump 22 alarming ({REDACTION_MARK})"

    # The e-mails queued before the removal go out after it, built from what is left.
    for callback in queued:
        callback()
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert NAME not in message.subject
        assert NAME not in message.body


def test_the_timeline_says_who_removed_it_and_where_but_not_what(frozen, nurse_medsurg, tech):
    ticket = file(nurse_medsurg, title="Pump alarms", description=f"For {NAME} in bed 4")
    ticket_redact(ticket=ticket, actor=nurse_medsurg, target="description", passage=NAME)

    event = ticket.events.get(kind=K.REDACTED)
    assert event.actor == nurse_medsurg
    assert event.is_public is True
    assert event.at == NOW
    assert event.text == "Removed patient data from the description."
    assert NAME not in f"{event.text}{event.old_value}{event.new_value}"
    logged = AuditEntry.objects.get(kind=AuditEntry.Kind.REDACTION)
    assert (logged.actor, logged.ticket_id, logged.at) == (nurse_medsurg, ticket.pk, NOW)
    assert logged.detail == {"target": "description", "places": 1}


def test_a_copy_elsewhere_on_the_ticket_goes_too_and_the_timeline_counts_it(nurse_medsurg, tech):
    ticket = file(nurse_medsurg, title=f"Pump for {NAME}", description=f"{NAME}, bed 4")
    comment = ticket_comment(ticket=ticket, author=nurse_medsurg, text=f"{NAME} moved")

    ticket_redact(ticket=ticket, actor=tech, target="comment", passage=NAME, event_id=comment.pk)

    ticket.refresh_from_db()
    assert NAME not in ticket.title + ticket.description
    assert ticket.events.get(pk=comment.pk).text == f"{REDACTION_MARK} moved"
    assert ticket.events.get(kind=K.REDACTED).text == (
        "Removed patient data from a comment. "
        "The same text was also removed from 2 other places on this ticket."
    )


def test_removing_the_last_flagged_passage_clears_the_flag_and_says_so(nurse_medsurg, tech):
    ticket = file(nurse_medsurg, title="Cannot scan wristband", description="pt John Smith bed 4")
    assert ticket.phi_suspected is True

    ticket_redact(ticket=ticket, actor=tech, target="description", passage="John Smith")

    assert ticket.phi_suspected is False
    assert ticket.events.get(kind=K.REDACTED).text == (
        "Removed patient data from the description. "
        "Nothing that looks like patient data remains; the ticket is no longer flagged."
    )


def test_the_flag_stays_while_anything_flagged_remains_even_in_an_internal_note(
    nurse_medsurg, tech
):
    ticket = file(nurse_medsurg, title="Cannot scan wristband", description="pt John Smith bed 4")
    ticket_comment(ticket=ticket, author=tech, text="MRN 00123456 on the band", internal=True)

    ticket_redact(ticket=ticket, actor=nurse_medsurg, target="description", passage="John Smith")

    assert ticket.phi_suspected is True
    event = ticket.events.get(kind=K.REDACTED)
    assert event.text.endswith("Other text on this ticket still looks like patient data.")
    # The requester cannot see IT's note, so her removal does not reach it either.
    assert ticket.events.filter(text__contains="00123456").exists()


def test_a_ticket_never_flagged_says_nothing_about_the_flag(nurse_medsurg, tech):
    ticket = file(nurse_medsurg, title=f"Printer for {NAME}")
    assert ticket.phi_suspected is False
    ticket_redact(ticket=ticket, actor=tech, target="title", passage=NAME)
    assert ticket.events.get(kind=K.REDACTED).text == "Removed patient data from the title."
    assert ticket.phi_suspected is False


def test_only_it_reaches_internal_notes(nurse_medsurg, tech):
    ticket = file(nurse_medsurg, title="Pump alarms", description=f"{NAME} bed 4")
    note = ticket_comment(ticket=ticket, author=tech, text=f"Called {NAME}'s nurse", internal=True)

    with refused("Only IT staff can remove text from internal notes.", ticket):
        ticket_redact(
            ticket=ticket, actor=nurse_medsurg, target="comment", passage=NAME, event_id=note.pk
        )

    ticket_redact(ticket=ticket, actor=tech, target="comment", passage=NAME, event_id=note.pk)
    assert ticket.events.get(pk=note.pk).text == f"Called {REDACTION_MARK}'s nurse"
    event = ticket.events.get(kind=K.REDACTED)
    assert event.is_public is False, "a removal from an internal note stays in IT"
    assert event.text.startswith("Removed patient data from an internal note.")


def test_earlier_removals_are_left_alone(nurse_medsurg, tech):
    ticket = file(nurse_medsurg, title="Pump alarms", description=f"{NAME} bed 4, {NAME}")
    ticket_redact(ticket=ticket, actor=tech, target="description", passage=NAME)
    assert ticket.description == f"{REDACTION_MARK} bed 4, {REDACTION_MARK}"

    with refused("That text is part of an earlier removal.", ticket):
        ticket_redact(ticket=ticket, actor=tech, target="description", passage="patient")
    with refused("That text is not in the description. Copy it from there exactly.", ticket):
        ticket_redact(ticket=ticket, actor=tech, target="description", passage=NAME)


def test_a_title_stays_within_its_length_when_the_mark_is_longer_than_the_passage(
    nurse_medsurg, tech
):
    title = ("Pump alarm " * 10)[:108] + " for Quill"
    ticket = file(nurse_medsurg, title=title)
    assert len(ticket.title) == 118

    ticket_redact(ticket=ticket, actor=tech, target="title", passage="Quill")

    assert len(ticket.title) == 120
    assert ticket.title.endswith(" for [remov\u2026")
    assert "Quill" not in ticket.title


# Refusals ------------------------------------------------------------------------------------


def test_bad_input_is_refused_with_a_reason_and_changes_nothing(nurse_medsurg, outsider, tech):
    ticket = file(nurse_medsurg, title=f"Pump for {NAME}", description="Bed 4")
    comment = ticket_comment(ticket=ticket, author=nurse_medsurg, text="Still alarming")
    other = file(outsider, title="Badge tap fails")
    elsewhere = ticket_comment(ticket=other, author=outsider, text=f"{NAME} again")
    cases = [
        ({"target": "title", "passage": "   "}, "Paste or type the text to remove."),
        ({"target": "notes", "passage": NAME},
         "Choose the title, the description or a comment to remove text from."),
        ({"target": "title", "passage": "x" * 4001},
         "Keep the text to remove under 4000 characters."),
        ({"target": "title", "passage": "Jonathan  Quill"},
         "That text is not in the title. Copy it from there exactly."),
        ({"target": "description", "passage": NAME},
         "That text is not in the description. Copy it from there exactly."),
        ({"target": "comment", "passage": NAME}, "Say which comment the text is in."),
        ({"target": "comment", "passage": NAME, "event_id": comment.pk},
         "That text is not in a comment. Copy it from there exactly."),
        ({"target": "comment", "passage": NAME, "event_id": elsewhere.pk},
         f"There is no such comment on {ticket.number}."),
        ({"target": "comment", "passage": "Filed", "event_id": ticket.events.get(kind=K.FILED).pk},
         f"There is no such comment on {ticket.number}."),
    ]  # fmt: skip
    for arguments, message in cases:
        with refused(message, ticket):
            ticket_redact(ticket=ticket, actor=tech, **arguments)


def test_the_requester_may_not_touch_someone_elses_ticket(nurse_medsurg, outsider):
    ticket = file(nurse_medsurg, title=f"Pump for {NAME}")
    with refused("Only the requester or IT can remove text from this ticket.", ticket):
        ticket_redact(ticket=ticket, actor=outsider, target="title", passage=NAME)


@pytest.mark.parametrize("status", [Ticket.Status.RESOLVED, Ticket.Status.CANCELLED])
def test_the_requester_may_not_clean_a_closed_ticket_but_it_may(nurse_medsurg, tech, status):
    ticket = file(nurse_medsurg, title=f"Pump for {NAME}")
    ticket_set_status(ticket=ticket, actor=tech, status=status, note="Done with it.")
    label = Ticket.Status(status).label.lower()
    with refused(f"{ticket.number} is {label}. Ask IT to remove the text.", ticket):
        ticket_redact(ticket=ticket, actor=nurse_medsurg, target="title", passage=NAME)

    ticket_redact(ticket=ticket, actor=tech, target="title", passage=NAME)
    assert ticket.title == f"Pump for {REDACTION_MARK}"


def test_a_removal_changes_an_events_texts_and_nothing_else(nurse_medsurg):
    ticket = file(nurse_medsurg, title="Pump alarms")
    events = TicketEvent.objects.filter(ticket=ticket)
    with pytest.raises(TypeError):
        events.scrub(kind=K.COMMENT)
    with pytest.raises(TypeError):
        events.update(text="")
