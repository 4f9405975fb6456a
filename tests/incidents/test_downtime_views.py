"""The downtime pages: a nurse sees her units' and the hospital-wide downtimes, and nothing of
another unit's; IT lists, schedules (in local time), changes and cancels them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from incidents.downtime import downtime_cancel
from incidents.models import PlannedDowntime

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2027, 3, 8, 9, 0, tzinfo=CHICAGO)
FORM = {
    "service": "EHR (Epic)",
    "category": "",
    "hospital_wide": "on",
    "starts_at": "2027-03-14T01:00",
    "length_minutes": "120",
    "ends_at": "",
    "notice_hours": "24",
    "reason": "Upgrade to the spring release",
    "procedure": "Use the downtime forms; the read-only workstation is at the charge desk.",
}


@pytest.fixture
def downtimes(schedule):
    """One for the ED, one for the OR, one hospital-wide, an ED drill and a cancelled one."""
    with time_machine.travel(NOW, tick=False):
        ed = schedule(NOW + timedelta(days=2), departments=("ED",), service="ED tracking board")
        operating = schedule(NOW + timedelta(days=3), departments=("OR",), service="OR scheduling")
        everyone = schedule(NOW + timedelta(days=6), service="EHR (Epic)")
        drill = schedule(
            NOW + timedelta(days=1), departments=("ED",), service="EHR drill", is_drill=True
        )
        called_off = schedule(NOW + timedelta(days=4), departments=("ED",), service="Pumps")
        downtime_cancel(downtime_id=called_off.pk, by=called_off.created_by)
    return {"ed": ed, "or": operating, "all": everyone, "drill": drill, "cancelled": called_off}


def services(response) -> list[str]:
    return [downtime.service for downtime in response.context["downtimes"]]


@time_machine.travel(NOW, tick=False)
def test_a_nurse_sees_her_units_and_the_hospital_wide_downtimes_soonest_first(
    client, nurse_ed, downtimes
):
    client.force_login(nurse_ed)
    response = client.get(reverse("downtime:upcoming"))
    assert response.status_code == 200
    assert services(response) == ["EHR drill", "ED tracking board", "EHR (Epic)"]
    html = response.content.decode()
    assert "OR scheduling" not in html
    assert "Pumps" not in html
    assert "Drill" in html
    # Local time, on the hospital's clock.
    assert "Wed 10 Mar 2027, 09:00" in html


@time_machine.travel(NOW, tick=False)
def test_another_units_downtime_is_not_found(client, nurse_ed, downtimes):
    client.force_login(nurse_ed)
    assert client.get(reverse("downtime:detail", args=[downtimes["or"].pk])).status_code == 404
    page = client.get(reverse("downtime:detail", args=[downtimes["ed"].pk]))
    assert page.status_code == 200
    assert "Upgrade to the spring release" in page.content.decode()
    assert client.get(reverse("downtime:detail", args=[downtimes["all"].pk])).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_a_downtime_over_is_gone_from_upcoming(client, nurse_ed, downtimes):
    with time_machine.travel(NOW + timedelta(days=2, hours=3), tick=False):
        client.force_login(nurse_ed)
        response = client.get(reverse("downtime:upcoming"))
    assert services(response) == ["EHR (Epic)"]


@time_machine.travel(NOW, tick=False)
def test_the_nav_links_upcoming_downtimes_for_everyone(client, nurse_medsurg):
    client.force_login(nurse_medsurg)
    html = client.get(reverse("my_tickets")).content.decode()
    assert f'href="{reverse("downtime:upcoming")}"' in html
    response = client.get(reverse("downtime:upcoming"))
    assert "No planned downtime for your units." in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_it_pages_do_not_exist_for_a_nurse(client, nurse_ed, downtimes):
    client.force_login(nurse_ed)
    pk = downtimes["ed"].pk
    assert client.get(reverse("downtime:manage")).status_code == 404
    assert client.get(reverse("downtime:schedule")).status_code == 404
    assert client.post(reverse("downtime:schedule"), FORM).status_code == 404
    assert client.get(reverse("downtime:edit", args=[pk])).status_code == 404
    assert client.post(reverse("downtime:cancel", args=[pk])).status_code == 404
    assert PlannedDowntime.objects.get(pk=pk).cancelled_at is None
    assert PlannedDowntime.objects.count() == 5


@time_machine.travel(NOW, tick=False)
def test_it_lists_upcoming_in_progress_and_past_with_drills_marked(client, tech, downtimes):
    with time_machine.travel(NOW + timedelta(days=2, hours=1), tick=False):
        client.force_login(tech)
        response = client.get(reverse("downtime:manage"))
    board = response.context["board"]
    assert [row.service for row in board.in_progress] == ["ED tracking board"]
    assert [row.service for row in board.upcoming] == ["OR scheduling", "EHR (Epic)"]
    assert [row.service for row in board.past] == ["Pumps", "EHR drill"]
    html = response.content.decode()
    assert "Drill" in html
    assert "Cancelled" in html


@time_machine.travel(NOW, tick=False)
def test_it_schedules_in_local_time(client, tech):
    client.force_login(tech)
    response = client.post(reverse("downtime:schedule"), FORM)
    assert response.status_code == 302
    downtime = PlannedDowntime.objects.get()
    # 01:00 CST, the night clocks go forward; two real hours later is 04:00 CDT.
    assert downtime.starts_at == datetime(2027, 3, 14, 7, 0, tzinfo=UTC)
    assert downtime.ends_at == datetime(2027, 3, 14, 9, 0, tzinfo=UTC)
    assert downtime.notice_from == datetime(2027, 3, 13, 7, 0, tzinfo=UTC)
    assert downtime.hospital_wide
    assert downtime.created_by == tech
    assert (
        "Downtime scheduled: EHR (Epic)." in client.get(reverse("downtime:manage")).content.decode()
    )


BAD_FORMS = {
    "skipped hour": ({"starts_at": "2027-03-14T02:30"}, "does not exist in America/Chicago"),
    "no departments": ({"hospital_wide": ""}, "Choose the departments affected, or hospital-wide."),
    "end before start": (
        {"length_minutes": "", "ends_at": "2027-03-13T23:00"},
        "The end must be after the start.",
    ),
    "not a time": ({"starts_at": "next sunday"}, "Enter a date and a time"),
    "no length": ({"length_minutes": ""}, "Give the expected length or the end time."),
    "negative notice": ({"notice_hours": "-2"}, "cannot be negative"),
    "no reason": ({"reason": ""}, "This field is required."),
}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("changes", "words"), BAD_FORMS.values(), ids=BAD_FORMS.keys())
def test_a_bad_form_is_shown_again_with_the_message_and_saves_nothing(client, tech, changes, words):
    client.force_login(tech)
    response = client.post(reverse("downtime:schedule"), {**FORM, **changes})
    assert response.status_code == 400
    assert words in response.content.decode()
    assert 'id="error-summary"' in response.content.decode()
    assert not PlannedDowntime.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_it_changes_a_downtime_from_its_form(client, tech, downtimes):
    client.force_login(tech)
    pk = downtimes["ed"].pk
    page = client.get(reverse("downtime:edit", args=[pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["starts_at"] == datetime(2027, 3, 10, 9, 0)
    response = client.post(
        reverse("downtime:edit", args=[pk]),
        {**FORM, "hospital_wide": "", "departments": [downtimes["ed"].departments.get().pk]},
    )
    assert response.status_code == 302
    changed = PlannedDowntime.objects.get(pk=pk)
    assert changed.service == "EHR (Epic)"
    assert changed.starts_at == datetime(2027, 3, 14, 7, 0, tzinfo=UTC)
    assert not changed.hospital_wide


@time_machine.travel(NOW, tick=False)
def test_it_cancels_a_downtime_and_the_nurse_no_longer_sees_it(client, tech, nurse_ed, downtimes):
    client.force_login(tech)
    response = client.post(reverse("downtime:cancel", args=[downtimes["ed"].pk]), follow=True)
    assert "Downtime cancelled: ED tracking board." in response.content.decode()
    again = client.post(reverse("downtime:cancel", args=[downtimes["ed"].pk]), follow=True)
    assert "This downtime was already cancelled." in again.content.decode()
    client.force_login(nurse_ed)
    assert "ED tracking board" not in services(client.get(reverse("downtime:upcoming")))


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("size", [1, 12])
def test_upcoming_reads_a_fixed_number_of_queries(
    client, nurse_ed, schedule, django_assert_num_queries, size
):
    for day in range(size):
        schedule(NOW + timedelta(days=day + 1), departments=("ED", "OR"))
    client.force_login(nurse_ed)
    client.get(reverse("downtime:upcoming"))  # the reference rows and roles, once per process
    # session, user, profile, the downtimes with their categories, their departments together,
    # and the session saved (savepoint, update, release): never a query per downtime.
    with django_assert_num_queries(8):
        response = client.get(reverse("downtime:upcoming"))
    assert len(response.context["downtimes"]) == size


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("size", [1, 12])
def test_the_it_list_reads_a_fixed_number_of_queries(
    client, tech, schedule, django_assert_num_queries, size
):
    for day in range(size):
        schedule(NOW + timedelta(days=day + 1), departments=("ED", "OR"))
        schedule(NOW - timedelta(days=day + 1), departments=("ICU",), is_drill=True)
    client.force_login(tech)
    client.get(reverse("downtime:manage"))
    # session, user, current downtimes and their departments, past ones and theirs, and the
    # session saved (savepoint, update, release): never a query per downtime.
    with django_assert_num_queries(9):
        response = client.get(reverse("downtime:manage"))
    assert len(response.context["board"].upcoming) == size
    assert len(response.context["board"].past) == size
