"""Celery tasks on a real worker and a real Redis broker."""

from __future__ import annotations

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from departments.models import Location
from tickets.models import Category, Ticket
from tickets.priority import Scope
from tickets.services import ticket_file


def wait_for(condition, timeout: float = 30.0) -> bool:
    """Poll a condition until it holds; the worker runs in another thread."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        if condition():
            return True
        pause.wait(0.1)
    return False


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_filing_notices_are_sent_by_a_real_worker(nurse_ed, redis_broker, settings):
    from helpdesk.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        ticket = ticket_file(
            requester=nurse_ed,
            location=Location.objects.get(code="ED"),
            category=Category.objects.get(slug="printers"),
            title="Triage wristband printer printing blank bands",
            callback="x4410",
            care_delayed=True,
            scope=Scope.UNIT,
            workaround=False,
        ).ticket
        assert wait_for(
            lambda: Ticket.objects.filter(pk=ticket.pk, filing_notified_at__isnull=False).exists()
        ), "the worker did not pick up the filing notice"
        assert wait_for(lambda: len(mail.outbox) == 2)
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects[0].startswith("We have your ticket HD-")
    assert "[Field Services] New ticket" in subjects[1]
