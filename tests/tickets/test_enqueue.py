"""A broker that is hung (accepts connections, never answers) costs filing one short wait, and
what it did not take goes out on the next sweep, not a minute later."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from datetime import time as clock_time
from typing import Any

import pytest
from django.urls import reverse

from departments.models import Team
from oncall.models import Rotation, RotationMember
from tests.conftest import celery_broker
from tests.tickets.test_paging_reliability import answers
from tickets import tasks
from tickets.enqueue import forget_broker_failure
from tickets.models import OutgoingEmail, Page, Ticket, UnpublishedTask
from tickets.sweep import sla_sweep

pytestmark = pytest.mark.django_db
FILE_URL = reverse("file_ticket")
PUBLISHED = (tasks.deliver_pages, tasks.send_emails)


def filing_emails(ticket: Ticket) -> list[int]:
    """The ids of the team's notice and the receipt, written with the filing."""
    return list(OutgoingEmail.objects.filter(about_id=ticket.pk).values_list("pk", flat=True))


@contextmanager
def hung_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Celery pointed at a Redis that accepts every connection and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        with celery_broker(f"redis://127.0.0.1:{server.getsockname()[1]}/0", monkeypatch) as url:
            yield url
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in held:
            connection.close()
        server.close()


@pytest.fixture
def on_call(tech: Any) -> Any:
    """Clinical Applications has tech on call, so an ED P1 writes a page."""
    team = Team.objects.get(slug="clinical-apps")
    rotation = Rotation.objects.create(
        team=team, starts_on=date(2020, 1, 6), handoff_time=clock_time(8), length_days=7
    )
    RotationMember.objects.create(rotation=rotation, user=tech, position=0)
    tech.profile.page_channels = "console"
    tech.profile.save(update_fields=["page_channels"])
    return tech


class Attempts:
    """Counts the product's publishes and lets them through (or keeps them, once the broker is
    back, for the test to run as a worker would)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tried: list[str] = []
        self.kept: list[tuple[Any, tuple[Any, ...]]] = []
        self.keeping = False
        for task in PUBLISHED:
            monkeypatch.setattr(task, "apply_async", self._wrap(task, task.apply_async))

    def _wrap(self, task: Any, original: Callable[..., Any]) -> Callable[..., Any]:
        def apply_async(args: tuple[Any, ...] = (), **options: Any) -> Any:
            self.tried.append(task.name)
            if self.keeping:
                self.kept.append((task, tuple(args)))
                return None
            return original(args=args, **options)

        return apply_async


def timed_filing(client: Any, capture: Any) -> float:
    started = time.monotonic()
    with capture(execute=True):
        response = client.post(FILE_URL, answers())
    elapsed = time.monotonic() - started
    assert response.status_code == 302
    return elapsed


def test_filing_waits_on_a_hung_broker_once_and_at_most_half_a_second(
    client, nurse_ed, on_call, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(nurse_ed)
    attempts = Attempts(monkeypatch)
    # The request's own time, with a broker that is down (refused at once, costs nothing).
    with celery_broker("redis://127.0.0.1:1/0", monkeypatch):
        timed_filing(client, django_capture_on_commit_callbacks)  # warm up
        forget_broker_failure()
        own_time = timed_filing(client, django_capture_on_commit_callbacks)
    attempts.tried.clear()
    UnpublishedTask.objects.all().delete()

    with hung_broker(monkeypatch):
        elapsed = timed_filing(client, django_capture_on_commit_callbacks)

    assert elapsed <= own_time + 0.5, f"filing took {elapsed:.2f}s ({own_time:.2f}s its own)"
    ticket = Ticket.objects.filter(requester=nurse_ed).latest("pk")
    page = Page.objects.get(ticket=ticket)
    assert page.status == Page.Status.PENDING
    # One try at the broker; the other task was recorded without asking it again.
    assert attempts.tried == [tasks.deliver_pages.name]
    assert sorted(UnpublishedTask.objects.values_list("task", "args")) == [
        (tasks.deliver_pages.name, [[page.pk]]),
        (tasks.send_emails.name, [filing_emails(ticket)]),
    ]


def test_page_stranded_by_a_hung_broker_goes_out_on_the_next_sweep(
    client, nurse_ed, on_call, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(nurse_ed)
    attempts = Attempts(monkeypatch)
    with hung_broker(monkeypatch):
        timed_filing(client, django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get(requester=nurse_ed)
    page = Page.objects.get(ticket=ticket)

    # The broker is back; the next sweep comes seconds later, long before the page looks stale.
    forget_broker_failure()
    attempts.keeping = True
    with django_capture_on_commit_callbacks(execute=True):
        result = sla_sweep(now=ticket.created_at + timedelta(seconds=30))

    assert result.redelivered == 3  # the page and the filing's two e-mails
    assert UnpublishedTask.objects.count() == 0
    assert [(task.name, args) for task, args in attempts.kept] == [
        (tasks.deliver_pages.name, ([page.pk],)),
        (tasks.send_emails.name, (filing_emails(ticket),)),
    ]
    for task, args in attempts.kept:
        task.apply(args=args, throw=True)
    page.refresh_from_db()
    assert page.status == Page.Status.SENT
    sent = OutgoingEmail.objects.filter(pk__in=filing_emails(ticket), status="sent")
    assert sent.count() == 2


def test_a_broker_that_refuses_is_tried_again_after_a_few_seconds(
    nurse_ed, on_call, monkeypatch, django_capture_on_commit_callbacks
):
    from tickets import enqueue

    attempts = Attempts(monkeypatch)
    clock = [1000.0]
    monkeypatch.setattr(enqueue.time, "monotonic", lambda: clock[0])
    with celery_broker("redis://127.0.0.1:1/0", monkeypatch):
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                enqueue.enqueue_on_commit(tasks.send_emails, 1)
        assert attempts.tried == [tasks.send_emails.name]
        clock[0] += enqueue.BROKER_BACKOFF_SECONDS
        with django_capture_on_commit_callbacks(execute=True):
            enqueue.enqueue_on_commit(tasks.send_emails, 1)
    assert attempts.tried == [tasks.send_emails.name] * 2
    assert UnpublishedTask.objects.count() == 3
