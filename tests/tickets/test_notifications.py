"""The e-mails about a ticket, as a mailbox receives them from a real SMTP server: one
conversation per ticket in the nurse's mail client, a reply address of her own that leads back
to the ticket, marked as automatic so no out-of-office answer loops, receipts for mail-filed
tickets limited per sender, and nothing a nurse typed in any byte."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from departments.models import Location
from tests.concurrency import at_once
from tests.conftest import need
from tests.factories import TicketFactory, UserFactory
from tickets.mail import read_reply_token, reply_address, thread_id
from tickets.models import Category, OutgoingEmail, Ticket
from tickets.notifications import EMAIL_RECEIPTS_PER_HOUR, FILING_NOTICE, RECEIPT
from tickets.outgoing import Outcome, send_queued
from tickets.priority import Scope
from tickets.services import ticket_claim, ticket_comment, ticket_file, ticket_resolve
from tickets.sweep import sla_sweep

pytestmark = pytest.mark.django_db

MAILBOX = "helpdesk@lakeside.example"
CHICAGO = ZoneInfo("America/Chicago")
NINE = datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO)
# What a nurse may type that must never leave the building.
NAME = "Johnathan Smithers"
MRN = "MRN 00123456"
DESCRIPTION = "bed 4, the scanner beeps twice and shows nothing"


@pytest.fixture(autouse=True)
def eager(settings):
    """Notices go out as the worker sends them, right after the change is committed."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.HELPDESK = {**settings.HELPDESK, "REPLY_ADDRESS": MAILBOX}


def file(requester, *, by_email=False, title="Barcode scanner not reading wristbands", **fields):
    answers = (
        {"care_delayed": None, "scope": None, "workaround": None}
        if by_email
        else {"care_delayed": True, "scope": Scope.UNIT, "workaround": True}
    )
    return ticket_file(
        requester=requester,
        location=Location.objects.get(code="MEDSURG"),
        category=Category.objects.get(slug="printers"),
        title=title,
        callback="x4410",
        source=Ticket.Source.EMAIL if by_email else Ticket.Source.WEB,
        **answers,
        **fields,
    ).ticket


def send_waiting() -> list[Outcome]:
    """The worker's turn: each e-mail waiting in the outbox is sent."""
    waiting = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).order_by("pk")
    return [send_queued(pk) for pk in waiting.values_list("pk", flat=True)]


def receipt_written(ticket) -> bool:
    return OutgoingEmail.objects.filter(kind=RECEIPT, about_id=ticket.pk).exists()


def committed(callbacks, action):
    with callbacks(execute=True):
        return action()


def closed_port() -> int:
    """A port of 127.0.0.1 where nothing listens: the mail relay is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_filing_reply_and_resolve_are_one_conversation(
    smtp_server, nurse_medsurg, tech, django_capture_on_commit_callbacks
):
    ticket = committed(django_capture_on_commit_callbacks, lambda: file(nurse_medsurg))
    committed(
        django_capture_on_commit_callbacks,
        lambda: ticket_comment(ticket=ticket, author=tech, text="On my way with a spare."),
    )
    committed(
        django_capture_on_commit_callbacks,
        lambda: ticket_resolve(ticket=ticket, actor=tech, code="hardware_replaced"),
    )

    received = smtp_server.mails
    assert len(received) == 4  # the team's notice; her receipt, the reply and resolved notices
    assert {mail.message["In-Reply-To"] for mail in received} == {thread_id(ticket.pk)}
    assert {mail.message["References"] for mail in received} == {thread_id(ticket.pk)}
    message_ids = [mail.message["Message-ID"] for mail in received]
    assert len(set(message_ids)) == 4
    assert thread_id(ticket.pk) not in message_ids
    assert all(mid.endswith("@lakeside.example>") for mid in message_ids)
    for mail in received:
        assert mail.subject.count(f"[{ticket.number}]") == 1
        assert mail.subject.startswith(f"[{ticket.number}] ")
        assert len(mail.recipients) == 1
        assert mail.message["Auto-Submitted"] == "auto-generated"
        assert mail.message["X-Auto-Response-Suppress"] == "All"


def test_the_nurses_reply_address_leads_back_to_her_ticket(
    smtp_server, nurse_medsurg, django_capture_on_commit_callbacks
):
    ticket = committed(django_capture_on_commit_callbacks, lambda: file(nurse_medsurg))
    [receipt] = smtp_server.to(nurse_medsurg.email)
    assert receipt.message["Reply-To"] == reply_address(ticket.pk, nurse_medsurg.pk)
    target = read_reply_token(str(receipt.message["Reply-To"]))
    assert (target.ticket_id, target.user_id) == (ticket.pk, nurse_medsurg.pk)
    assert read_reply_token(str(receipt.message["X-Helpdesk-Reply-Token"])) == target


def test_the_teams_mailbox_answers_to_the_plain_help_desk_address(
    smtp_server, nurse_medsurg, django_capture_on_commit_callbacks
):
    ticket = committed(django_capture_on_commit_callbacks, lambda: file(nurse_medsurg))
    [notice] = smtp_server.to(ticket.team.email)
    assert notice.message["Reply-To"] == MAILBOX
    assert notice.message["X-Helpdesk-Reply-Token"] is None
    assert read_reply_token(notice.data.decode()) is None  # nobody's token, in any header
    assert notice.message["References"] == thread_id(ticket.pk)


def test_an_sla_alert_answers_to_the_technicians_own_address(smtp_server, nurse_medsurg, tech):
    """An SLA alert goes to the technician who has the ticket, with his own reply address."""
    ticket = TicketFactory(
        requester=nurse_medsurg, created_at=NINE, care_delayed=True, workaround=False
    )
    ticket_claim(ticket=ticket, user=tech, now=NINE + timedelta(minutes=1))
    sla_sweep(now=NINE + timedelta(days=30))
    assert set(send_waiting()) == {Outcome.SENT}

    received = smtp_server.mails
    assert received
    for alert_mail in received:
        assert alert_mail.recipients == [tech.email]
        assert read_reply_token(str(alert_mail.message["Reply-To"])).user_id == tech.pk
        assert alert_mail.message["In-Reply-To"] == thread_id(ticket.pk)
        assert alert_mail.message["Auto-Submitted"] == "auto-generated"


def test_a_receipt_for_mail_we_received_is_an_auto_reply(
    smtp_server, nurse_medsurg, django_capture_on_commit_callbacks
):
    ticket = committed(
        django_capture_on_commit_callbacks, lambda: file(nurse_medsurg, by_email=True)
    )
    [receipt] = smtp_server.to(nurse_medsurg.email)
    assert receipt.message["Auto-Submitted"] == "auto-replied"
    assert receipt.message["X-Auto-Response-Suppress"] == "All"
    [notice] = smtp_server.to(ticket.team.email)
    assert notice.message["Auto-Submitted"] == "auto-generated"


def test_receipts_for_mail_filed_tickets_are_limited_per_sender_and_hour(
    smtp_server, nurse_medsurg, outsider, django_capture_on_commit_callbacks
):
    def file_at(when, requester, **options):
        with time_machine.travel(when, tick=False):
            return committed(django_capture_on_commit_callbacks, lambda: file(requester, **options))

    storm = [
        file_at(NINE + timedelta(minutes=minute), nurse_medsurg, by_email=True)
        for minute in range(EMAIL_RECEIPTS_PER_HOUR + 1)
    ]
    assert len(smtp_server.to(nurse_medsurg.email)) == EMAIL_RECEIPTS_PER_HOUR
    sixth = Ticket.objects.get(pk=storm[-1].pk)
    assert not receipt_written(sixth)
    # The team still hears of every ticket.
    assert len(smtp_server.to(sixth.team.email)) == EMAIL_RECEIPTS_PER_HOUR + 1

    # The form is not limited, nor is another sender.
    file_at(NINE + timedelta(minutes=10), nurse_medsurg)
    file_at(NINE + timedelta(minutes=10), outsider, by_email=True)
    assert len(smtp_server.to(nurse_medsurg.email)) == EMAIL_RECEIPTS_PER_HOUR + 1
    assert len(smtp_server.to(outsider.email)) == 1

    # An hour after the last receipt, mail from her is answered again.
    later = file_at(NINE + timedelta(hours=1, minutes=5), nurse_medsurg, by_email=True)
    receipts = smtp_server.to(nurse_medsurg.email)
    assert len(receipts) == EMAIL_RECEIPTS_PER_HOUR + 2
    assert receipts[-1].subject == f"[{later.number}] We have your ticket"


def test_the_limit_counts_the_address_whatever_its_case(
    smtp_server, nurse_medsurg, django_capture_on_commit_callbacks
):
    twin = UserFactory(
        username="nurse.medsurg.2",
        email=nurse_medsurg.email.upper(),
        role="requester",
        home="MEDSURG",
    )
    with time_machine.travel(NINE, tick=False):
        for requester in [nurse_medsurg] * EMAIL_RECEIPTS_PER_HOUR + [twin]:
            committed(
                django_capture_on_commit_callbacks, lambda r=requester: file(r, by_email=True)
            )
    received = smtp_server.to(nurse_medsurg.email) + smtp_server.to(twin.email)
    assert len(received) == EMAIL_RECEIPTS_PER_HOUR


def a_session_waits_for_a_lock() -> bool:
    """Whether another connection to this database comes to wait for a row lock (30 s at most)."""
    deadline = time.monotonic() + 30
    pause = threading.Event()
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # Inside a transaction PostgreSQL keeps showing its first look at the activity.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return True
        pause.wait(0.05)
    return False


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_filings_cannot_both_take_the_last_receipt_of_the_hour(smtp_server, nurse_medsurg):
    need(connection.vendor == "postgresql", "PostgreSQL")
    for _ in range(EMAIL_RECEIPTS_PER_HOUR - 1):
        file(nurse_medsurg, by_email=True)
    filed_by_the_other_worker: list[Ticket] = []

    def other_worker() -> None:
        try:
            filed_by_the_other_worker.append(file(nurse_medsurg, by_email=True))
        finally:
            connection.close()

    worker = threading.Thread(target=other_worker)
    with transaction.atomic():
        first = file(nurse_medsurg, by_email=True)  # the hour's last receipt, not yet committed
        worker.start()
        assert a_session_waits_for_a_lock(), "the other worker did not wait for the decision"
    worker.join(timeout=60)

    [second] = filed_by_the_other_worker
    assert receipt_written(first)
    assert not receipt_written(second)
    assert OutgoingEmail.objects.filter(kind=FILING_NOTICE, about_id=second.pk).exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_mail_filed_at_once_from_one_address_gets_no_more_receipts_than_the_limit(
    smtp_server, nurse_medsurg
):
    need(connection.vendor == "postgresql", "PostgreSQL")
    filed = at_once(*[lambda: file(nurse_medsurg, by_email=True)] * (EMAIL_RECEIPTS_PER_HOUR + 2))
    assert sum(receipt_written(ticket) for ticket in filed) == EMAIL_RECEIPTS_PER_HOUR
    assert OutgoingEmail.objects.filter(kind=FILING_NOTICE).count() == len(filed)


def test_mail_that_could_not_be_sent_is_sent_once_later(
    smtp_server, settings, nurse_medsurg, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with django_capture_on_commit_callbacks(execute=False):
        ticket = file(nurse_medsurg, by_email=True)
    settings.EMAIL_PORT = closed_port()
    assert send_waiting() == [Outcome.RETRY, Outcome.RETRY]
    assert smtp_server.mails == []

    settings.EMAIL_PORT = smtp_server.port
    OutgoingEmail.objects.update(attempt_at=timezone.now())  # the sweep's turn
    assert send_waiting() == [Outcome.SENT, Outcome.SENT]
    assert send_waiting() == []
    assert len(smtp_server.mails) == 2
    for sent in smtp_server.mails:
        assert sent.subject.count(f"[{ticket.number}]") == 1


def test_an_address_the_relay_refuses_does_not_send_the_teams_notice_again(
    smtp_server, nurse_medsurg, django_capture_on_commit_callbacks
):
    smtp_server.refuse(nurse_medsurg.email)
    with django_capture_on_commit_callbacks(execute=False):
        ticket = file(nurse_medsurg, by_email=True)
    assert send_waiting() == [Outcome.SENT, Outcome.FAILED]
    assert send_waiting() == []
    assert [sent.recipients for sent in smtp_server.mails] == [[ticket.team.email]]

    # The refused receipt does not count against her hourly receipts.
    with django_capture_on_commit_callbacks(execute=False):
        more = [file(nurse_medsurg, by_email=True) for _ in range(EMAIL_RECEIPTS_PER_HOUR)]
    assert all(receipt_written(ticket) for ticket in more)


def test_no_patient_data_in_any_byte_sent(
    smtp_server, nurse_medsurg, tech, django_capture_on_commit_callbacks
):
    ticket = committed(
        django_capture_on_commit_callbacks,
        lambda: file(
            nurse_medsurg,
            title=f"Scanner for {NAME} {MRN}",
            description=f"{NAME}, {DESCRIPTION}",
        ),
    )
    assert Ticket.objects.get(pk=ticket.pk).phi_suspected
    sla_sweep(now=ticket.created_at + timedelta(days=30))
    send_waiting()
    committed(
        django_capture_on_commit_callbacks,
        lambda: ticket_comment(ticket=ticket, author=tech, text=f"Is {NAME} still in bed 4?"),
    )
    committed(
        django_capture_on_commit_callbacks,
        lambda: ticket_resolve(ticket=ticket, actor=tech, code="fixed", note=f"{NAME} is fine"),
    )

    received = smtp_server.mails
    assert len(received) >= 5  # filing (2), the SLA alerts, the reply and resolved notices
    for sent in received:
        for secret in (NAME, "00123456", DESCRIPTION, "still in bed", "is fine"):
            assert secret.encode() not in sent.data
            assert secret not in sent.text
        assert sent.subject.startswith(f"[{ticket.number}] ")
    assert any("title withheld: possible patient data" in sent.text for sent in received)
