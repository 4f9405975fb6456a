"""The ticket page in a real browser: both SLA clocks in colour, icon and words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from departments.models import Location
from tests.browser.conftest import login
from tests.factories import TicketFactory
from tickets.priority import Scope
from tickets.sweep import sla_sweep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_technician_sees_a_breached_response_clock(page, live_server, tech, artifacts):
    from playwright.sync_api import expect

    filed = timezone.now() - timedelta(minutes=20)
    ticket = TicketFactory(
        created_at=filed,
        title="Vocera calls dropping near trauma bays",
        location=Location.objects.get(code="ED"),
        care_delayed=True,
        workaround=False,
        scope=Scope.UNIT,
    )
    sla_sweep()
    login(page, live_server, "tech")
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    clocks = page.get_by_role("region", name="Service level")
    expect(clocks).to_contain_text("First response")
    expect(clocks).to_contain_text("Breached")
    expect(clocks).to_contain_text("overdue")
    expect(clocks).to_contain_text("Resolution")
    expect(clocks).to_contain_text("On track")
    expect(page.get_by_text("SLA breached", exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts / "ticket-page-sla.png"), full_page=True)
