"""My tickets and the ticket page: scope, timeline, comments and a fixed number of queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from departments.models import Location
from tests.factories import TicketFactory
from tickets.models import Ticket, TicketEvent
from tickets.selectors import ticket_visible_to
from tickets.services import ticket_comment

pytestmark = pytest.mark.django_db


def test_nurse_cannot_open_another_nurses_ticket(client, nurse_medsurg, outsider):
    theirs = TicketFactory(requester=outsider)
    client.force_login(nurse_medsurg)
    for name in ("ticket_detail", "ticket_filed"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    response = client.post(reverse("ticket_detail", args=[theirs.pk]), {"text": "me too"})
    assert response.status_code == 404
    assert not TicketEvent.objects.filter(ticket=theirs, kind="comment").exists()


def test_nurse_cannot_list_another_nurses_ticket(client, nurse_medsurg, outsider):
    mine = TicketFactory(requester=nurse_medsurg, title="My printer")
    TicketFactory(requester=outsider, title="Their printer")
    client.force_login(nurse_medsurg)
    response = client.get(reverse("my_tickets"))
    assert [ticket.pk for ticket in response.context["tickets"]] == [mine.pk]
    assert "Their printer" not in response.content.decode()


def test_nurse_cannot_see_the_queue(client, nurse_medsurg):
    client.force_login(nurse_medsurg)
    assert client.get(reverse("queue")).status_code == 404
    assert client.get(reverse("queue_fragment")).status_code == 404


def test_technician_sees_every_ticket(client, tech, outsider):
    ticket = TicketFactory(requester=outsider)
    client.force_login(tech)
    assert client.get(reverse("ticket_detail", args=[ticket.pk])).status_code == 200
    assert client.get(reverse("home"))["Location"] == reverse("queue")


def test_requester_sees_public_timeline_only(client, nurse_medsurg, tech):
    ticket = TicketFactory(requester=nurse_medsurg)
    TicketEvent.objects.create(
        ticket=ticket, kind=TicketEvent.Kind.INTERNAL_NOTE, text="Vendor case 01873345", actor=tech
    )
    TicketEvent.objects.create(
        ticket=ticket, kind=TicketEvent.Kind.COMMENT, is_public=True, text="On my way", actor=tech
    )
    client.force_login(nurse_medsurg)
    body = client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert "On my way" in body
    assert "Vendor case" not in body
    client.force_login(tech)
    assert "Vendor case" in client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()


def test_requester_comments_on_their_ticket(client, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    client.force_login(nurse_medsurg)
    response = client.post(
        reverse("ticket_detail", args=[ticket.pk]),
        {"text": "Still blank after restart"},
        follow=True,
    )
    assert "Your comment was added." in response.content.decode()
    assert "Still blank after restart" in response.content.decode()
    event = ticket.events.get(kind=TicketEvent.Kind.COMMENT)
    assert event.is_public
    assert event.actor == nurse_medsurg


def test_empty_comment_gets_a_message_and_adds_nothing(client, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    client.force_login(nurse_medsurg)
    response = client.post(reverse("ticket_detail", args=[ticket.pk]), {"text": "   "})
    assert "Write a comment before sending it." in response.content.decode()
    assert not ticket.events.exists()


def test_requester_answer_moves_waiting_ticket_back_to_it(nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg, status=Ticket.Status.WAITING_ON_REQUESTER)
    ticket_comment(ticket=ticket, author=nurse_medsurg, text="It is the printer by bed 4")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.IN_PROGRESS
    assert ticket.events.filter(kind=TicketEvent.Kind.STATUS, new_value="in_progress").exists()


def test_requester_cannot_comment_on_a_closed_ticket(client, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg, status=Ticket.Status.CLOSED)
    client.force_login(nurse_medsurg)
    response = client.post(reverse("ticket_detail", args=[ticket.pk]), {"text": "again"})
    assert response.status_code == 200
    assert not ticket.events.exists()


def test_timeline_is_append_only(nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    event = TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.COMMENT, text="a")
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        TicketEvent.objects.filter(ticket=ticket).update(text="b")
    with pytest.raises(TypeError):
        TicketEvent.objects.filter(ticket=ticket).delete()


@pytest.mark.parametrize("size", [3, 30])
def test_my_tickets_queries_do_not_grow(client, nurse_medsurg, django_assert_max_num_queries, size):
    TicketFactory.create_batch(size, requester=nurse_medsurg)
    client.force_login(nurse_medsurg)
    client.get(reverse("my_tickets"))  # the reference rows and roles, once per process
    # session, user, profile (menu), counts, the list with whom each ticket is with: one query
    # for the whole list whatever its length, never one per row; locations are held rows.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("my_tickets"))
    assert len(response.context["tickets"]) == size


@pytest.mark.parametrize("size", [2, 25])
def test_ticket_page_queries_do_not_grow(
    client, nurse_medsurg, django_assert_max_num_queries, size
):
    ticket = TicketFactory(requester=nurse_medsurg)
    TicketEvent.objects.bulk_create(
        TicketEvent(ticket=ticket, kind="comment", is_public=True, actor=nurse_medsurg, text="x")
        for _ in range(size)
    )
    client.force_login(nurse_medsurg)
    client.get(reverse("ticket_detail", args=[ticket.pk]))  # the reference rows and roles, once
    # session, user, groups, the ticket with its requester and assignee (departments,
    # locations, categories and teams come from the reference cache), the timeline with its
    # actors.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("ticket_detail", args=[ticket.pk]))
    assert len(response.context["events"]) == size


def test_ticket_page_names_a_location_newer_than_the_reference_cache(client, nurse_medsurg):
    first = TicketFactory(requester=nurse_medsurg)
    client.force_login(nurse_medsurg)
    client.get(reverse("ticket_detail", args=[first.pk]))  # the reference cache is loaded
    # Added in bulk (as another process would), then filed for at once.
    (room,) = Location.objects.bulk_create(
        [Location(code="MS-412", name="Room 412", kind=Location.Kind.ROOM,
                  department=first.department)]
    )  # fmt: skip
    ticket = TicketFactory(requester=nurse_medsurg, location=room)
    body = client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert "<dt>Location</dt><dd>Room 412</dd>" in body


def test_the_ticket_read_brings_its_people_in_one_query(
    nurse_medsurg, tech, django_assert_num_queries
):
    assigned = TicketFactory(
        requester=nurse_medsurg, assignee=tech, description="Line one\nline two"
    )
    unassigned = TicketFactory(requester=nurse_medsurg)
    # The first read also learns the technician's role and fills the reference cache.
    ticket_visible_to(user=tech, pk=assigned.pk)
    for ticket in (assigned, unassigned):
        expected = Ticket.objects.select_related("requester", "assignee").get(pk=ticket.pk)
        with django_assert_num_queries(1):
            read = ticket_visible_to(user=tech, pk=ticket.pk)
            assert read is not None
            # The people come with it: no query to name them.
            names = (read.requester.get_full_name(), read.assignee and read.assignee.username)
        assert names == (
            expected.requester.get_full_name(),
            expected.assignee and expected.assignee.username,
        )
        for field in Ticket._meta.concrete_fields:
            assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
        assert read.requester.email == expected.requester.email
    assert ticket_visible_to(user=tech, pk=unassigned.pk + 1000) is None
