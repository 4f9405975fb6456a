"""Declaring, "me too", updates and resolution: who is told, how often, and what changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction

from incidents.models import Affected, Incident, IncidentTicket
from incidents.notifications import COMMANDER_REMINDER
from incidents.services import (
    IncidentError,
    declare,
    detect,
    join,
    overdue_updates,
    post_update,
    resolve,
)
from tests.database_clock import let_pass
from tests.incidents.conftest import NOW, cluster, ehr
from tests.tickets.test_notifications import send_waiting
from tickets.models import OutgoingEmail, PageChain, Ticket, TicketEvent
from tickets.outgoing import Outcome, send_emails
from tickets.sweep import sla_sweep

pytestmark = pytest.mark.django_db


def declared(tech, **overrides):
    values = {
        "by": tech,
        "service": "EHR (Epic)",
        "message": "Epic is down hospital-wide.",
        "workaround": "Use downtime forms.",
        "category": ehr(),
        "next_update_at": NOW + timedelta(minutes=30),
        "now": NOW,
    }
    return declare(**(values | overrides))


def test_declaring_from_an_alert_links_its_tickets_and_pages_only_the_commander(
    reference_data, tech
):
    tickets = cluster(["ED", "ED", "OR", "OR", "ICU"])
    [alert] = detect(now=NOW)
    incident = declared(tech, alert=alert)
    assert set(
        IncidentTicket.objects.filter(incident=incident).values_list("ticket_id", flat=True)
    ) == {t.pk for t in tickets}
    assert incident.detected_at == NOW
    assert incident.started_at == tickets[0].created_at
    alert.refresh_from_db()
    assert alert.status == alert.Status.DECLARED
    # The alert's page for the cluster, and the commander's: no ticket is paged again.
    assert PageChain.objects.filter(ticket__isnull=False).count() == 1
    assert PageChain.objects.get(ticket__isnull=True) == incident.commander_chain
    linked = TicketEvent.objects.filter(
        text__startswith=f"Linked to major incident {incident.number}"
    )
    assert linked.count() == 5
    assert all(event.is_public for event in linked)


def test_only_it_declares(reference_data, nurse_ed):
    with pytest.raises(IncidentError):
        declared(nurse_ed)


def test_me_too_creates_no_ticket_and_no_page_and_counts_her_once(reference_data, tech, nurse_ed):
    incident = declared(tech)
    tickets, chains = Ticket.objects.count(), PageChain.objects.count()
    _, created = join(incident=incident, user=nurse_ed, callback="x4411", now=NOW)
    _, again = join(incident=incident, user=nurse_ed, callback="x9999", now=NOW)
    assert (created, again) == (True, False)
    assert Affected.objects.filter(incident=incident).count() == 1
    assert Affected.objects.get(incident=incident).callback == "x4411"
    assert (Ticket.objects.count(), PageChain.objects.count()) == (tickets, chains)


def test_an_update_reaches_everyone_affected_once(
    reference_data, tech, nurse_ed, nurse_or, smtp_server
):
    incident = declared(tech)
    join(incident=incident, user=nurse_ed, now=NOW)
    join(incident=incident, user=nurse_or, now=NOW)
    post_update(
        incident=incident, by=tech, text="Vendor is restarting the database.",
        next_update_at=NOW + timedelta(hours=1), now=NOW + timedelta(minutes=20),
    )  # fmt: skip
    assert send_waiting() == [Outcome.SENT] * 2
    assert set(send_emails(list(OutgoingEmail.objects.values_list("pk", flat=True)))) == {
        Outcome.SKIPPED  # their task again
    }
    assert sorted(m.recipients for m in smtp_server.mails) == sorted(
        [[nurse_ed.email], [nurse_or.email]]
    )
    assert "Vendor is restarting the database." in smtp_server.mails[0].text
    incident.refresh_from_db()
    assert incident.last_update_at == NOW + timedelta(minutes=20)


def test_resolving_resolves_every_linked_ticket_and_tells_each_person_once(
    reference_data, tech, nurse_ed, smtp_server
):
    tickets = cluster(["ED", "ED", "OR", "OR", "ICU"])
    [alert] = detect(now=NOW)
    incident = declared(tech, alert=alert)
    join(incident=incident, user=nurse_ed, now=NOW)
    # A requester of a linked ticket who also said "me too" is one person.
    join(incident=incident, user=tickets[0].requester, now=NOW)
    resolve(
        incident=incident,
        by=tech,
        resolution="The EHR is back; re-enter the downtime orders.",
        now=NOW + timedelta(hours=1),
    )
    assert incident.status == Incident.Status.RESOLVED
    assert set(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("status", flat=True)
    ) == {Ticket.Status.RESOLVED}
    assert send_waiting() == [Outcome.SENT] * 6
    assert set(send_emails(list(OutgoingEmail.objects.values_list("pk", flat=True)))) == {
        Outcome.SKIPPED  # their task again
    }
    addresses = sorted(address for mail in smtp_server.mails for address in mail.recipients)
    assert len(addresses) == len(set(addresses)) == 6
    assert all("re-enter the downtime orders" in mail.text for mail in smtp_server.mails)
    # The tickets' text never goes in the mail.
    assert not any(t.title in mail.text for t in tickets for mail in smtp_server.mails)
    with pytest.raises(IncidentError):
        resolve(incident=incident, by=tech, resolution="again", now=NOW + timedelta(hours=2))


def test_a_missed_update_reminds_the_commander_once_per_promised_time(reference_data, tech):
    incident = declared(tech)
    assert overdue_updates(now=NOW + timedelta(minutes=29)) == []
    assert overdue_updates(now=NOW + timedelta(minutes=31)) == [incident.pk]
    assert overdue_updates(now=NOW + timedelta(minutes=40)) == []
    post_update(
        incident=incident, by=tech, text="Still down.", next_update_at=NOW + timedelta(hours=1),
        now=NOW + timedelta(minutes=45),
    )  # fmt: skip
    assert overdue_updates(now=NOW + timedelta(minutes=61)) == [incident.pk]


def test_the_commanders_reminder_waits_in_the_outbox_until_a_sweep_sends_it(
    reference_data, tech, smtp_server, settings, django_capture_on_commit_callbacks
):
    """Its task lost with Redis, the reminder still goes, once, from the SLA sweep."""
    incident = declared(tech)
    due = NOW + timedelta(minutes=31)
    with transaction.atomic():
        assert overdue_updates(now=due) == [incident.pk]
    [email] = OutgoingEmail.objects.filter(kind=COMMANDER_REMINDER, about_id=incident.pk)
    assert email.status == OutgoingEmail.Status.PENDING

    settings.CELERY_TASK_ALWAYS_EAGER = True
    let_pass(timedelta(minutes=2))
    with time_machine.travel(due + timedelta(minutes=2), tick=False):
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                sla_sweep()
    [received] = smtp_server.mails
    assert received.recipients == [tech.email]
    assert received.subject == f"Update due: {incident.number} EHR (Epic)"
    assert "was promised for" in received.text
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 1)
