"""Celery tasks on a real worker and a real Redis broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from django.core import mail

from departments.models import Location
from tests.conftest import embedded_worker
from tickets.models import Category, OutgoingEmail
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
    with embedded_worker():
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
        emails = OutgoingEmail.objects.filter(about_id=ticket.pk)
        assert wait_for(
            lambda: emails.count() == emails.filter(status=OutgoingEmail.Status.SENT).count() == 2
        ), "the worker did not send the filing notices"
        assert wait_for(lambda: len(mail.outbox) == 2)
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects[nurse_ed.email] == f"[{ticket.number}] We have your ticket"
    assert subjects[ticket.team.email].startswith(f"[{ticket.number}] [Field Services] New ticket")


# Every name a task was ever published under: queued messages, unpublished-task rows and the
# beat schedule name tasks by these.
PUBLISHED_NAMES = {
    "tickets.tasks.deliver_page",
    "tickets.tasks.deliver_pages",
    "tickets.tasks.deliver_sla_alert",
    "tickets.tasks.deliver_sla_alerts",
    "tickets.tasks.notify_requester_of_reply",
    "tickets.tasks.notify_requester_resolved",
    "tickets.tasks.notify_ticket_filed",
    "tickets.tasks.notify_tickets_filed",
    "tickets.tasks.send_email",
    "tickets.tasks.send_emails",
    "tickets.tasks.sla_sweep",
}


def test_a_fresh_worker_finds_every_task_under_its_published_name(settings):
    """What a worker process registers when it starts (autodiscovery from the settings' apps),
    not what this test process has already imported."""
    script = (
        "import json\n"
        "from helpdesk.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print(json.dumps({name: task.run.__module__ for name, task in app.tasks.items()}))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"},
    )
    registered = json.loads(found.stdout.strip().splitlines()[-1])
    assert set(registered) >= PUBLISHED_NAMES
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(registered)
    # Each lives with its work.
    assert registered["tickets.tasks.deliver_pages"] == "tickets.paging"
    assert registered["tickets.tasks.notify_ticket_filed"] == "tickets.notifications"
    assert registered["tickets.tasks.sla_sweep"] == "tickets.sweep"
    assert registered["tickets.tasks.send_email"] == "tickets.outgoing"
