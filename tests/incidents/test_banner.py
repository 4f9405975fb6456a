"""The banner: read from the cache (no query once cached), for the right people, and switching
at a planned downtime's advance notice, start and end by itself, across the DST change."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments.models import Department
from incidents.banner import banner_for, current_banner
from incidents.models import PlannedDowntime
from incidents.services import declare, post_update
from tests.incidents.conftest import NOW, ehr

pytestmark = pytest.mark.django_db

# America/Chicago falls back at 02:00 CDT on Sunday 1 November 2026: 01:30 happens twice.
NOTICE = datetime.fromisoformat("2026-10-31T22:00:00-05:00")
START = datetime.fromisoformat("2026-11-01T01:30:00-06:00")  # the second 01:30, CST
END = datetime.fromisoformat("2026-11-01T04:00:00-06:00")


def shown(user, at):
    with time_machine.travel(at, tick=False):
        banner = banner_for(user)
    return [(notice.service, notice.active) for notice in banner.downtimes]


def test_downtime_banner_appears_switches_and_ends_on_time_in_the_dst_week(
    reference_data, nurse_ed
):
    PlannedDowntime.objects.create(
        service="EHR (Epic)", reason="Upgrade", procedure="Use downtime forms.",
        notice_from=NOTICE, starts_at=START, ends_at=END,
    )  # fmt: skip
    assert shown(nurse_ed, NOTICE - timedelta(minutes=1)) == []
    assert shown(nurse_ed, NOTICE + timedelta(seconds=1)) == [("EHR (Epic)", False)]
    # The first 01:30 (CDT) is an hour before the start: still the advance notice.
    first_one_thirty = datetime.fromisoformat("2026-11-01T01:30:00-05:00")
    assert shown(nurse_ed, first_one_thirty) == [("EHR (Epic)", False)]
    assert shown(nurse_ed, START + timedelta(seconds=1)) == [("EHR (Epic)", True)]
    assert shown(nurse_ed, END - timedelta(seconds=1)) == [("EHR (Epic)", True)]
    assert shown(nurse_ed, END + timedelta(seconds=1)) == []


def test_a_cancelled_downtime_shows_nothing(reference_data, nurse_ed):
    PlannedDowntime.objects.create(
        service="PACS", reason="Upgrade", notice_from=NOTICE, starts_at=START, ends_at=END,
        cancelled_at=NOTICE,
    )  # fmt: skip
    assert shown(nurse_ed, START + timedelta(minutes=1)) == []


def test_once_cached_the_banner_costs_no_query(reference_data, tech, nurse_ed):
    with time_machine.travel(NOW, tick=False):
        declare(by=tech, service="EHR (Epic)", message="Epic is down.", category=ehr())
        current_banner()
        with CaptureQueriesContext(connection) as queries:
            banner = current_banner()
    assert len(queries) == 0
    assert [notice.service for notice in banner.incidents] == ["EHR (Epic)"]


@pytest.mark.django_db(transaction=True)
def test_an_update_shows_on_the_next_read(reference_data, tech, nurse_ed):
    with time_machine.travel(NOW, tick=False):
        incident = declare(by=tech, service="EHR (Epic)", message="Epic is down.", category=ehr())
        assert current_banner().incidents[0].last_update == ""
        post_update(incident=incident, by=tech, text="Database restarting.", next_update_at=None)
        assert current_banner().incidents[0].last_update == "Database restarting."


def test_a_unit_incident_shows_to_that_unit_and_it_only(reference_data, tech, nurse_ed, nurse_or):
    with time_machine.travel(NOW, tick=False):
        declare(
            by=tech, service="Wi-Fi in the ED", message="Wi-Fi is down in the ED.",
            category=ehr(), hospital_wide=False, departments=[Department.objects.get(code="ED")],
        )  # fmt: skip
        assert len(banner_for(nurse_ed).incidents) == 1
        assert len(banner_for(nurse_or).incidents) == 0
        assert len(banner_for(tech).incidents) == 1
