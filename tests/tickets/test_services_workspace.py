"""The workspace's services: claims that two people cannot both win, take-next that never hands
out a ticket twice, the status machine, and the refusals, each with its reason in words."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import product

import pytest
from django.db import connection

from audit.models import AuditEntry
from tests.conftest import need
from tests.factories import TicketFactory, UserFactory
from tickets.models import Ticket, TicketEvent
from tickets.services import (
    TRANSITIONS,
    ClaimLost,
    TicketError,
    record_view,
    ticket_assign,
    ticket_change_priority,
    ticket_claim,
    ticket_comment,
    ticket_link,
    ticket_resolve,
    ticket_set_status,
    ticket_take_next,
)

S = Ticket.Status
K = TicketEvent.Kind


@contextmanager
def refused(message: str) -> Iterator[None]:
    """The service says no, in exactly these words."""
    with pytest.raises(TicketError) as error:
        yield
    assert str(error.value) == message


def technicians(count: int) -> list:
    return [
        UserFactory(
            username=f"it.tech{n}", first_name="Tech", last_name=f"No{n}", role="technician"
        )
        for n in range(count)
    ]


def run_together(count: int, work) -> tuple[list, list[BaseException]]:
    """Run ``work(n)`` in ``count`` threads released at once; each thread has its own database
    connection, closed when it is done."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results[n] = work(n)
        except BaseException as error:  # surfaced by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results, errors


# Races, on PostgreSQL ----------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_twenty_technicians_claim_one_ticket_and_exactly_one_wins(reference_data, nurse_ed):
    need(connection.vendor == "postgresql", "PostgreSQL")
    ticket = TicketFactory(requester=nurse_ed)
    people = technicians(20)

    def claim(n: int) -> Ticket:
        return ticket_claim(ticket=Ticket.objects.get(pk=ticket.pk), user=people[n])

    results, errors = run_together(20, claim)

    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    ticket.refresh_from_db()
    winner = ticket.assignee
    assert winners[0].assignee == winner
    assert winner in people
    assert ticket.status == S.ASSIGNED
    assert len(errors) == 19
    assert all(type(error) is ClaimLost for error in errors), errors
    expected = f"Tech {winner.last_name} already has {ticket.number}."
    assert {str(error) for error in errors} == {expected}
    assignment = ticket.events.get(kind=K.ASSIGNMENT)
    assert assignment.actor == winner


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_ten_technicians_taking_next_get_ten_different_tickets(reference_data, nurse_ed):
    need(connection.vendor == "postgresql", "PostgreSQL")
    tickets = TicketFactory.create_batch(10, requester=nurse_ed)
    people = technicians(10)

    def take(n: int) -> Ticket | None:
        return ticket_take_next(user=people[n], queryset=Ticket.objects.all())

    results, errors = run_together(10, take)

    assert not errors
    assert all(result is not None for result in results)
    assert sorted(result.pk for result in results) == sorted(t.pk for t in tickets)
    for person, result in zip(people, results, strict=True):
        assert result.assignee == person
    assert TicketEvent.objects.filter(kind=K.ASSIGNMENT).count() == 10
    assert not Ticket.objects.filter(assignee__isnull=True).exists()


# Claim and take-next, one at a time --------------------------------------------------------


@pytest.mark.django_db
def test_nurse_cannot_claim(nurse_ed):
    ticket = TicketFactory(requester=nurse_ed)
    with refused("Only IT staff can take tickets."):
        ticket_claim(ticket=ticket, user=nurse_ed)
    with refused("Only IT staff can take tickets."):
        ticket_take_next(user=nurse_ed, queryset=Ticket.objects.all())
    ticket.refresh_from_db()
    assert ticket.assignee is None


@pytest.mark.django_db
def test_take_next_returns_nothing_when_all_are_taken(tech, nurse_ed):
    TicketFactory(requester=nurse_ed, assignee=tech, status=S.ASSIGNED)
    TicketFactory(requester=nurse_ed, status=S.RESOLVED)
    assert ticket_take_next(user=tech, queryset=Ticket.objects.all()) is None
    assert not TicketEvent.objects.exists()


# The status machine ------------------------------------------------------------------------

ALL_MOVES = list(product(S.values, S.values))


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"), ALL_MOVES, ids=[f"{o}->{n}" for o, n in ALL_MOVES])
def test_every_status_move(tech, nurse_medsurg, old, new):
    ticket = TicketFactory(requester=nurse_medsurg, status=old, assignee=tech)
    if new in TRANSITIONS[old]:
        ticket_set_status(ticket=ticket, actor=tech, status=new, note="Swapped the toner")
        ticket.refresh_from_db()
        assert ticket.status == new
        event = ticket.events.get(kind=K.STATUS)
        assert (event.old_value, event.new_value, event.actor) == (old, new, tech)
        assert event.text == "Swapped the toner"
        assert event.is_public
        return
    if old == new:
        expected = f"{ticket.number} is already {S(old).label.lower()}."
    else:
        expected = (
            f"A ticket that is {S(old).label.lower()} cannot be moved to {S(new).label.lower()}."
        )
    with refused(expected):
        ticket_set_status(ticket=ticket, actor=tech, status=new)
    unchanged = Ticket.objects.get(pk=ticket.pk)
    assert unchanged.status == old
    assert unchanged.updated_at == ticket.updated_at
    assert not ticket.events.exists()


def test_the_machine_has_the_documented_shape():
    assert set(TRANSITIONS) == set(S.values)
    # Closed and cancelled are final; resolved can only be closed or reopened.
    assert TRANSITIONS[S.CLOSED] == frozenset()
    assert TRANSITIONS[S.CANCELLED] == frozenset()
    assert TRANSITIONS[S.RESOLVED] == {S.CLOSED, S.IN_PROGRESS}
    for status in Ticket.OPEN_STATUSES:
        assert {S.RESOLVED, S.CANCELLED} <= TRANSITIONS[status]
        assert S.NEW not in TRANSITIONS[status]


@pytest.mark.django_db
def test_unknown_status_is_refused(tech, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    with refused("'lost' is not a ticket status."):
        ticket_set_status(ticket=ticket, actor=tech, status="lost")


@pytest.mark.django_db
def test_waiting_pauses_the_clock_and_going_back_to_work_resumes_it(tech, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg, status=S.IN_PROGRESS)
    ticket_set_status(ticket=ticket, actor=tech, status=S.WAITING_ON_VENDOR)
    assert ticket.sla_paused_at is not None
    assert ticket.queue_rank == 2
    ticket_set_status(ticket=ticket, actor=tech, status=S.IN_PROGRESS)
    assert ticket.sla_paused_at is None
    assert ticket.queue_rank == 1


@pytest.mark.django_db
@pytest.mark.parametrize("note", ["", "   "])
def test_it_cannot_cancel_a_ticket_without_a_reason(tech, nurse_medsurg, note):
    ticket = TicketFactory(requester=nurse_medsurg)
    with refused(f"Give a reason for cancelling {ticket.number}; the requester sees it."):
        ticket_set_status(ticket=ticket, actor=tech, status=S.CANCELLED, note=note)
    assert Ticket.objects.get(pk=ticket.pk).status == S.NEW
    assert not ticket.events.filter(kind=K.STATUS).exists()


@pytest.mark.django_db
def test_it_cancels_with_a_reason_the_requester_sees(tech, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    ticket_set_status(
        ticket=ticket, actor=tech, status=S.CANCELLED, note="  Filed twice; see HD-1001.  "
    )
    assert ticket.status == S.CANCELLED
    event = ticket.events.get(kind=K.STATUS)
    assert (event.new_value, event.text, event.is_public) == (
        S.CANCELLED,
        "Filed twice; see HD-1001.",
        True,
    )


@pytest.mark.django_db
def test_a_ticket_that_cannot_be_cancelled_says_why_before_asking_for_a_reason(tech):
    ticket = TicketFactory(status=S.CLOSED)
    with refused("A ticket that is closed cannot be moved to cancelled."):
        ticket_set_status(ticket=ticket, actor=tech, status=S.CANCELLED)


@pytest.mark.django_db
def test_requester_may_cancel_or_reopen_her_own_ticket_only(nurse_medsurg, outsider):
    mine = TicketFactory(requester=nurse_medsurg)
    # No reason needed from her: a nurse whose problem went away is not held up saying why.
    ticket_set_status(ticket=mine, actor=nurse_medsurg, status=S.CANCELLED)
    assert mine.status == S.CANCELLED

    resolved = TicketFactory(requester=nurse_medsurg, status=S.RESOLVED)
    ticket_set_status(ticket=resolved, actor=nurse_medsurg, status=S.IN_PROGRESS)
    assert resolved.status == S.IN_PROGRESS

    for status in (S.WAITING_ON_VENDOR, S.RESOLVED):
        with refused("Only IT staff can make that change."):
            ticket_set_status(ticket=resolved, actor=nurse_medsurg, status=status)
    theirs = TicketFactory(requester=outsider)
    with refused("Only IT staff can make that change."):
        ticket_set_status(ticket=theirs, actor=nurse_medsurg, status=S.CANCELLED)
    assert Ticket.objects.get(pk=theirs.pk).status == S.NEW


# Priority, notes, assignment ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   "])
def test_priority_change_without_a_reason_is_refused(tech, nurse_medsurg, reason):
    ticket = TicketFactory(requester=nurse_medsurg, priority=4)
    with refused("Give a reason for changing the priority; it goes on the record."):
        ticket_change_priority(ticket=ticket, actor=tech, priority=2, reason=reason)
    assert Ticket.objects.get(pk=ticket.pk).priority == 4
    assert not ticket.events.exists()


@pytest.mark.django_db
def test_priority_change_with_a_reason_is_on_the_record(tech, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg, priority=4)
    old_due = ticket.response_due_at
    ticket_change_priority(ticket=ticket, actor=tech, priority=2, reason="Whole unit affected")
    assert ticket.priority == 2
    assert ticket.response_due_at < old_due
    event = ticket.events.get(kind=K.PRIORITY)
    assert (event.old_value, event.new_value, event.text) == ("P4", "P2", "Whole unit affected")


@pytest.mark.django_db
def test_priority_change_refusals(tech, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg, priority=4)
    with refused("Only IT staff can change a ticket's priority."):
        ticket_change_priority(ticket=ticket, actor=nurse_medsurg, priority=1, reason="urgent!")
    with refused("Priority must be P1 to P5."):
        ticket_change_priority(ticket=ticket, actor=tech, priority=0, reason="x")
    with refused(f"{ticket.number} is already P4."):
        ticket_change_priority(ticket=ticket, actor=tech, priority=4, reason="x")
    assert not ticket.events.exists()


@pytest.mark.django_db
def test_internal_note_by_a_nurse_is_refused(nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    with refused("Only IT staff can write internal notes."):
        ticket_comment(ticket=ticket, author=nurse_medsurg, text="psst", internal=True)
    assert not ticket.events.exists()


@pytest.mark.django_db
def test_internal_note_is_not_a_first_response(tech, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    note = ticket_comment(ticket=ticket, author=tech, text="Vendor case 0187", internal=True)
    assert (note.kind, note.is_public) == (K.INTERNAL_NOTE, False)
    assert ticket.first_response_at is None
    reply = ticket_comment(ticket=ticket, author=tech, text="On my way")
    assert (reply.kind, reply.is_public) == (K.COMMENT, True)
    assert ticket.first_response_at is not None


@pytest.mark.django_db
def test_assigning_to_someone_outside_it_is_refused(tech, nurse_medsurg, outsider):
    ticket = TicketFactory(requester=nurse_medsurg)
    with refused(f"{outsider.get_full_name()} is not in IT and cannot take tickets."):
        ticket_assign(ticket=ticket, actor=tech, assignee=outsider)
    with refused("Only IT staff can reassign tickets."):
        ticket_assign(ticket=ticket, actor=nurse_medsurg, assignee=tech)
    unchanged = Ticket.objects.get(pk=ticket.pk)
    assert (unchanged.assignee, unchanged.status) == (None, S.NEW)
    assert not ticket.events.exists()


@pytest.mark.django_db
def test_assign_to_a_technician_and_move_between_teams(tech, manager, nurse_medsurg):
    from departments.models import Team

    ticket = TicketFactory(requester=nurse_medsurg)
    ticket_assign(ticket=ticket, actor=manager, assignee=tech)
    assert (ticket.assignee, ticket.status) == (tech, S.ASSIGNED)
    network = Team.objects.get(slug="network")
    ticket_assign(ticket=ticket, actor=manager, team=network)
    # Moved to another team without naming a person: it waits there unassigned.
    assert (ticket.team, ticket.assignee) == (network, None)
    assert ticket.events.filter(kind=K.ASSIGNMENT).count() == 2
    with refused("That is who has it already."):
        ticket_assign(ticket=ticket, actor=manager, team=network)
    with refused("Choose a person or a team."):
        ticket_assign(ticket=ticket, actor=manager)


# Resolve and link --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Choose how it was resolved."),
        ("magic", "Choose how it was resolved."),
        ("duplicate", "Link the ticket as a duplicate instead; that resolves it."),
    ],
)
def test_resolve_needs_a_code(tech, nurse_medsurg, code, message):
    ticket = TicketFactory(requester=nurse_medsurg, status=S.IN_PROGRESS)
    with refused(message):
        ticket_resolve(ticket=ticket, actor=tech, code=code)
    unchanged = Ticket.objects.get(pk=ticket.pk)
    assert (unchanged.status, unchanged.resolution_code, unchanged.resolved_at) == (
        S.IN_PROGRESS,
        "",
        None,
    )


@pytest.mark.django_db
def test_resolve_with_a_code(tech, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg, status=S.IN_PROGRESS)
    ticket_resolve(ticket=ticket, actor=tech, code="hardware_replaced", note="New scanner")
    assert ticket.status == S.RESOLVED
    assert ticket.resolution_code == "hardware_replaced"
    assert ticket.resolved_at is not None
    assert ticket.first_response_at is not None  # "fixed" is a response too
    event = ticket.events.get(kind=K.STATUS)
    assert (event.new_value, event.text, event.is_public) == (S.RESOLVED, "New scanner", True)


@pytest.mark.django_db
def test_link_as_duplicate_resolves_it_and_points_at_the_other(tech, nurse_medsurg, outsider):
    original = TicketFactory(requester=outsider, title="Epic frozen on all triage PCs")
    copy = TicketFactory(requester=nurse_medsurg, title="Epic frozen in triage")
    ticket_link(ticket=copy, other=original, actor=tech, duplicate=True)
    assert copy.status == S.RESOLVED
    assert copy.resolution_code == Ticket.ResolutionCode.DUPLICATE
    assert copy.duplicate_of == original
    told = copy.events.get(kind=K.STATUS)
    assert told.is_public
    assert told.text == f"Duplicate of {original.number}: follow that ticket for updates."
    # The original stays open; IT sees why on its timeline, its requester does not.
    original.refresh_from_db()
    assert original.status == S.NEW
    note = original.events.get()
    assert not note.is_public
    assert note.text == f"{copy.number} was closed as a duplicate of this one."
    # ... and the original cannot become a duplicate of its own duplicate.
    with refused(f"{copy.number} is already a duplicate of this ticket."):
        ticket_link(ticket=original, other=copy, actor=tech, duplicate=True)


@pytest.mark.django_db
def test_link_as_related_keeps_both_open(tech, nurse_medsurg, outsider):
    one = TicketFactory(requester=outsider)
    two = TicketFactory(requester=nurse_medsurg)
    ticket_link(ticket=one, other=two, actor=tech, duplicate=False)
    assert list(one.related.all()) == [two]
    assert list(two.related.all()) == [one]
    for ticket, other in ((one, two), (two, one)):
        ticket.refresh_from_db()
        assert ticket.status == S.NEW
        note = ticket.events.get()
        assert (note.kind, note.is_public) == (K.INTERNAL_NOTE, False)
        assert note.text == f"Linked as related to {other.number}."


@pytest.mark.django_db
@pytest.mark.parametrize("duplicate", [True, False])
def test_linking_a_ticket_to_itself_is_refused(tech, nurse_medsurg, duplicate):
    ticket = TicketFactory(requester=nurse_medsurg)
    with refused("A ticket cannot be linked to itself."):
        ticket_link(ticket=ticket, other=ticket, actor=tech, duplicate=duplicate)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.duplicate_of) == (S.NEW, None)
    assert not ticket.events.exists()


@pytest.mark.django_db
def test_nurse_cannot_link(nurse_medsurg):
    one, two = TicketFactory.create_batch(2, requester=nurse_medsurg)
    with refused("Only IT staff can link tickets."):
        ticket_link(ticket=one, other=two, actor=nurse_medsurg, duplicate=True)
    assert Ticket.objects.filter(status=S.NEW).count() == 2


# The read audit ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_record_view_audits_everyone_off_the_timeline(tech, manager, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    record_view(ticket=ticket, user=nurse_medsurg)
    record_view(ticket=ticket, user=tech)
    record_view(ticket=ticket, user=manager, via="api")
    assert not ticket.events.exists()
    viewed = AuditEntry.objects.filter(ticket_id=ticket.pk)
    assert [(e.kind, e.actor, e.detail) for e in viewed] == [
        (AuditEntry.Kind.TICKET_VIEWED, nurse_medsurg, {"via": "page"}),
        (AuditEntry.Kind.TICKET_VIEWED, tech, {"via": "page"}),
        (AuditEntry.Kind.TICKET_VIEWED, manager, {"via": "api"}),
    ]
    # Reading is not a change: the queue's ETag, made from updated_at, does not move.
    assert Ticket.objects.get(pk=ticket.pk).updated_at == ticket.updated_at


@pytest.mark.django_db
def test_claiming_your_own_ticket_again_is_harmless(tech):
    """A double click on Claim: the second one finds the ticket already yours."""
    ticket = TicketFactory()
    ticket_claim(ticket=ticket, user=tech)
    again = ticket_claim(ticket=ticket, user=tech)
    assert again.assignee == tech
    assert ticket.events.filter(kind=TicketEvent.Kind.ASSIGNMENT).count() == 1
