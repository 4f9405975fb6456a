"""The privacy officer's pages: only for her (a 404 for everyone else, managers and admins
included), each question answered on the page and as CSV, every CSV on the audit log, and a
fixed number of queries whatever the log holds."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from audit.models import AuditEntry
from audit.services import audit_record
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=CHICAGO)
K = AuditEntry.Kind
PAGES = ["privacy:ticket", "privacy:person", "privacy:unusual"]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def viewed(nurse_medsurg, outsider, tech):
    """HD-n: filed by nurse.medsurg, read by her, by tech and by nurse.other yesterday."""
    ticket = TicketFactory(requester=nurse_medsurg)
    for hour, who in ((8, nurse_medsurg), (10, tech), (12, outsider)):
        audit_record(kind=K.TICKET_VIEWED, actor=who, ticket_id=ticket.pk,
                     at=NOW - timedelta(days=1) + timedelta(hours=hour - 9),
                     detail={"via": "page"})  # fmt: skip
    return ticket


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_are_not_found_for_anyone_else(client, page, nurse_medsurg, tech, manager):
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    for user in (nurse_medsurg, tech, manager, superuser):
        client.force_login(user)
        assert client.get(reverse(page)).status_code == 404, user
        assert client.get(reverse(page), {"format": "csv"}).status_code == 404, user
    client.logout()
    assert client.get(reverse(page))["Location"].startswith(reverse("login"))


def test_only_the_privacy_officer_has_the_link(client, privacy_officer, manager):
    client.force_login(manager)
    assert reverse("privacy:ticket") not in client.get(reverse("my_tickets")).text
    client.force_login(privacy_officer)
    home = client.get(reverse("my_tickets")).text
    assert f'href="{reverse("privacy:ticket")}"' in home
    assert client.get(reverse("privacy:ticket")).status_code == 200


def test_a_manager_is_not_made_a_privacy_officer(client, manager, nurse_medsurg):
    """The role is given on its own, never with another."""
    manager.groups.add(*nurse_medsurg.groups.all())
    client.force_login(manager)
    assert client.get(reverse("privacy:ticket")).status_code == 404


def test_who_viewed_a_ticket_on_the_page_and_as_csv(client, frozen, privacy_officer, viewed):
    client.force_login(privacy_officer)
    page = client.get(reverse("privacy:ticket"), {"ticket": viewed.number})
    rows = page.context["rows"]
    assert [row.actor_username for row in rows] == ["nurse.other", "tech", "nurse.medsurg"]
    text = page.text
    assert f"{viewed.number}: 3 entries" in text
    assert "<strong>outside IT</strong>" in text
    assert "the requester" in text
    # Never the ticket's title: the page is about who, not what.
    assert viewed.title not in text
    response = client.get(reverse("privacy:ticket"), {"ticket": viewed.number, "format": "csv"})
    assert response["Content-Disposition"] == f'attachment; filename="access-{viewed.number}.csv"'
    lines = csv_rows(response)
    assert lines[0] == ["at", "what", "ticket", "user name", "name", "via", "details", "in IT",
                        "is the requester"]  # fmt: skip
    assert [(line[3], line[7], line[8]) for line in lines[1:]] == [
        ("nurse.other", "no", "no"), ("tech", "yes", "no"), ("nurse.medsurg", "no", "yes"),
    ]  # fmt: skip
    assert lines[1][0] == "2026-03-09T12:00:00-05:00"
    export = AuditEntry.objects.get(kind=K.EXPORT)
    assert export.actor == privacy_officer
    assert export.detail["filters"] == {"ticket": viewed.number}


def test_a_wrong_ticket_number_is_explained(client, privacy_officer):
    client.force_login(privacy_officer)
    page = client.get(reverse("privacy:ticket"), {"ticket": "printer"})
    assert "is not a ticket number" in page.text
    page = client.get(reverse("privacy:ticket"), {"ticket": "HD-999999"})
    assert "There is no ticket HD-999999." in page.text


def test_what_a_person_viewed_between_dates(client, frozen, privacy_officer, outsider, viewed):
    client.force_login(privacy_officer)
    query = {"person": "nurse.other", "start": "2026-03-09", "end": "2026-03-09"}
    page = client.get(reverse("privacy:person"), query)
    assert [(row.kind, row.ticket_id) for row in page.context["rows"]] == [
        (K.TICKET_VIEWED, viewed.pk)
    ]
    assert viewed.number in page.text
    earlier = {**query, "start": "2026-03-01", "end": "2026-03-08"}
    assert "Nothing recorded in these days." in client.get(reverse("privacy:person"), earlier).text
    lines = csv_rows(client.get(reverse("privacy:person"), {**query, "format": "csv"}))
    assert [line[2:4] for line in lines[1:]] == [[viewed.number, "nurse.other"]]
    assert AuditEntry.objects.get(kind=K.EXPORT).detail["filters"] == {
        "person": str(outsider.pk), "from": "2026-03-09", "to": "2026-03-09",
    }  # fmt: skip
    unknown = client.get(reverse("privacy:person"), {"person": "nobody"})
    assert "Nobody has the user name" in unknown.text


def test_unusual_access_on_the_page_and_as_csv(client, frozen, privacy_officer, viewed, settings):
    settings.HELPDESK_AUDIT_BURST_VIEWS = 2
    client.force_login(privacy_officer)
    page = client.get(reverse("privacy:unusual"))
    # By default the last seven days, today included.
    assert [row.actor_username for row in page.context["outside"]] == ["nurse.other"]
    # Three people each opening one ticket is no burst.
    assert page.context["bursts"] == []
    lines = csv_rows(client.get(reverse("privacy:unusual"), {"format": "csv"}))
    assert [line[0] for line in lines[1:]] == ["read by someone outside IT, not the requester"]


@pytest.mark.parametrize("size", [2, 40])
def test_the_pages_read_a_fixed_number_of_queries(
    client, frozen, privacy_officer, viewed, outsider, size, django_assert_num_queries
):
    others = TicketFactory.create_batch(3, requester=viewed.requester)
    for number in range(size):
        audit_record(kind=K.TICKET_VIEWED, actor=outsider, ticket_id=others[number % 3].pk,
                     at=NOW - timedelta(minutes=number + 1), detail={"via": "api"})  # fmt: skip
    client.force_login(privacy_officer)
    week = {"start": "2026-03-04", "end": "2026-03-10"}
    asks = [
        (reverse("privacy:ticket"), {"ticket": others[0].number}),
        (reverse("privacy:person"), {"person": "nurse.other", **week}),
        (reverse("privacy:unusual"), week),
    ]
    for path, query in asks:
        client.get(path, query)  # roles, once per process
    # Session, user and the session's renewal (savepoint, update, release); then: the ticket's
    # number checked, its entries with their people and roles, its requester (who viewed); the
    # person, her entries with their people (what she viewed); the outside reads with their
    # people and requesters, the views of the window, the people of the bursts (unusual):
    # never one per entry, per person or per ticket.
    for (path, query), count in zip(asks, (8, 7, 7), strict=True):
        with django_assert_num_queries(count):
            assert client.get(path, query).status_code == 200
