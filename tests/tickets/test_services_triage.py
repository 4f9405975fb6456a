"""ticket_answer_questions: a ticket filed by e-mail gets its priority from the three answers,
given later on the web, exactly as the filing form would have given it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import UserFactory, file_by_email
from tickets.models import PageChain, Ticket, TicketEvent
from tickets.priority import Scope
from tickets.services import TicketError, ticket_answer_questions

pytestmark = pytest.mark.django_db

# A Tuesday morning in the hospital's time zone.
FILED = datetime(2026, 12, 1, 8, 0, tzinfo=ZoneInfo("America/Chicago"))


def by_email(requester, location="ED", **overrides):
    """A ticket as the mailbox files it, at FILED."""
    with time_machine.travel(FILED, tick=False):
        return file_by_email(requester, location=location, **overrides)


def answer(ticket, user, *, care_delayed, scope, workaround, at=FILED + timedelta(minutes=20)):
    return ticket_answer_questions(
        ticket=ticket,
        user=user,
        care_delayed=care_delayed,
        scope=scope,
        workaround=workaround,
        now=at,
    )


def test_ed_nurse_answering_care_stopped_makes_it_p1_escalated_and_pages(nurse_ed):
    ticket = by_email(nurse_ed)
    assert (ticket.priority, ticket.needs_triage) == (4, True)

    triage = answer(ticket, nurse_ed, care_delayed=True, scope=Scope.UNIT, workaround=False)

    ticket.refresh_from_db()
    assert triage.ticket == ticket
    assert not ticket.needs_triage
    assert (ticket.care_delayed, ticket.scope, ticket.workaround) == (True, Scope.UNIT, False)
    assert (ticket.urgency, ticket.impact) == ("high", "unit")
    assert (ticket.matrix_priority, ticket.priority, ticket.auto_escalated) == (2, 1, True)
    assert ticket.source == Ticket.Source.EMAIL
    chain = ticket.page_chains.get()
    assert triage.chain == chain
    assert (chain.reason, chain.status) == (PageChain.Reason.P1_FILED, PageChain.Status.ACTIVE)


def test_the_answers_and_the_escalation_are_on_the_public_timeline(nurse_ed):
    ticket = by_email(nurse_ed)

    answer(ticket, nurse_ed, care_delayed=True, scope=Scope.UNIT, workaround=False)

    answered = ticket.events.get(kind=TicketEvent.Kind.TRIAGED)
    assert (answered.actor, answered.is_public) == (nurse_ed, True)
    assert (answered.old_value, answered.new_value) == ("P4", "P2")
    assert answered.text == ("Patient care delayed: yes. Who is affected: my unit. Workaround: no.")
    escalated = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert escalated.is_public
    assert (escalated.old_value, escalated.new_value) == ("P2", "P1")
    assert "Emergency Department escalates automatically" in escalated.text


def test_a_p2_in_the_ed_with_care_delayed_pages_as_a_critical_area(nurse_ed):
    ticket = by_email(nurse_ed)

    triage = answer(ticket, nurse_ed, care_delayed=True, scope=Scope.ME, workaround=True)

    ticket.refresh_from_db()
    assert (ticket.matrix_priority, ticket.priority) == (4, 2)
    assert triage.chain is not None
    assert triage.chain.reason == PageChain.Reason.CRITICAL_AREA


def test_a_wristband_printer_with_a_workaround_in_the_ed_escalates_but_pages_nobody(nurse_ed):
    ticket = by_email(nurse_ed)

    triage = answer(ticket, nurse_ed, care_delayed=False, scope=Scope.UNIT, workaround=True)

    ticket.refresh_from_db()
    assert (ticket.matrix_priority, ticket.priority, ticket.auto_escalated) == (4, 2, True)
    assert triage.chain is None
    assert not ticket.page_chains.exists()


def test_outside_the_ed_and_the_or_the_matrix_alone_decides(nurse_medsurg):
    ticket = by_email(nurse_medsurg, "MEDSURG")

    triage = answer(ticket, nurse_medsurg, care_delayed=False, scope=Scope.ME, workaround=True)

    ticket.refresh_from_db()
    assert (ticket.matrix_priority, ticket.priority, ticket.auto_escalated) == (5, 5, False)
    assert triage.chain is None
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == [TicketEvent.Kind.FILED, TicketEvent.Kind.TRIAGED]


def test_the_sla_targets_follow_the_new_priority_from_the_filing_time(nurse_ed, tech):
    ticket = by_email(nurse_ed)
    p4_response_due = ticket.response_due_at
    assert p4_response_due > FILED + timedelta(hours=8)

    answer(ticket, tech, care_delayed=True, scope=Scope.SEVERAL, workaround=False)

    ticket.refresh_from_db()
    assert ticket.priority == 1
    # A P1's fifteen minutes run from when the e-mail was filed, on the 24x7 clock.
    assert ticket.response_due_at == FILED + timedelta(minutes=15)
    assert ticket.resolution_due_at == FILED + timedelta(hours=4)
    assert ticket.response_target_seconds == 15 * 60


def test_a_warning_not_yet_due_under_the_new_target_will_come_again(nurse_medsurg):
    ticket = by_email(nurse_medsurg, "MEDSURG")
    Ticket.objects.filter(pk=ticket.pk).update(resolution_warned_at=FILED + timedelta(minutes=5))

    answer(ticket, nurse_medsurg, care_delayed=False, scope=Scope.ME, workaround=True)

    ticket.refresh_from_db()
    assert ticket.priority == 5
    assert ticket.resolution_warned_at is None


def test_it_staff_may_answer_for_the_nurse(nurse_ed, tech):
    ticket = by_email(nurse_ed)

    answer(ticket, tech, care_delayed=False, scope=Scope.ME, workaround=True)

    ticket.refresh_from_db()
    assert not ticket.needs_triage
    assert ticket.events.get(kind=TicketEvent.Kind.TRIAGED).actor == tech


def test_someone_else_cannot_answer_and_nothing_changes(nurse_ed, reference_data):
    colleague = UserFactory(username="rn.colleague", role="requester", home="ED")
    ticket = by_email(nurse_ed)

    with pytest.raises(TicketError, match="Only the person who filed the ticket or IT"):
        answer(ticket, colleague, care_delayed=True, scope=Scope.SEVERAL, workaround=False)

    ticket.refresh_from_db()
    assert (ticket.priority, ticket.needs_triage) == (4, True)
    assert not ticket.events.filter(kind=TicketEvent.Kind.TRIAGED).exists()


def test_a_second_send_is_refused_with_the_priority_and_changes_nothing(nurse_ed):
    ticket = by_email(nurse_ed)
    answer(ticket, nurse_ed, care_delayed=True, scope=Scope.UNIT, workaround=False)
    before = Ticket.objects.values().get(pk=ticket.pk)

    with pytest.raises(TicketError, match=rf"{ticket.number} were already answered: it is P1"):
        answer(ticket, nurse_ed, care_delayed=False, scope=Scope.ME, workaround=True)

    assert Ticket.objects.values().get(pk=ticket.pk) == before
    assert ticket.events.filter(kind=TicketEvent.Kind.TRIAGED).count() == 1
    assert ticket.page_chains.count() == 1


def test_a_ticket_filed_with_its_answers_has_nothing_to_triage(nurse_ed):
    ticket = by_email(nurse_ed, care_delayed=False, scope=Scope.ME, workaround=True)

    with pytest.raises(TicketError, match="already answered: it is P2"):
        answer(ticket, nurse_ed, care_delayed=True, scope=Scope.SEVERAL, workaround=False)


def test_a_cancelled_ticket_is_not_triaged(nurse_ed):
    ticket = by_email(nurse_ed)
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.CANCELLED)

    with pytest.raises(TicketError, match="is cancelled: there is nothing left to decide"):
        answer(ticket, nurse_ed, care_delayed=True, scope=Scope.SEVERAL, workaround=False)

    ticket.refresh_from_db()
    assert (ticket.priority, ticket.needs_triage) == (4, True)
    assert not ticket.page_chains.exists()
