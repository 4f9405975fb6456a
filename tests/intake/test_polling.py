"""Reading the mailbox against a real dovecot: what each kind of e-mail becomes, and that nothing
is filed twice or lost."""

from __future__ import annotations

import pytest

from intake.models import InboundMessage
from intake.polling import poll
from tests.intake.messages import mail
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_mail_from_a_known_nurse_files_a_ticket_for_triage(mail_server, mailbox, nurse_ed):
    mail_server.deliver(mail(sender="Erin Nurse <NURSE.ED@Lakeside.Example>").as_bytes())

    result = poll(mailbox)

    ticket = Ticket.objects.get()
    assert ticket.requester == nurse_ed
    assert ticket.title == "Wristband printer in triage prints blank bands"
    assert "prints blank bands since 06:00" in ticket.description
    assert ticket.source == Ticket.Source.EMAIL
    assert ticket.needs_triage
    assert ticket.priority == 4
    assert ticket.department.code == "ED"
    assert ticket.category.slug == "requests"
    assert result.outcomes == {"filed": 1}
    assert mail_server.uids("INBOX") == []
    assert len(mail_server.uids("Processed")) == 1
    row = InboundMessage.objects.get()
    assert (row.outcome, row.ticket) == (InboundMessage.Outcome.FILED, ticket)
