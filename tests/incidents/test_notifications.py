"""An incident's updates and its end reach each person affected through the e-mail outbox, one
row per person: written with the update or the resolution, sent once however often their task
runs, sent by the sweep when a worker died after its claim, and a relay that fails halfway
sends the rest later without sending the first ones again. Tasks published under their old
names before the outbox still tell each person once. A real SMTP server receives them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db.models.functions import Now

from incidents import tasks
from incidents.models import Affected, Incident, IncidentUpdate
from incidents.notifications import RESOLVED_NOTICE, UPDATE_NOTICE
from incidents.services import join, post_update, resolve
from tests.incidents.conftest import NOW
from tests.incidents.test_services import declared
from tests.tickets.test_notifications import closed_port, send_waiting
from tests.tickets.test_notifications_outbox import (  # noqa: F401 (fixture)
    eager,
    ids,
    rolled_back,
    sweep_after,
)
from tickets.models import OutgoingEmail
from tickets.models.outbox import ONCE_KINDS
from tickets.notifications import FILING_NOTICE, RECEIPT, SLA_ALERT
from tickets.outgoing import REDELIVER_SENDING_AFTER, Outcome, send_emails, send_queued

# Each task runs as the worker would, once its transaction commits.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]
E = OutgoingEmail.Status
UPDATE = "Vendor is restarting the database."
RESOLUTION = "The EHR is back; re-enter the downtime orders."


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def incident(reference_data, tech, nurse_ed, nurse_or, nurse_medsurg) -> Incident:
    incident = declared(tech)
    for nurse in (nurse_ed, nurse_or, nurse_medsurg):
        join(incident=incident, user=nurse, now=NOW)
    return incident


@pytest.fixture
def affected(nurse_ed, nurse_or, nurse_medsurg) -> list[str]:
    return sorted([nurse_ed.email, nurse_or.email, nurse_medsurg.email])


def update(incident: Incident, tech) -> None:
    post_update(
        incident=incident, by=tech, text=UPDATE, next_update_at=NOW + timedelta(hours=1), now=NOW
    )


def resolution(incident: Incident, tech) -> None:
    resolve(incident=incident, by=tech, resolution=RESOLUTION, now=NOW)


CHANGES: dict[str, tuple[Callable[[Incident, object], None], str, str]] = {
    "update": (update, UPDATE_NOTICE, UPDATE),
    "resolution": (resolution, RESOLVED_NOTICE, RESOLUTION),
}


def received(smtp_server) -> list[str]:
    return sorted(address for mail in smtp_server.mails for address in mail.recipients)


@pytest.mark.parametrize("change", CHANGES)
def test_one_e_mail_per_person_is_written_with_the_change_or_not_at_all(
    change, incident, tech, affected
):
    make, kind, _ = CHANGES[change]
    rolled_back(lambda: make(incident, tech))
    assert not OutgoingEmail.objects.exists()

    make(incident, tech)
    assert OutgoingEmail.objects.filter(kind=kind, status=E.PENDING).count() == len(affected)


@pytest.mark.parametrize("change", CHANGES)
def test_each_person_is_told_once_however_often_the_task_runs(
    change, incident, tech, affected, smtp_server
):
    make, _, text = CHANGES[change]
    make(incident, tech)
    emails = ids()
    assert send_emails(emails) == [Outcome.SENT] * len(affected)
    assert send_emails(emails) == [Outcome.SKIPPED] * len(affected)
    assert received(smtp_server) == affected
    assert all(text in mail.text for mail in smtp_server.mails)


@pytest.mark.parametrize("change", CHANGES)
def test_a_worker_killed_after_its_claim_leaves_the_e_mails_to_the_sweep(
    change, incident, tech, affected, smtp_server, django_capture_on_commit_callbacks
):
    make, _, _ = CHANGES[change]
    make(incident, tech)
    OutgoingEmail.objects.update(status=E.SENDING, claimed_at=Now(), attempts=1)

    sweep_after(REDELIVER_SENDING_AFTER - timedelta(seconds=1), django_capture_on_commit_callbacks)
    assert smtp_server.mails == []  # it may still be sending
    for wait in (timedelta(minutes=1), timedelta(minutes=8)):
        sweep_after(wait, django_capture_on_commit_callbacks)

    assert received(smtp_server) == affected
    assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {(E.SENT, 2)}


@pytest.mark.parametrize("change", CHANGES)
def test_a_relay_that_fails_halfway_sends_the_rest_later_and_the_first_once(
    change, incident, tech, affected, smtp_server, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    make, _, _ = CHANGES[change]
    make(incident, tech)
    first, *rest = ids()
    assert send_queued(first) == Outcome.SENT
    settings.EMAIL_PORT = closed_port()  # the relay goes down
    assert send_waiting() == [Outcome.RETRY] * len(rest)
    settings.EMAIL_PORT = smtp_server.port

    sweep_after(timedelta(seconds=30), django_capture_on_commit_callbacks)  # not yet due
    assert len(smtp_server.mails) == 1
    for wait in (timedelta(seconds=31), timedelta(minutes=4)):
        sweep_after(wait, django_capture_on_commit_callbacks)

    assert received(smtp_server) == affected
    assert OutgoingEmail.objects.get(pk=first).attempts == 1
    assert set(OutgoingEmail.objects.filter(pk__in=rest).values_list("attempts", flat=True)) == {2}


def test_an_update_task_queued_before_the_outbox_tells_each_person_once(
    incident, tech, affected, smtp_server, django_capture_on_commit_callbacks
):
    """Posted before the outbox (its task still queued, twice): each person is told once; an
    update whose notices went out then is not sent again."""
    with django_capture_on_commit_callbacks(execute=False):
        update(incident, tech)
    OutgoingEmail.objects.all().delete()
    [posted] = IncidentUpdate.objects.filter(text=UPDATE)
    sent_then = IncidentUpdate.objects.create(incident=incident, text="Earlier.", notified_at=NOW)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.notify_incident_update.delay(posted.pk)
            tasks.notify_incident_update.delay(sent_then.pk)

    assert received(smtp_server) == affected
    assert all(UPDATE in mail.text for mail in smtp_server.mails)


def test_a_resolution_task_queued_before_the_outbox_tells_no_one_twice(
    incident, tech, nurse_ed, affected, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        resolution(incident, tech)
    OutgoingEmail.objects.all().delete()
    # She was told before the outbox, under the old column.
    Affected.objects.filter(incident=incident, user=nurse_ed).update(told_resolved_at=NOW)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.notify_incident_resolved.delay(incident.pk)

    assert received(smtp_server) == sorted(set(affected) - {nurse_ed.email})


def test_every_kind_that_must_go_once_is_written_once():
    """A doubled queueing writes nothing twice: the outbox knows each such kind by its name."""
    assert set(ONCE_KINDS) == {FILING_NOTICE, RECEIPT, SLA_ALERT, UPDATE_NOTICE, RESOLVED_NOTICE}
