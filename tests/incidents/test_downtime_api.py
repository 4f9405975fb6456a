"""Planned downtime in the API: upcoming downtimes scoped as the page, and scheduling and
cancelling for IT, with the same messages as the form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from incidents.models import PlannedDowntime

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2027, 3, 8, 9, 0, tzinfo=CHICAGO)
BODY = {
    "service": "EHR (Epic)",
    "category": "ehr",
    "departments": ["ED", "OR"],
    "starts_at": "2027-03-14T01:00",
    "length_minutes": 120,
    "notice_minutes": 1440,
    "reason": "Upgrade to the spring release",
    "procedure": "Use the downtime forms.",
}


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def downtimes(schedule):
    with time_machine.travel(NOW, tick=False):
        return {
            "ed": schedule(NOW + timedelta(days=2), departments=("ED",), service="ED board"),
            "or": schedule(NOW + timedelta(days=3), departments=("OR",), service="OR schedule"),
            "all": schedule(NOW + timedelta(days=6), service="EHR (Epic)"),
        }


@time_machine.travel(NOW, tick=False)
def test_a_nurse_lists_her_units_and_the_hospital_wide_downtimes(nurse_ed, downtimes):
    response = signed_in(nurse_ed).get("/api/downtimes/")
    assert response.status_code == 200
    rows = response.json()
    assert [row["service"] for row in rows] == ["ED board", "EHR (Epic)"]
    assert rows[0]["departments"] == ["ED"]
    assert rows[1]["hospital_wide"] is True
    assert rows[0]["starts_at"] == "2027-03-10T09:00:00-06:00"
    assert rows[0]["url"] == f"http://testserver/downtime/{downtimes['ed'].pk}/"


@time_machine.travel(NOW, tick=False)
def test_another_units_downtime_is_404_by_its_id(nurse_ed, downtimes):
    client = signed_in(nurse_ed)
    assert client.get(f"/api/downtimes/{downtimes['or'].pk}/").status_code == 404
    assert client.get(f"/api/downtimes/{downtimes['ed'].pk}/").json()["service"] == "ED board"


@time_machine.travel(NOW, tick=False)
def test_it_sees_every_downtime(tech, downtimes):
    rows = signed_in(tech).get("/api/downtimes/").json()
    assert [row["service"] for row in rows] == ["ED board", "OR schedule", "EHR (Epic)"]


def test_an_anonymous_caller_is_refused(downtimes):
    assert APIClient().get("/api/downtimes/").status_code == 401


@time_machine.travel(NOW, tick=False)
def test_it_schedules_a_downtime_in_local_time(tech):
    response = signed_in(tech).post("/api/downtimes/", BODY, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["starts_at"] == "2027-03-14T01:00:00-06:00"
    assert body["ends_at"] == "2027-03-14T04:00:00-05:00"
    assert body["departments"] == ["ED", "OR"]
    assert body["category"] == "ehr"
    downtime = PlannedDowntime.objects.get()
    assert downtime.ends_at == datetime(2027, 3, 14, 9, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_a_time_with_an_offset_is_taken_as_it_is(tech):
    body = {**BODY, "starts_at": "2027-03-14T12:00:00Z", "length_minutes": 30}
    response = signed_in(tech).post("/api/downtimes/", body, format="json")
    assert response.status_code == 201
    assert PlannedDowntime.objects.get().starts_at == datetime(2027, 3, 14, 12, 0, tzinfo=UTC)


BAD_BODIES = {
    "skipped hour": ({"starts_at": "2027-03-14T02:30"}, "starts_at", "does not exist"),
    "repeated hour": (
        {"length_minutes": None, "ends_at": "2027-11-07T01:30"},
        "ends_at",
        "happens twice",
    ),
    "both ways": ({"departments": ["ED"], "hospital_wide": True}, "departments", "Hospital-wide"),
    "unknown department": ({"departments": ["NOPE"]}, "departments", "NOPE"),
    "no length": ({"length_minutes": None}, "length_minutes", "expected length or the end"),
    "negative notice": ({"notice_minutes": -5}, "notice_minutes", "cannot be negative"),
}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("changes", "field", "words"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_bad_body_is_400_with_the_message_and_nothing_is_saved(tech, changes, field, words):
    body = {key: value for key, value in {**BODY, **changes}.items() if value is not None}
    response = signed_in(tech).post("/api/downtimes/", body, format="json")
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert not PlannedDowntime.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_nurse_cannot_schedule_or_cancel(nurse_ed, downtimes):
    client = signed_in(nurse_ed)
    assert client.post("/api/downtimes/", BODY, format="json").status_code == 403
    assert client.post(f"/api/downtimes/{downtimes['ed'].pk}/cancel/").status_code == 403
    assert PlannedDowntime.objects.count() == 3
    assert not PlannedDowntime.objects.filter(cancelled_at__isnull=False).exists()


@time_machine.travel(NOW, tick=False)
def test_it_cancels_once(tech, nurse_ed, downtimes):
    client = signed_in(tech)
    url = f"/api/downtimes/{downtimes['ed'].pk}/cancel/"
    first = client.post(url)
    assert first.status_code == 200
    assert first.json()["cancelled_at"] == "2027-03-08T09:00:00-06:00"
    again = client.post(url)
    assert again.status_code == 400
    assert again.json() == {"detail": "This downtime was already cancelled."}
    rows = signed_in(nurse_ed).get("/api/downtimes/").json()
    assert [row["service"] for row in rows] == ["EHR (Epic)"]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("size", [1, 12])
def test_the_list_reads_a_fixed_number_of_queries(
    nurse_ed, schedule, django_assert_num_queries, size
):
    for day in range(size):
        schedule(NOW + timedelta(days=day + 1), departments=("ED", "OR"))
    client = signed_in(nurse_ed)
    client.get("/api/downtimes/")
    # session, user, profile, the downtimes with their categories, their departments together,
    # the session saved (savepoint, update, release): never a query per downtime.
    with django_assert_num_queries(8):
        response = client.get("/api/downtimes/")
    assert len(response.json()) == size


def test_the_schema_documents_the_downtime_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/downtimes/" in schema["paths"]
    assert "post" in schema["paths"]["/api/downtimes/"]
    assert "/api/downtimes/{id}/cancel/" in schema["paths"]
