"""The harness reads pages by SQL: a page about no ticket (a major incident's commander page) is
one of the pages it expects delivered, waits for and counts, like any other."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from departments.models import Team
from faults.checks import moved_on_the_real_clock
from faults.invariants import Figures, PageRow, Rules, check, observe, unfinished
from incidents.services import declare
from oncall.models import EscalationPolicy, EscalationStep
from tests.conftest import need
from tests.factories import TicketFactory
from tickets import paging
from tickets.models import Category, Page, TicketEvent

pytestmark = [pytest.mark.services, pytest.mark.django_db]

FIGURES = Figures(requests=1, errors=0, filing_p95_ms=100.0)


def observed_between(started, ended, delivered_keys):
    return observe(
        filings=[], started=started, ended=ended, delivered_keys=delivered_keys,
        server_errors=0, sweep_seconds=30,
    )  # fmt: skip


def test_a_commander_page_is_expected_waited_for_and_counted_once(tech):
    need(connection.vendor == "postgresql", "PostgreSQL")
    tech.profile.page_channels = "console"
    tech.profile.save()
    policy = EscalationPolicy.objects.create(
        team=Team.objects.get(slug="clinical-apps"), purpose=EscalationPolicy.Purpose.COMMANDER
    )
    EscalationStep.objects.create(policy=policy, target=EscalationStep.Target.USER, user=tech)
    started = timezone.now() - timedelta(seconds=1)
    incident = declare(
        by=tech, service="EHR (Epic)", message="Epic is down.",
        category=Category.objects.get(slug="ehr"),
    )  # fmt: skip
    ended = timezone.now() + timedelta(seconds=1)
    page = Page.objects.get(chain=incident.commander_chain)

    waiting = observed_between(started, ended, delivered_keys=[])
    assert waiting.pages == [PageRow(page.pk, Page.Status.PENDING)]
    assert waiting.pages_unsent == 1
    assert unfinished(since=started) == 1
    assert not check(Rules(), [], waiting, FIGURES).passed

    assert paging.deliver(page.pk) == paging.Outcome.SENT
    delivered = observed_between(started, ended, delivered_keys=[page.dedupe_key])
    outcome = check(Rules(), [], delivered, FIGURES)
    assert outcome.passed, outcome.violations
    assert (outcome.pages_expected, outcome.pages_delivered, outcome.pages_duplicated) == (1, 1, 0)
    assert unfinished(since=started) == 0


def test_the_clock_jump_sets_apart_chains_a_sweep_on_the_real_clock_moved(nurse_ed):
    """The jumped sweep dates what it does two hours ahead; a page event before that is a beat's
    sweep on the real clock, and its chain is judged with the load's, not the jump's."""
    need(connection.vendor == "postgresql", "PostgreSQL")
    now = timezone.now()
    jumped = now + timedelta(hours=2)
    moved_by_a_beat, moved_by_the_jump, moved_before = (
        TicketFactory(requester=nurse_ed) for _ in range(3)
    )
    for ticket, at in (
        (moved_by_a_beat, now + timedelta(seconds=5)),
        (moved_by_the_jump, jumped),
        (moved_before, now - timedelta(minutes=5)),
    ):
        TicketEvent.objects.create(ticket=ticket, at=at, kind=TicketEvent.Kind.PAGE, text="Paged")
    found = moved_on_the_real_clock(
        [moved_by_a_beat.pk, moved_by_the_jump.pk, moved_before.pk], since=now, jumped=jumped
    )
    assert found == {moved_by_a_beat.pk}
