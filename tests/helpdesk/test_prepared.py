"""Prepared reads give what the ORM gives, compiled once, one query a call, whatever the numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Subquery
from django.utils import timezone

from helpdesk.prepared import PreparedValues
from tests.factories import TicketFactory
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

EVENT_COLUMNS = ("pk", "at", "kind", "is_public", "text", "actor__username", "ticket__priority")


def _events(ticket_id: int):
    return TicketEvent.objects.filter(ticket_id=ticket_id).order_by("at", "pk")


events_of = PreparedValues(
    lambda ticket_id: _events(ticket_id).values_list(*EVENT_COLUMNS), "ticket_id"
)


@pytest.fixture
def two_tickets(nurse_medsurg, tech):
    first, second = TicketFactory.create_batch(2, requester=nurse_medsurg)
    now = timezone.now()
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket=ticket,
            at=now - timedelta(minutes=n),
            kind=TicketEvent.Kind.COMMENT if n % 2 else TicketEvent.Kind.INTERNAL_NOTE,
            is_public=bool(n % 2),
            actor=tech if n % 3 else None,
            text=f"note {n} on {ticket.pk}",
        )
        for ticket in (first, second)
        for n in range(5 if ticket is first else 3)
    )
    return first, second


def test_rows_are_what_values_list_gives(two_tickets):
    """Joins (actor, ticket), an outer join with no row, datetimes and booleans all come back
    converted as the ORM converts them, for each ticket asked."""
    for ticket in two_tickets:
        assert events_of(ticket_id=ticket.pk) == list(
            _events(ticket.pk).values_list(*EVENT_COLUMNS)
        )
    assert events_of(ticket_id=-1) == []


def test_compiled_once_and_one_query_per_call(two_tickets, django_assert_num_queries):
    prepared = PreparedValues(lambda ticket_id: _events(ticket_id).values_list("pk"), "ticket_id")
    first, second = two_tickets
    prepared(ticket_id=first.pk)
    compiled = prepared._compiled
    with django_assert_num_queries(1):
        assert len(prepared(ticket_id=second.pk)) == 3
    assert prepared._compiled is compiled


def test_several_numbers_each_in_its_place(two_tickets):
    """The same stand-in may appear twice; each number goes where the caller's name does."""
    first, second = two_tickets
    window = timedelta(hours=1)
    pair = PreparedValues(
        lambda ticket_id, other_id: Ticket.objects.filter(pk__in=[ticket_id, other_id])
        .exclude(pk=other_id)
        .filter(
            created_at__gte=Subquery(Ticket.objects.filter(pk=ticket_id).values("created_at")[:1])
            - window
        )
        .order_by("pk")
        .values_list("pk")[:5],
        "ticket_id",
        "other_id",
    )
    assert pair(ticket_id=first.pk, other_id=second.pk) == [(first.pk,)]
    assert pair(ticket_id=second.pk, other_id=first.pk) == [(second.pk,)]


def test_misuse_is_refused(two_tickets):
    with pytest.raises(TypeError, match="ticket_id"):
        events_of(ticket=1)
    with pytest.raises(TypeError, match="values_list"):
        PreparedValues(lambda ticket_id: _events(ticket_id), "ticket_id")(ticket_id=1)
    with pytest.raises(TypeError, match="values_list"):
        PreparedValues(
            lambda ticket_id: _events(ticket_id).values_list("pk", flat=True), "ticket_id"
        )(ticket_id=1)
    with pytest.raises(TypeError, match="does not use"):
        PreparedValues(
            lambda ticket_id, other: _events(ticket_id).values_list("pk"), "ticket_id", "other"
        )(ticket_id=1, other=2)
