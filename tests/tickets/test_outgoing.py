"""E-mails to people are kept in the database until they are sent: Redis losing the task, two
workers holding it, a mail relay that is down, or a worker killed mid-send never loses an
e-mail nor sends one twice. Real PostgreSQL, Redis, worker and SMTP server where the rule is
about them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from tests.concurrency import at_once
from tests.conftest import embedded_worker, need
from tests.database_clock import due_in, let_pass
from tests.factories import TicketFactory
from tests.tickets.test_notifications import closed_port
from tests.tickets.test_paging_reliability import (  # noqa: F401 (fixtures)
    _fresh_broker_pools,
    forget_queue,
    routed_tasks,
    wait_for,
    worker_queue,
)
from tickets import outgoing
from tickets.models import OutgoingEmail, Ticket, TicketEvent
from tickets.notifications import REPLY_NOTICE
from tickets.outgoing import Outcome, redeliver_stranded_emails, send_queued
from tickets.services import ticket_comment
from tickets.sweep import sla_sweep

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=CHICAGO)
REPLY = "A reply from IT"
E = OutgoingEmail.Status


@pytest.fixture
def ticket(nurse_medsurg, tech):
    return TicketFactory(requester=nurse_medsurg, assignee=tech, status=Ticket.Status.IN_PROGRESS)


def reply(ticket, tech, text="On my way with a spare toner.") -> OutgoingEmail:
    """IT replies; the e-mail to the requester is written with the reply."""
    ticket_comment(ticket=ticket, author=tech, text=text)
    return OutgoingEmail.objects.get(kind=REPLY_NOTICE)


def replies_received(smtp_server) -> list:
    return [mail for mail in smtp_server.mails if REPLY in mail.subject]


@pytest.mark.django_db
def test_the_e_mail_is_written_with_the_reply_and_goes_with_it(ticket, tech):
    def reply_then_fail() -> None:
        with transaction.atomic():
            ticket_comment(ticket=ticket, author=tech, text="On my way.")
            raise RuntimeError("the request failed after the reply")

    with pytest.raises(RuntimeError):
        reply_then_fail()
    assert not OutgoingEmail.objects.exists()

    email = reply(ticket, tech)
    assert (email.status, email.attempts) == (E.PENDING, 0)


@pytest.mark.django_db
def test_an_internal_note_writes_no_e_mail(ticket, tech):
    ticket_comment(ticket=ticket, author=tech, text="Toner is in the back room.", internal=True)
    assert not OutgoingEmail.objects.exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_e_mail_whose_task_redis_lost_is_sent_once_by_the_sweep(
    request, ticket, tech, nurse_medsurg, redis_broker, smtp_server
):
    # Tasks go to a Redis queue of this test's own (test_paging_reliability's fixtures).
    published = request.getfixturevalue("routed_tasks")
    queue = request.getfixturevalue("worker_queue")
    email = reply(ticket, tech)  # committed: its task is in Redis
    assert published.sent(outgoing.send_email) == [(email.pk,)]
    # Redis loses it (FLUSHALL, a restart without persistence): this test's queue only.
    forget_queue(redis_broker, queue)

    # Too soon: the task may still be on its way.
    let_pass(timedelta(seconds=30))
    assert sla_sweep().redelivered == 0
    let_pass(outgoing.REDELIVER_AFTER)
    assert sla_sweep().redelivered == 1
    assert published.sent(outgoing.send_emails) == [([email.pk],)]
    with embedded_worker(queues=[queue]):
        assert wait_for(lambda: published.outcomes(outgoing.send_emails) == [[Outcome.SENT]])
    # The next sweeps find nothing left to send.
    let_pass(timedelta(minutes=5))
    assert sla_sweep().redelivered == 0

    [received] = replies_received(smtp_server)
    assert received.recipients == [nurse_medsurg.email]
    assert f"replied on your ticket {ticket.number}" in received.text
    email.refresh_from_db()
    assert (email.status, email.attempts) == (E.SENT, 1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_e_mail_send_it_once(ticket, tech, smtp_server):
    need(connection.vendor == "postgresql", "PostgreSQL")
    # Written by hand: the reply's own task would go to the broker once committed.
    replies = [
        TicketEvent.objects.create(
            ticket=ticket,
            actor=tech,
            kind=TicketEvent.Kind.COMMENT,
            is_public=True,
            text=f"Update {n}.",
        )
        for n in range(5)
    ]
    emails = [OutgoingEmail.objects.create(kind=REPLY_NOTICE, about_id=r.pk) for r in replies]
    outcomes = []
    for email in emails:
        outcomes += at_once(partial(send_queued, email.pk), partial(send_queued, email.pk))

    assert sorted(outcomes) == sorted([Outcome.SENT, Outcome.SKIPPED] * len(emails))
    assert len(replies_received(smtp_server)) == len(emails)
    assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {(E.SENT, 1)}


@pytest.mark.django_db
def test_a_relay_that_is_down_is_tried_again_later_until_it_answers(
    ticket, tech, nurse_medsurg, smtp_server, settings, time_machine, caplog,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    time_machine.move_to(NOW, tick=False)
    email = reply(ticket, tech)
    settings.EMAIL_PORT = closed_port()

    assert send_queued(email.pk) == Outcome.RETRY
    email.refresh_from_db()
    assert (email.status, email.attempts) == (E.PENDING, 1)
    assert timedelta(seconds=50) < due_in(email) <= timedelta(minutes=1)
    assert email.last_error == "ConnectionRefusedError"
    assert f"e-mail {email.pk} about {email.about_id}: attempt 1 failed" in caplog.text
    # Neither the address nor what the ticket says reaches the log.
    assert nurse_medsurg.email not in caplog.text
    assert ticket.title not in caplog.text

    let_pass(timedelta(seconds=30))
    assert redeliver_stranded_emails() == 0  # not due yet
    let_pass(timedelta(seconds=31))
    assert send_queued(email.pk) == Outcome.RETRY  # still down: waits longer
    email.refresh_from_db()
    assert email.attempts == 2
    assert timedelta(seconds=110) < due_in(email) <= timedelta(minutes=2)

    settings.EMAIL_PORT = smtp_server.port  # the relay is back
    settings.CELERY_TASK_ALWAYS_EAGER = True
    let_pass(timedelta(seconds=121))
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    assert [mail.recipients for mail in replies_received(smtp_server)] == [[nurse_medsurg.email]]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (E.SENT, 3)


@pytest.mark.django_db
def test_an_e_mail_is_given_up_after_its_last_attempt(ticket, tech, settings, time_machine):
    time_machine.move_to(NOW, tick=False)
    email = reply(ticket, tech)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    outcomes = []
    for _ in range(outgoing.MAX_ATTEMPTS):
        outcomes.append(send_queued(email.pk))
        let_pass(due_in(email))
    assert outcomes == [Outcome.RETRY] * (outgoing.MAX_ATTEMPTS - 1) + [Outcome.FAILED]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (E.FAILED, outgoing.MAX_ATTEMPTS)
    let_pass(timedelta(days=1))
    assert redeliver_stranded_emails() == 0


@pytest.mark.django_db
def test_an_address_the_relay_refuses_is_not_tried_again(ticket, tech, nurse_medsurg, smtp_server):
    smtp_server.refuse(nurse_medsurg.email)
    email = reply(ticket, tech)
    assert send_queued(email.pk) == Outcome.FAILED
    email.refresh_from_db()
    assert (email.status, email.attempts) == (E.FAILED, 1)
    let_pass(timedelta(hours=1))
    assert redeliver_stranded_emails() == 0


@pytest.mark.django_db
def test_an_e_mail_whose_worker_died_mid_send_goes_again(
    ticket, tech, smtp_server, time_machine, settings, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    email = reply(ticket, tech)
    # A worker claimed it and was killed before it could say how the send went.
    OutgoingEmail.objects.filter(pk=email.pk).update(status=E.SENDING, claimed_at=Now(), attempts=1)
    settings.CELERY_TASK_ALWAYS_EAGER = True

    let_pass(timedelta(minutes=4))
    assert redeliver_stranded_emails() == 0  # a slow relay may still be answering it
    # A sweep whose own clock runs ahead (a host's clock jumped) judges the claim on the
    # database's clock all the same.
    assert sla_sweep(now=timezone.now() + timedelta(hours=2)).redelivered == 0
    let_pass(timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert redeliver_stranded_emails() == 1
    assert len(replies_received(smtp_server)) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (E.SENT, 2)


@pytest.mark.django_db
def test_an_e_mail_with_nobody_to_tell_is_skipped(ticket, tech, nurse_medsurg, smtp_server):
    email = reply(ticket, tech)
    nurse_medsurg.email = ""
    nurse_medsurg.save(update_fields=["email"])
    assert send_queued(email.pk) == Outcome.SKIPPED
    assert smtp_server.mails == []
    email.refresh_from_db()
    assert email.status == E.SKIPPED


@pytest.mark.django_db
def test_an_e_mail_of_an_unknown_kind_fails_without_a_retry(caplog):
    caplog.set_level(logging.ERROR)
    email = OutgoingEmail.objects.create(kind="retired.kind", about_id=1)
    assert send_queued(email.pk) == Outcome.FAILED
    email.refresh_from_db()
    assert (email.status, email.last_error) == (E.FAILED, "LookupError")


def test_a_kind_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="two kinds"):
        outgoing.email_kind(REPLY_NOTICE)(lambda about_id: [])
    with pytest.raises(ValueError, match="no e-mail of kind"):
        outgoing.queue_email(kind="no.such.kind", about_id=1)
