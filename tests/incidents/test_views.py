"""The incident pages: IT's list and detail, the declare form, and "add yourself"."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from incidents.models import Affected
from incidents.services import declare, detect, resolve
from tests.incidents.conftest import NOW, cluster, ehr
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(reference_data, tech):
    with time_machine.travel(NOW, tick=False):
        return declare(by=tech, service="EHR (Epic)", message="Epic is down.", category=ehr())


def test_list_costs_the_same_queries_however_many_incidents(
    client, tech, incident, django_assert_num_queries
):
    for floor in range(3):
        declare(by=tech, service=f"PACS {floor}", message="Images are slow.", category=ehr())
    client.force_login(tech)
    client.get(reverse("incidents:list"))
    # Session and user; the banner comes from the cache; incidents with their counts in one
    # query, open alerts in one; the session's refresh (savepoint, update, release). No query
    # per incident row.
    with django_assert_num_queries(7):
        response = client.get(reverse("incidents:list"))
    assert response.status_code == 200
    assert b"EHR (Epic)" in response.content


def test_requesters_do_not_see_the_it_pages(client, nurse_ed, incident):
    client.force_login(nurse_ed)
    assert client.get(reverse("incidents:list")).status_code == 404
    assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 404


def test_the_filing_form_offers_add_yourself_and_counts_her(client, nurse_ed, incident):
    client.force_login(nurse_ed)
    form = client.get(reverse("file_ticket")).content.decode()
    assert "this is already known. Add yourself" in form
    assert "Epic is down." in form
    tickets = Ticket.objects.count()
    response = client.post(
        reverse("incidents:known", args=[incident.pk]), {"callback": "x4411", "note": ""},
        follow=True,
    )  # fmt: skip
    assert "You and 0 others are affected." in response.content.decode()
    assert Affected.objects.filter(incident=incident, user=nurse_ed).exists()
    assert Ticket.objects.count() == tickets


def test_declare_from_an_alert_then_resolve(client, tech):
    cluster(["ED", "ED", "OR", "OR", "ICU"])
    [alert] = detect(now=NOW)
    client.force_login(tech)
    page = client.get(reverse("incidents:declare") + f"?alert={alert.pk}")
    assert page.status_code == 200
    response = client.post(
        reverse("incidents:declare"),
        {"alert": alert.pk, "service": "EHR (Epic)", "category": ehr().pk, "hospital_wide": "on",
         "message": "Epic is down.", "workaround": "Downtime forms."},
    )  # fmt: skip
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    assert "Linked tickets: 5" in detail
    assert "Back-enter the orders" in detail


def test_a_resolved_incident_leaves_the_banner(
    client, tech, nurse_ed, incident, django_capture_on_commit_callbacks
):
    client.force_login(nurse_ed)
    assert b"Known problem: EHR (Epic)" in client.get(reverse("my_tickets")).content
    with django_capture_on_commit_callbacks(execute=True):
        resolve(incident=incident, by=tech, resolution="Back.")
    assert b"Known problem" not in client.get(reverse("my_tickets")).content


def test_recovery_items_are_ticked_off_and_tickets_unlinked(client, tech, incident):
    from tests.incidents.conftest import ehr_ticket

    ticket = ehr_ticket("ED", minutes_ago=1)
    client.force_login(tech)
    client.post(reverse("incidents:link", args=[incident.pk]), {"ticket": ticket.number})
    item = incident.recovery.first()
    client.post(reverse("incidents:recovery_tick", args=[incident.pk]), {"item": item.pk})
    item.refresh_from_db()
    assert item.done_at is not None
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Linked tickets: 1" in page
    client.post(reverse("incidents:unlink", args=[incident.pk]), {"ticket": ticket.pk})
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Linked tickets: 0" in page
