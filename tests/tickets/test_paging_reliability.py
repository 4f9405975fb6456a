"""On-call paging when things go wrong: the broker is down at filing, a delivery task runs twice,
a worker dies in the middle of a delivery, a ticket holds patient data, an acknowledgement races
an escalation. Real Redis, a real worker (in a thread or as a subprocess), a real PostgreSQL and
a real HTTP receiver where the rule is about them."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import time as clock_time
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from celery.signals import task_postrun
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from kombu import pools as kombu_pools

from bench.receiver import WebhookReceiver
from departments.models import Location, Team
from oncall.models import Rotation, RotationMember
from tests.conftest import DATABASE_SERVER, celery_broker, embedded_worker, need, port_open
from tests.database_clock import let_pass
from tests.factories import UserFactory
from tickets import paging, tasks
from tickets.models import Category, Page, PageChain, Ticket, TicketEvent, UnpublishedTask
from tickets.priority import Scope
from tickets.services import ticket_claim, ticket_file, ticket_set_status
from tickets.sweep import sla_sweep

FILE_URL = reverse("file_ticket")
WEBHOOK_SECRET = "paging-reliability-secret"
# Every task the product publishes; each takes ids only.
TASKS = {
    task.name: task
    for task in (
        tasks.deliver_page,
        tasks.deliver_pages,
        tasks.notify_ticket_filed,
        tasks.notify_tickets_filed,
        tasks.deliver_sla_alert,
        tasks.deliver_sla_alerts,
        tasks.send_email,
        tasks.send_emails,
    )
}
BASE_DIR = Path(__file__).resolve().parents[2]

CANARY_MRN = "90817263"
CANARY_TITLE = "Canary Testperson bed 4 monitor down"
CANARY_DESCRIPTION = f"MRN {CANARY_MRN} pt Canary Testperson, the bedside monitor went dark."
CANARIES = (CANARY_MRN, "Canary", "Testperson")


# helpers --------------------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; True when it held."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        pause.wait(0.1)


# Read at import: the broker_down fixture points CELERY_BROKER_URL at a dead port.
_SUITE_BROKER = os.environ.get("CELERY_BROKER_URL", "")


def redis_url() -> str:
    """The Redis the suite was given (CELERY_BROKER_URL in CI), else this machine's database 15."""
    return _SUITE_BROKER if _SUITE_BROKER.startswith("redis://") else "redis://127.0.0.1:6379/15"


def need_redis(url: str) -> None:
    parts = urlsplit(url)
    need(port_open(parts.hostname or "127.0.0.1", parts.port or 6379), "Redis")


def forget_queue(broker_url: str, queue: str) -> None:
    """Delete this test's queue from Redis, with any message a killed worker left unacknowledged
    (Redis would hand those back to the queue an hour later). Other queues are not touched."""
    import redis

    client = redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"*{queue}*"))
        if keys:
            client.delete(*keys)
        for tag, raw in client.hgetall("unacked").items():
            try:
                _payload, exchange, routing_key = json.loads(raw)
            except (ValueError, TypeError):
                continue
            if queue in (exchange, routing_key):
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


def answers(**overrides: str) -> dict[str, str]:
    """The filing form, filled in for an ED P1 (care delayed, whole unit, no workaround)."""
    data = {
        "category": str(Category.objects.get(slug="ehr").pk),
        "title": "Epic frozen on all triage PCs",
        "callback": "x4410",
        "location": str(Location.objects.get(code="ED").pk),
        "care_delayed": "yes",
        "scope": "unit",
        "workaround": "no",
        "description": "",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


def file_p1(requester: Any, **overrides: Any) -> Ticket:
    fields: dict[str, Any] = {
        "requester": requester,
        "location": Location.objects.get(code="ED"),
        "category": Category.objects.get(slug="ehr"),
        "title": "Epic frozen on all triage PCs",
        "callback": "x4410",
        "care_delayed": True,
        "scope": Scope.UNIT,
        "workaround": False,
        **overrides,
    }
    ticket = ticket_file(**fields).ticket
    assert ticket.priority == 1
    return ticket


def use_channels(channels: dict[Any, str]) -> None:
    for user, names in channels.items():
        user.profile.page_channels = names
        user.profile.save(update_fields=["page_channels"])


def point_paging_at(settings: Any, receiver: WebhookReceiver) -> None:
    settings.HELPDESK_PAGING = {
        **settings.HELPDESK_PAGING,
        "WEBHOOK_URL": receiver.url,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def worker_idle(outbox: TaskOutbox) -> bool:
    """True once the embedded worker finished every task it was given. Tests look at the
    database only then: in SQLite's shared-cache in-memory test database a read from this
    thread makes a concurrent write of the worker thread fail with "database table is locked"
    (PostgreSQL has no such problem)."""
    return outbox.all_done()


def page_status(page_id: int) -> str:
    return Page.objects.values_list("status", flat=True).get(pk=page_id)


# what the product publishes -------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    task: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    task_id: str | None = None


class TaskOutbox:
    """Stands between the product and Celery: sees every task it publishes.

    Without a queue it keeps the messages (no broker is touched) and ``run_all`` executes them
    here, in order. With a queue it hands each to the real broker, routed to that queue (so only
    this test's worker sees it), and remembers the task id so a test can wait for the worker to
    finish everything it was given.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, queue: str | None = None) -> None:
        self.queue = queue
        self.messages: list[Message] = []  # published (or kept, without a queue)
        self.refused: list[Message] = []  # the broker did not take them
        self.finished: dict[str, tuple[str, Any, str]] = {}  # task id -> (name, retval, state)
        self._kept: deque[Message] = deque()
        self._lock = threading.Lock()
        for task in TASKS.values():
            monkeypatch.setattr(task, "apply_async", self._wrap(task))

    def _wrap(self, task: Any) -> Callable[..., Any]:
        original = task.apply_async

        def apply_async(
            args: tuple[Any, ...] | None = None,
            kwargs: dict[str, Any] | None = None,
            **options: Any,
        ) -> Any:
            message = Message(task.name, tuple(args or ()), dict(kwargs or {}))
            if self.queue is None:
                with self._lock:
                    self.messages.append(message)
                    self._kept.append(message)
                return None
            try:
                result = original(args, kwargs, **{**options, "queue": self.queue})
            except Exception:
                with self._lock:
                    self.refused.append(message)
                raise
            with self._lock:
                self.messages.append(replace(message, task_id=result.id))
            return result

        return apply_async

    def on_postrun(self, task_id: str, task: Any, retval: Any, state: str, **_: Any) -> None:
        with self._lock:
            self.finished[task_id] = (task.name, retval, state)

    def sent(self, task: Any) -> list[tuple[Any, ...]]:
        with self._lock:
            return [message.args for message in self.messages if message.task == task.name]

    def all_done(self) -> bool:
        with self._lock:
            return all(message.task_id in self.finished for message in self.messages)

    def outcomes(self, task: Any) -> list[Any]:
        with self._lock:
            return [
                self.finished[message.task_id][1]
                for message in self.messages
                if message.task == task.name and message.task_id in self.finished
            ]

    def run_all(self) -> list[Any]:
        """Execute every kept message here, oldest first (what a worker would do)."""
        results = []
        while True:
            with self._lock:
                if not self._kept:
                    return results
                message = self._kept.popleft()
            task = TASKS[message.task]
            results.append(task.apply(args=message.args, kwargs=message.kwargs, throw=True).get())


def fresh_broker_pools() -> None:
    """Forget every kombu connection and producer pool of this process.

    conftest's ``celery_broker`` force-closes kombu's global connection pool for the URL on exit
    but leaves kombu's global producer pool for that URL holding it, so the next test publishing
    to the same URL gets "RuntimeError: Acquire on closed pool" (enqueue_on_commit swallows it).
    """
    from helpdesk.celery import app

    kombu_pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _fresh_broker_pools() -> Iterator[None]:
    fresh_broker_pools()
    yield
    fresh_broker_pools()


@pytest.fixture
def kept_tasks(monkeypatch: pytest.MonkeyPatch) -> TaskOutbox:
    """Tasks are recorded and kept here; nothing reaches a broker."""
    return TaskOutbox(monkeypatch)


@pytest.fixture
def worker_queue() -> Iterator[str]:
    """A Redis queue of this test's own: a stray worker elsewhere cannot take its messages and
    its leftovers cannot reach another test's worker."""
    from helpdesk.celery import app

    name = f"helpdesk.test-paging.{uuid.uuid4().hex[:12]}"
    queues = app.amqp.queues
    # An embedded worker started with queues=[name] narrows what the app consumes from.
    consume_from = queues._consume_from
    try:
        yield name
    finally:
        queues._consume_from = consume_from
        queues.pop(name, None)
        url = redis_url()
        parts = urlsplit(url)
        if port_open(parts.hostname or "127.0.0.1", parts.port or 6379):
            forget_queue(url, name)


@pytest.fixture
def routed_tasks(monkeypatch: pytest.MonkeyPatch, worker_queue: str) -> Iterator[TaskOutbox]:
    """Tasks go to the real broker on ``worker_queue``; finished tasks are recorded."""
    outbox = TaskOutbox(monkeypatch, queue=worker_queue)
    task_postrun.connect(outbox.on_postrun, weak=False)
    try:
        yield outbox
    finally:
        task_postrun.disconnect(outbox.on_postrun)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A local HTTP server standing in for the SMS gateway; answers 200 unless configured."""
    with WebhookReceiver() as running:
        yield running


# the on-call team -----------------------------------------------------------------------------


@pytest.fixture
def on_call_team(tech, manager):
    """Clinical Applications: tech is primary this week, Priya secondary, Morgan the manager.

    The shift started yesterday, so it covers the real clock (workers and subprocesses do not
    travel in time) and the next half hour."""
    team = Team.objects.get(slug="clinical-apps")
    priya = UserFactory(username="it.pshah", first_name="Priya", role="technician")
    rotation = Rotation.objects.create(
        team=team,
        starts_on=timezone.localdate() - timedelta(days=1),
        handoff_time=clock_time(8),
        length_days=7,
    )
    for position, user in enumerate([tech, priya]):
        RotationMember.objects.create(rotation=rotation, user=user, position=position)
    team.manager = manager
    team.save()
    use_channels({tech: "email", priya: "email", manager: "email"})
    return {"team": team, "primary": tech, "secondary": priya, "manager": manager}


# 1. the broker is down when the ticket is filed ----------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_page_filed_while_the_broker_is_down_goes_out_once_when_it_is_back(
    client, nurse_ed, on_call_team, broker_down, routed_tasks, worker_queue, monkeypatch,
    settings, receiver, caplog,
):  # fmt: skip
    broker = redis_url()
    need_redis(broker)
    use_channels({on_call_team["primary"]: "webhook"})
    point_paging_at(settings, receiver)
    client.force_login(nurse_ed)

    with caplog.at_level(logging.WARNING, logger="tickets.enqueue"):
        response = client.post(FILE_URL, answers())

    assert response.status_code == 302
    ticket = Ticket.objects.get(requester=nurse_ed)
    assert response.url == reverse("ticket_filed", args=[ticket.pk])
    assert ticket.priority == 1
    page = Page.objects.get(ticket=ticket)
    assert (page.status, page.attempts) == (Page.Status.PENDING, 0)
    assert routed_tasks.messages == []  # the broker took nothing...
    # One try at the broker per request; what it did not take is recorded for the sweep.
    assert [message.task for message in routed_tasks.refused] == [tasks.deliver_pages.name]
    assert sorted(UnpublishedTask.objects.values_list("task", flat=True)) == [
        tasks.deliver_pages.name,
        tasks.send_emails.name,
    ]
    assert f"could not enqueue tickets.tasks.deliver_pages({page.pk},)" in caplog.text
    assert receiver.requests == []  # ...and nothing went out

    with celery_broker(broker, monkeypatch):  # the broker is back
        forget_queue(broker, worker_queue)
        result = sla_sweep(now=ticket.created_at + timedelta(minutes=1, seconds=1))
        assert result.redelivered >= 1
        assert routed_tasks.sent(tasks.deliver_pages) == [([page.pk],)]
        with embedded_worker(queues=[worker_queue]):
            assert wait_for(
                lambda: worker_idle(routed_tasks) and page_status(page.pk) == Page.Status.SENT
            ), f"the page is still {page_status(page.pk)}"

            # Another sweep and a stray direct delivery send nothing more.
            sla_sweep(now=ticket.created_at + timedelta(minutes=2))
            assert paging.deliver(page.pk) == paging.Outcome.SKIPPED
            assert wait_for(routed_tasks.all_done), "the worker did not finish its tasks"

    assert routed_tasks.sent(tasks.deliver_pages) == [([page.pk],)]
    assert routed_tasks.outcomes(tasks.deliver_pages) == [[paging.Outcome.SENT]]
    assert len(receiver.requests) == 1
    assert receiver.received_keys() == [page.dedupe_key]
    page.refresh_from_db()
    assert (page.status, page.attempts) == (Page.Status.SENT, 1)
    assert ticket.events.filter(kind=TicketEvent.Kind.PAGE_SENT).count() == 1


# 2. the delivery task runs twice ---------------------------------------------------------------


def test_running_the_delivery_task_twice_sends_once(
    nurse_ed, on_call_team, kept_tasks, settings, receiver
):
    use_channels({on_call_team["primary"]: "webhook"})
    point_paging_at(settings, receiver)
    ticket = file_p1(nurse_ed)
    page = Page.objects.get(ticket=ticket)

    first = tasks.deliver_page.apply(args=(page.pk,), throw=True).get()
    second = tasks.deliver_page.apply(args=(page.pk,), throw=True).get()

    assert (first, second) == (paging.Outcome.SENT, paging.Outcome.SKIPPED)
    assert len(receiver.requests) == 1
    page.refresh_from_db()
    assert (page.status, page.attempts) == (Page.Status.SENT, 1)
    assert ticket.events.filter(kind=TicketEvent.Kind.PAGE_SENT).count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_page_published_twice_to_a_real_worker_sends_once(
    nurse_ed, on_call_team, routed_tasks, worker_queue, redis_broker, settings, receiver
):
    use_channels({on_call_team["primary"]: "email,webhook"})
    point_paging_at(settings, receiver)
    forget_queue(redis_broker, worker_queue)
    ticket = file_p1(nurse_ed)  # publishes one delivery per page when it commits
    for page_id in Page.objects.filter(ticket=ticket).values_list("pk", flat=True):
        tasks.deliver_page.apply_async(args=(page_id,))  # and once more each
    with embedded_worker(queues=[worker_queue]):
        assert wait_for(routed_tasks.all_done), "the worker did not finish its tasks"

    pages = list(Page.objects.filter(ticket=ticket).order_by("channel"))
    assert [(page.channel, page.status, page.attempts) for page in pages] == [
        ("email", Page.Status.SENT, 1),
        ("webhook", Page.Status.SENT, 1),
    ]
    # Filing published both pages in one batch; then each once more on its own.
    [(batch,)] = routed_tasks.sent(tasks.deliver_pages)
    assert sorted(batch) == sorted(page.pk for page in pages)
    assert sorted(routed_tasks.sent(tasks.deliver_page)) == sorted((page.pk,) for page in pages)
    outcomes = [o for batch in routed_tasks.outcomes(tasks.deliver_pages) for o in batch]
    assert sorted(outcomes + routed_tasks.outcomes(tasks.deliver_page)) == sorted(
        [paging.Outcome.SENT, paging.Outcome.SKIPPED] * 2
    )
    assert len(receiver.requests) == 1
    assert len([m for m in mail.outbox if m.subject.startswith("PAGE: ")]) == 1
    assert ticket.events.filter(kind=TicketEvent.Kind.PAGE_SENT).count() == 2


# 3. the worker is killed in the middle of a delivery ------------------------------------------


def subprocess_database_url() -> str:
    """The URL of the database this test runs in (pytest-django's test database), on the
    PostgreSQL server itself: the worker is started with the product's own settings, not behind
    a PgBouncer the suite may go through."""
    db = {**connection.settings_dict, **DATABASE_SERVER}
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "localhost"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{quote(str(db['NAME']), safe='')}"


class WorkerProcess:
    """``celery -A helpdesk worker`` in a process group of its own, logging to a file."""

    def __init__(self, *, queue: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=solo",
                "--concurrency=1", "-Q", queue, "--without-heartbeat", "--without-mingle",
                "--without-gossip", "--loglevel=INFO", "-n", f"{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=BASE_DIR, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, no ack, no clean-up."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log_file.close()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_leaves_a_page_the_sweep_sends_once(
    nurse_ed, on_call_team, routed_tasks, worker_queue, monkeypatch, tmp_path
):
    need(connection.vendor == "postgresql", "PostgreSQL")  # a subprocess must see the rows
    broker = redis_url()
    need_redis(broker)
    use_channels({on_call_team["primary"]: "webhook"})

    # Every wait below is bounded (20 s each, and a dead worker ends it at once): under a minute.
    with WebhookReceiver(delay=20.0) as gateway, celery_broker(broker, monkeypatch):
        forget_queue(broker, worker_queue)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": subprocess_database_url(),
            "CELERY_BROKER_URL": broker,
            "HELPDESK_PAGING_WEBHOOK_URL": gateway.url,
            "HELPDESK_PAGING_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # Longer than the receiver's delay: the worker is inside the POST when it dies.
            "HELPDESK_PAGING_WEBHOOK_TIMEOUT": "30",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PYTHONUNBUFFERED": "1",
        }
        workers: list[WorkerProcess] = []
        try:
            workers.append(WorkerProcess(queue=worker_queue, env=env, log=tmp_path / "w1.log"))
            ticket = file_p1(nurse_ed)
            page = Page.objects.get(ticket=ticket)
            assert routed_tasks.sent(tasks.deliver_pages) == [([page.pk],)]
            wait_for(lambda: bool(gateway.requests) or not workers[0].alive())
            assert gateway.requests, workers[0].tail()  # it is inside the POST, held there
            page.refresh_from_db()
            assert (page.status, page.attempts) == (Page.Status.SENDING, 1)

            workers[0].kill()  # the receiver is still holding the request
            page.refresh_from_db()
            assert page.status == Page.Status.SENDING  # nobody will finish this one

            gateway.configure(delay=0.0)
            let_pass(paging.REDELIVER_SENDING_AFTER)
            sla_sweep()
            page.refresh_from_db()
            assert page.status == Page.Status.PENDING
            assert routed_tasks.sent(tasks.deliver_pages) == [([page.pk],), ([page.pk],)]

            workers.append(WorkerProcess(queue=worker_queue, env=env, log=tmp_path / "w2.log"))
            wait_for(lambda: page_status(page.pk) == Page.Status.SENT or not workers[1].alive())
            assert page_status(page.pk) == Page.Status.SENT, workers[1].tail()
        finally:
            for worker in workers:
                worker.kill()

    page.refresh_from_db()
    assert Page.objects.filter(ticket=ticket).count() == 1
    assert (page.status, page.attempts) == (Page.Status.SENT, 2)
    assert ticket.events.filter(kind=TicketEvent.Kind.PAGE_SENT).count() == 1
    # Two attempts reached the gateway, with one key: a receiver that dedupes pages once.
    assert len(gateway.requests) == 2
    assert [r.headers["Idempotency-Key"] for r in gateway.requests] == [page.dedupe_key] * 2
    assert [r.json["dedupe_key"] for r in gateway.requests] == [page.dedupe_key] * 2
    assert gateway.received_keys() == [page.dedupe_key]


# 4. no patient data anywhere -------------------------------------------------------------------


def canary_in(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary.lower() in text.lower()]


def test_no_patient_data_in_pages_mail_logs_or_task_arguments(
    client, nurse_ed, on_call_team, kept_tasks, settings, receiver, caplog,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    caplog.set_level(logging.DEBUG)
    primary, secondary, manager = (on_call_team[k] for k in ("primary", "secondary", "manager"))
    use_channels({primary: "console", secondary: "email", manager: "webhook"})
    point_paging_at(settings, receiver)
    client.force_login(nurse_ed)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            FILE_URL, answers(title=CANARY_TITLE, description=CANARY_DESCRIPTION)
        )
    assert response.status_code == 302
    ticket = Ticket.objects.get(requester=nurse_ed)
    assert (ticket.priority, ticket.phi_suspected) == (1, True)
    kept_tasks.run_all()
    # Time travel: re-page the primary, then the secondary, then the manager on call.
    for minutes in (5, 15, 30):
        with django_capture_on_commit_callbacks(execute=True):
            sla_sweep(now=ticket.created_at + timedelta(minutes=minutes))
        kept_tasks.run_all()

    pages = Page.objects.filter(ticket=ticket).order_by("created_at", "pk")
    assert [(p.recipient_id, p.channel, p.step, p.repeat, p.status) for p in pages] == [
        (primary.pk, "console", 0, 0, Page.Status.SENT),
        (primary.pk, "console", 0, 1, Page.Status.SENT),
        (secondary.pk, "email", 1, 0, Page.Status.SENT),
        (manager.pk, "webhook", 2, 0, Page.Status.SENT),
    ]
    # Every channel really carried something, so the checks below look at real output.
    console = [r for r in caplog.records if r.name == "helpdesk.pages"]
    assert len(console) == 2
    assert all(ticket.number in record.getMessage() for record in console)
    assert [m.to for m in mail.outbox if m.subject.startswith("PAGE: ")] == [[secondary.email]]
    assert len(mail.outbox) > 1  # the filing notices and SLA alerts went out too
    assert len(receiver.requests) == 1
    assert receiver.requests[0].json["ticket"] == ticket.number

    leaks: list[str] = []
    for message in mail.outbox:
        text = "\n".join([message.subject, message.body, message.message().as_string()])
        leaks += [f"email {message.subject!r}: {c}" for c in canary_in(text)]
    for request in receiver.requests:
        text = "\n".join(
            [request.path, request.body.decode(errors="replace"), str(request.headers)]
        )
        leaks += [f"webhook: {c}" for c in canary_in(text)]
    for record in caplog.records:
        text = "\n".join(
            [record.getMessage(), record.exc_text or "", str(record.args), record.name]
        )
        leaks += [f"log {record.name} {record.levelname}: {c}" for c in canary_in(text)]
    leaks += [f"captured log output: {c}" for c in canary_in(caplog.text)]
    assert kept_tasks.messages, "nothing was published"
    for message in kept_tasks.messages:
        assert message.kwargs == {}, message
        assert message.args, message
        ids = [i for arg in message.args for i in (arg if isinstance(arg, list) else [arg])]
        assert all(type(one) is int for one in ids), message
        leaks += [f"task {message.task}: {c}" for c in canary_in(json.dumps(message.args))]
    assert leaks == []
    assert {message.task for message in kept_tasks.messages} <= set(TASKS)


# 5. an acknowledgement races an escalation ----------------------------------------------------


def race(ack: Callable[[], Any], escalate: Callable[[], Any]) -> dict[str, Any]:
    """Run both at once (released together by a barrier), each on its own connection."""
    barrier = threading.Barrier(2, timeout=10)
    outcome: dict[str, Any] = {}

    def run(name: str, work: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcome[name] = work()
        except Exception as error:  # reported by the test, with the attempt number
            outcome[name] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [
        threading.Thread(target=run, args=("ack", ack)),
        threading.Thread(target=run, args=("escalate", escalate)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "the race deadlocked"
    return outcome


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_acknowledgement_racing_an_escalation_leaves_nothing_to_send(
    nurse_ed, on_call_team, kept_tasks
):
    need(connection.vendor == "postgresql", "PostgreSQL")  # real row locks, real concurrency
    tech = on_call_team["primary"]
    escalation_won = 0
    for attempt in range(20):
        ticket = file_p1(nurse_ed)
        chain = PageChain.objects.get(ticket=ticket)
        # The primary's 15-minute wait has just elapsed: the sweep escalates to the secondary,
        # while the technician acknowledges a second before that.
        due = chain.step_started_at + timedelta(minutes=15)
        acked_at = due - timedelta(seconds=1)
        outcome = race(
            partial(paging.acknowledge, chain_id=chain.pk, user=tech, via="api", now=acked_at),
            partial(paging.advance_due_chains, now=due),
        )
        for name, result in outcome.items():
            if isinstance(result, Exception):
                pytest.fail(f"attempt {attempt}: {name} raised {type(result).__name__}: {result}")
        escalation_won += outcome["escalate"]

        chain.refresh_from_db()
        assert chain.status == PageChain.Status.ACKNOWLEDGED, f"attempt {attempt}"
        assert chain.acknowledged_at == acked_at
        pages = list(Page.objects.filter(chain=chain))
        after_ack = [p for p in pages if p.created_at > chain.acknowledged_at]
        live = [p for p in after_ack if p.status in (Page.Status.PENDING, Page.Status.SENT)]
        assert live == [], f"attempt {attempt}"
        assert {p.status for p in after_ack} <= {Page.Status.CANCELLED}, f"attempt {attempt}"
        # Nothing was delivered, so nothing of the chain is left to send at all.
        assert {p.status for p in pages} == {Page.Status.CANCELLED}, f"attempt {attempt}"
        # The escalation either ran first (and its pages were cancelled) or found nothing due.
        assert outcome["escalate"] == len({(p.step, p.repeat) for p in pages}) - 1
    # Both orders are legal; which one won the row lock is printed for the record.
    print(f"escalation won the row lock in {escalation_won} of 20 races")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_claim_racing_an_escalation_gives_one_outcome(nurse_ed, on_call_team, kept_tasks):
    need(connection.vendor == "postgresql", "PostgreSQL")  # real row locks, real concurrency
    secondary = on_call_team["secondary"]
    escalation_won = 0
    for attempt in range(12):
        ticket = file_p1(nurse_ed)
        chain = PageChain.objects.get(ticket=ticket)
        due = chain.step_started_at + timedelta(minutes=15)
        claimed_at = due - timedelta(seconds=1)
        outcome = race(
            partial(ticket_claim, ticket=ticket, user=secondary, now=claimed_at),
            partial(paging.advance_due_chains, now=due),
        )
        for name, result in outcome.items():
            if isinstance(result, Exception):
                pytest.fail(f"attempt {attempt}: {name} raised {type(result).__name__}: {result}")
        escalation_won += outcome["escalate"]

        chain.refresh_from_db()
        assert chain.status == PageChain.Status.ACKNOWLEDGED, f"attempt {attempt}"
        assert (chain.acknowledged_by, chain.acknowledged_at) == (secondary, claimed_at)
        assert Ticket.objects.get(pk=ticket.pk).assignee == secondary
        assert ticket.events.filter(kind=TicketEvent.Kind.ACK).count() == 1, f"attempt {attempt}"
        pages = list(Page.objects.filter(chain=chain))
        # Whatever the escalation wrote before the claim took the chain is never sent.
        assert {p.status for p in pages} == {Page.Status.CANCELLED}, f"attempt {attempt}"
        assert outcome["escalate"] == len({(p.step, p.repeat) for p in pages}) - 1
    print(f"escalation won the row lock in {escalation_won} of 12 races")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_resolve_racing_an_escalation_gives_one_outcome(nurse_ed, on_call_team, kept_tasks):
    """The sweep holds the chain and writes timeline rows to the ticket; the resolve holds the
    ticket and ends its chains. Neither may wait for the other: no deadlock, nothing sent after."""
    need(connection.vendor == "postgresql", "PostgreSQL")  # real row locks, real concurrency
    tech = on_call_team["primary"]
    for attempt in range(12):
        ticket = file_p1(nurse_ed)
        chain = PageChain.objects.get(ticket=ticket)
        due = chain.step_started_at + timedelta(minutes=15)
        outcome = race(
            partial(
                ticket_set_status, ticket=ticket, actor=tech, status=Ticket.Status.RESOLVED,
                now=due - timedelta(seconds=1),
            ),
            partial(paging.advance_due_chains, now=due),
        )  # fmt: skip
        for name, result in outcome.items():
            if isinstance(result, Exception):
                pytest.fail(f"attempt {attempt}: {name} raised {type(result).__name__}: {result}")
        chain.refresh_from_db()
        assert chain.status == PageChain.Status.RESOLVED, f"attempt {attempt}"
        assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.RESOLVED
        live = Page.objects.filter(chain=chain, status=Page.Status.PENDING)
        assert not live.exists(), f"attempt {attempt}"
