"""Scheduling, changing and cancelling planned downtime: times entered on the hospital's clock
keep the right instants across the clock changes, and every bad input gets a clear message and
changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments.models import Department
from incidents.banner import current_banner
from incidents.downtime import (
    DowntimeInvalid,
    DowntimeNotice,
    downtime_cancel,
    downtime_edit,
    downtime_schedule,
    local_instant,
)
from incidents.models import PlannedDowntime
from tickets.models import Category

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
# A week before the clocks go forward (Sunday 14 March 2027, 02:00 -> 03:00) and back
# (Sunday 7 November 2027, 02:00 -> 01:00) in America/Chicago.
BEFORE_SPRING = datetime(2027, 3, 8, 9, 0, tzinfo=CHICAGO)
BEFORE_AUTUMN = datetime(2027, 11, 1, 9, 0, tzinfo=CHICAGO)
NOW = datetime(2027, 1, 10, 9, 0, tzinfo=CHICAGO)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@time_machine.travel(BEFORE_SPRING, tick=False)
def test_a_two_hour_downtime_across_spring_forward_ends_at_four_local(tech):
    starts_at = local_instant(datetime(2027, 3, 14, 1, 0))
    downtime = downtime_schedule(
        notice=DowntimeNotice(
            service="EHR (Epic)",
            reason="Database failover test",
            starts_at=starts_at,
            length=timedelta(hours=2),
            notice=timedelta(hours=24),
            hospital_wide=True,
        ),
        by=tech,
    )
    downtime.refresh_from_db()
    assert downtime.starts_at == utc(2027, 3, 14, 7, 0)  # 01:00 CST is UTC-6
    assert downtime.ends_at == utc(2027, 3, 14, 9, 0)  # two real hours: 04:00 CDT
    assert downtime.ends_at.astimezone(CHICAGO).hour == 4
    # A day before is 01:00 CST on Saturday: 24 real hours.
    assert downtime.notice_from == utc(2027, 3, 13, 7, 0)


@time_machine.travel(BEFORE_SPRING, tick=False)
def test_an_end_given_on_the_clock_after_spring_forward_is_that_instant(tech):
    downtime = downtime_schedule(
        notice=DowntimeNotice(
            service="PACS",
            reason="Vendor patch",
            starts_at=local_instant(datetime(2027, 3, 14, 1, 0)),
            ends_at=local_instant(datetime(2027, 3, 14, 4, 0), field="ends_at"),
            departments=[Department.objects.get(code="RAD")],
        ),
        by=tech,
    )
    assert downtime.ends_at == utc(2027, 3, 14, 9, 0)  # 04:00 CDT is UTC-5
    assert downtime.ends_at - downtime.starts_at == timedelta(hours=2)


def test_the_same_wall_time_a_week_apart_across_the_change_is_an_hour_apart_in_utc():
    before = local_instant(datetime(2027, 3, 7, 2, 0))
    after = local_instant(datetime(2027, 3, 21, 2, 0))
    assert before == utc(2027, 3, 7, 8, 0)
    assert after == utc(2027, 3, 21, 7, 0)
    autumn_before = local_instant(datetime(2027, 10, 31, 2, 0))
    autumn_after = local_instant(datetime(2027, 11, 14, 2, 0))
    assert autumn_before == utc(2027, 10, 31, 7, 0)
    assert autumn_after == utc(2027, 11, 14, 8, 0)


def test_a_time_the_clocks_skip_is_refused_with_the_hour_named():
    with pytest.raises(DowntimeInvalid) as refused:
        local_instant(datetime(2027, 3, 14, 2, 30))
    assert refused.value.errors == {
        "starts_at": [
            "02:30 on 14 Mar 2027 does not exist in America/Chicago: the clocks go forward "
            "that night. Choose a time outside the skipped hour."
        ]
    }


def test_a_time_the_clocks_repeat_is_refused_with_the_hour_named():
    with pytest.raises(DowntimeInvalid) as refused:
        local_instant(datetime(2027, 11, 7, 1, 30), field="ends_at")
    assert refused.value.errors == {
        "ends_at": [
            "01:30 on 7 Nov 2027 happens twice in America/Chicago: the clocks go back that "
            "night. Choose a time outside the repeated hour."
        ]
    }


@time_machine.travel(BEFORE_AUTUMN, tick=False)
def test_a_downtime_over_the_repeated_hour_lasts_its_real_length(tech):
    starts_at = local_instant(datetime(2027, 11, 7, 0, 30))
    downtime = downtime_schedule(
        notice=DowntimeNotice(
            service="Wi-Fi on 4 West",
            reason="Controller replacement",
            starts_at=starts_at,
            length=timedelta(hours=2),
            hospital_wide=True,
        ),
        by=tech,
    )
    assert downtime.starts_at == utc(2027, 11, 7, 5, 30)  # 00:30 CDT
    assert downtime.ends_at == utc(2027, 11, 7, 7, 30)  # 01:30 CST, the second one
    assert downtime.ends_at.astimezone(CHICAGO).strftime("%H:%M %Z") == "01:30 CST"


def _notice(**changes):
    values = {
        "service": "EHR (Epic)",
        "reason": "Upgrade",
        "starts_at": NOW + timedelta(days=7),
        "length": timedelta(hours=2),
        "hospital_wide": True,
    }
    values.update(changes)
    return DowntimeNotice(**values)


def _ed():
    return [Department.objects.get(code="ED")]


BAD_NOTICES = {
    "no service": ({"service": "  "}, "service", "Name the system or service going down"),
    "long service": ({"service": "E" * 81}, "service", "at most 80 characters"),
    "no reason": ({"reason": ""}, "reason", "Say why it goes down"),
    "neither end nor length": ({"length": None}, "length", "Give the expected length or the end"),
    "both end and length": (
        {"ends_at": NOW + timedelta(days=7, hours=3)},
        "length",
        "not both",
    ),
    "end before start": (
        {"length": None, "ends_at": NOW + timedelta(days=6)},
        "ends_at",
        "The end must be after the start.",
    ),
    "end at start": (
        {"length": None, "ends_at": NOW + timedelta(days=7)},
        "ends_at",
        "The end must be after the start.",
    ),
    "zero length": ({"length": timedelta(0)}, "length", "at least one minute"),
    "too long": ({"length": timedelta(days=8)}, "length", "at most 7 days"),
    "negative notice": ({"notice": timedelta(hours=-1)}, "notice", "cannot be negative"),
    "notice too early": ({"notice": timedelta(days=31)}, "notice", "at most 30 days"),
    "no departments": ({"hospital_wide": False}, "departments", "Choose the departments"),
    "already over": (
        {"starts_at": NOW - timedelta(days=1)},
        "starts_at",
        "Only a drill can be recorded after the fact.",
    ),
}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("changes", "field", "words"), BAD_NOTICES.values(), ids=BAD_NOTICES.keys()
)
def test_a_bad_notice_is_refused_with_a_clear_message_and_nothing_is_saved(
    tech, changes, field, words
):
    current_banner()
    with pytest.raises(DowntimeInvalid) as refused:
        downtime_schedule(notice=_notice(**changes), by=tech)
    assert words in " ".join(refused.value.errors[field])
    assert not PlannedDowntime.objects.exists()
    # The banner every process holds stays: nothing changed.
    with CaptureQueriesContext(connection) as queries:
        current_banner()
    assert len(queries) == 0


@time_machine.travel(NOW, tick=False)
def test_hospital_wide_and_departments_together_are_refused(tech):
    with pytest.raises(DowntimeInvalid) as refused:
        downtime_schedule(notice=_notice(departments=_ed()), by=tech)
    assert "Hospital-wide takes in every department" in refused.value.errors["departments"][0]
    assert not PlannedDowntime.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_every_problem_is_told_at_once(tech):
    with pytest.raises(DowntimeInvalid) as refused:
        downtime_schedule(
            notice=_notice(service="", reason="", hospital_wide=False, length=None), by=tech
        )
    assert set(refused.value.errors) == {"service", "reason", "departments", "length"}


@time_machine.travel(NOW, tick=False)
def test_a_drill_can_be_recorded_after_it_happened(tech):
    drill = downtime_schedule(
        notice=_notice(
            service="EHR downtime drill",
            starts_at=NOW - timedelta(days=3),
            is_drill=True,
            departments=_ed(),
            hospital_wide=False,
        ),
        by=tech,
    )
    assert drill.is_drill
    assert list(drill.departments.values_list("code", flat=True)) == ["ED"]


@time_machine.travel(NOW, tick=False)
def test_scheduling_shows_on_the_banner_once_committed(tech, django_capture_on_commit_callbacks):
    assert not current_banner()
    with django_capture_on_commit_callbacks(execute=True):
        downtime_schedule(notice=_notice(notice=timedelta(days=8)), by=tech)
    assert [notice.service for notice in current_banner().downtimes] == ["EHR (Epic)"]


@time_machine.travel(NOW, tick=False)
def test_editing_moves_the_downtime_and_its_notice(schedule, tech):
    downtime = schedule(NOW + timedelta(days=7), departments=("ED",))
    changed = downtime_edit(
        downtime_id=downtime.pk,
        notice=_notice(
            starts_at=NOW + timedelta(days=8),
            length=timedelta(hours=3),
            notice=timedelta(hours=48),
            hospital_wide=False,
            departments=[Department.objects.get(code="OR")],
            category=Category.objects.get(slug="ehr"),
        ),
        by=tech,
    )
    changed.refresh_from_db()
    assert changed.starts_at == NOW + timedelta(days=8)
    assert changed.ends_at == NOW + timedelta(days=8, hours=3)
    assert changed.notice_from == NOW + timedelta(days=6)
    assert list(changed.departments.values_list("code", flat=True)) == ["OR"]
    assert changed.category is not None
    assert changed.category.slug == "ehr"


@time_machine.travel(NOW, tick=False)
def test_a_bad_edit_changes_nothing(schedule, tech):
    downtime = schedule(NOW + timedelta(days=7), departments=("ED",))
    with pytest.raises(DowntimeInvalid):
        downtime_edit(downtime_id=downtime.pk, notice=_notice(hospital_wide=False), by=tech)
    downtime.refresh_from_db()
    assert downtime.starts_at == NOW + timedelta(days=7)
    assert list(downtime.departments.values_list("code", flat=True)) == ["ED"]


@time_machine.travel(NOW, tick=False)
def test_cancelling_twice_is_told_and_a_cancelled_downtime_cannot_be_changed(schedule, tech):
    downtime = schedule(NOW + timedelta(days=7))
    cancelled = downtime_cancel(downtime_id=downtime.pk, by=tech)
    assert cancelled.cancelled_at == NOW
    assert cancelled.cancelled_by == tech
    with pytest.raises(DowntimeInvalid) as again:
        downtime_cancel(downtime_id=downtime.pk, by=tech)
    assert again.value.errors == {"__all__": ["This downtime was already cancelled."]}
    with pytest.raises(DowntimeInvalid) as edit:
        downtime_edit(downtime_id=downtime.pk, notice=_notice(), by=tech)
    assert "was cancelled" in edit.value.errors["__all__"][0]


@time_machine.travel(NOW, tick=False)
def test_a_downtime_that_is_over_cannot_be_cancelled(schedule, tech):
    downtime = schedule(NOW + timedelta(hours=1), length=timedelta(hours=1))
    with (
        time_machine.travel(NOW + timedelta(hours=3), tick=False),
        pytest.raises(DowntimeInvalid) as refused,
    ):
        downtime_cancel(downtime_id=downtime.pk, by=tech)
    assert refused.value.errors == {"__all__": ["This downtime is over; it cannot be cancelled."]}
    downtime.refresh_from_db()
    assert downtime.cancelled_at is None
