"""Filing notices and SLA alerts are kept in the e-mail outbox: written with the filing or the
sweep's claim, sent once however often their task runs, sent by the sweep when a worker died
after claiming one, tried again later when the relay is down. Tasks published under their old
names before the outbox still send, once. A real SMTP server receives them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models.functions import Now

from tests.database_clock import let_pass
from tests.factories import TicketFactory
from tests.tickets.test_notifications import closed_port, file, send_waiting
from tickets import tasks
from tickets.models import OutgoingEmail, SlaAlert, Ticket
from tickets.notifications import FILING_NOTICE, RECEIPT, SLA_ALERT
from tickets.outgoing import REDELIVER_SENDING_AFTER, Outcome, send_emails
from tickets.sweep import sla_sweep

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=CHICAGO)
E = OutgoingEmail.Status


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def eager(settings):
    """Each task runs as the worker would, once its transaction commits."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


def filed(nurse_medsurg) -> Ticket:
    return file(nurse_medsurg, by_email=True)


def breached(nurse_medsurg) -> Ticket:
    """A ticket nobody answered, breached by the sweep's claim."""
    ticket = TicketFactory(
        requester=nurse_medsurg,
        created_at=NOW - timedelta(days=30),
        care_delayed=True,
        workaround=False,
    )
    sla_sweep(now=NOW)
    return ticket


CHANGES: dict[str, tuple[Callable[..., Ticket], set[str]]] = {
    "filing": (filed, {FILING_NOTICE, RECEIPT}),
    "sla alert": (breached, {SLA_ALERT}),
}


def sweep_after(wait: timedelta, callbacks) -> None:
    """A sweep once ``wait`` has passed (by the database's clock, which the outbox keeps)."""
    let_pass(wait)
    with callbacks(execute=True):
        sla_sweep()


def rolled_back(change: Callable[[], object]) -> None:
    """The change, then the request fails before it commits."""

    def change_then_fail() -> None:
        with transaction.atomic():
            change()
            raise RuntimeError("the request failed after the change")

    with pytest.raises(RuntimeError):
        change_then_fail()


def ids() -> list[int]:
    return list(OutgoingEmail.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("change", CHANGES)
def test_the_e_mails_are_written_with_the_change_or_not_at_all(change, nurse_medsurg):
    make, kinds = CHANGES[change]
    rolled_back(lambda: make(nurse_medsurg))
    assert not OutgoingEmail.objects.exists()

    make(nurse_medsurg)
    assert set(OutgoingEmail.objects.values_list("kind", flat=True)) == kinds
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {E.PENDING}


@pytest.mark.parametrize("change", CHANGES)
def test_a_task_that_runs_twice_sends_once(change, nurse_medsurg, smtp_server):
    make, _ = CHANGES[change]
    make(nurse_medsurg)
    emails = ids()
    assert set(send_emails(emails)) == {Outcome.SENT}
    assert set(send_emails(emails)) == {Outcome.SKIPPED}
    assert len(smtp_server.mails) == len(emails)


@pytest.mark.parametrize("change", CHANGES)
def test_a_worker_killed_after_its_claim_leaves_the_e_mail_to_the_sweep(
    change, nurse_medsurg, smtp_server, eager, django_capture_on_commit_callbacks
):
    make, _ = CHANGES[change]
    make(nurse_medsurg)
    # The worker claimed them (pending -> sending) and died before its relay said anything.
    OutgoingEmail.objects.update(status=E.SENDING, claimed_at=Now(), attempts=1)

    sweep_after(REDELIVER_SENDING_AFTER - timedelta(seconds=1), django_capture_on_commit_callbacks)
    assert smtp_server.mails == []  # it may still be sending
    sweep_after(timedelta(minutes=1), django_capture_on_commit_callbacks)
    sweep_after(timedelta(minutes=8), django_capture_on_commit_callbacks)

    assert len(smtp_server.mails) == OutgoingEmail.objects.count()
    assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {(E.SENT, 2)}


@pytest.mark.parametrize("change", CHANGES)
def test_a_relay_that_is_down_is_tried_again_later(
    change, nurse_medsurg, smtp_server, settings, eager, django_capture_on_commit_callbacks
):
    make, _ = CHANGES[change]
    make(nurse_medsurg)
    settings.EMAIL_PORT = closed_port()
    assert set(send_waiting()) == {Outcome.RETRY}
    settings.EMAIL_PORT = smtp_server.port

    sweep_after(timedelta(seconds=30), django_capture_on_commit_callbacks)  # not yet due
    assert smtp_server.mails == []
    sweep_after(timedelta(seconds=31), django_capture_on_commit_callbacks)
    sweep_after(timedelta(minutes=4), django_capture_on_commit_callbacks)

    assert len(smtp_server.mails) == OutgoingEmail.objects.count()
    assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {(E.SENT, 2)}


def test_a_filing_notice_task_queued_before_the_outbox_sends_once(
    nurse_medsurg, smtp_server, eager, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(requester=nurse_medsurg)  # filed before: no e-mail in the outbox
    notified = TicketFactory(requester=nurse_medsurg, filing_notified_at=NOW)
    for _ in range(2):  # queued twice (the old sweep published it again)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.notify_ticket_filed.delay(ticket.pk)
            tasks.notify_tickets_filed.delay([ticket.pk, notified.pk])

    assert sorted(mail.recipients[0] for mail in smtp_server.mails) == sorted(
        [ticket.team.email, nurse_medsurg.email]
    )
    assert all(f"[{ticket.number}]" in mail.subject for mail in smtp_server.mails)


def test_an_sla_alert_task_queued_before_the_outbox_sends_once(
    nurse_medsurg, tech, smtp_server, eager, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(requester=nurse_medsurg, assignee=tech)
    alert = SlaAlert.objects.create(ticket=ticket, clock="response", kind="breach")
    sent_then = SlaAlert.objects.create(ticket=ticket, clock="response", kind="warning")
    SlaAlert.objects.filter(pk=sent_then.pk).update(sent_at=NOW)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.deliver_sla_alert.delay(alert.pk)
            tasks.deliver_sla_alerts.delay([alert.pk, sent_then.pk])

    [received] = smtp_server.mails
    assert received.recipients == [tech.email]
    assert received.subject.startswith(f"[{ticket.number}] SLA breached: ")
