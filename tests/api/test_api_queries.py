"""Every list endpoint costs the same number of queries at two data sizes: no N+1. Reading and
filing one ticket cost what they must and no more.

Each call is made with a token that has been used once already (the first use of a token
writes ``last_used_at``; that write is once a minute, not per row). The budgets below are the
exact counts today; a new per-row query makes the large size fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from typing import Any

import pytest
from django.contrib.auth.models import User

from departments.models import Department, Location, Team
from oncall.models import Rotation, RotationMember
from tests.factories import TicketFactory, UserFactory
from tickets import paging
from tickets.models import Category, PageChain, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Listing:
    url: str
    sizes: tuple[int, int]
    budget: int
    # What the budget is made of; the last item is what would be N+1 without the join.
    why: str
    make: Callable[[int, dict[str, User]], Any]
    role: str = "tech"


def many_tickets(n: int, cast: dict[str, User]) -> None:
    """Tickets from several requesters, places, categories and assignees: every relation the
    serializer shows differs from row to row."""
    locations = list(Location.objects.all()[:5])
    categories = list(Category.objects.filter(parent=None)[:5])
    for i in range(n):
        location, category = locations[i % 5], categories[i % 5]
        TicketFactory(
            requester=cast["nurse"] if i % 2 else UserFactory(role="requester"),
            location=location,
            category=category,
            assignee=cast["tech"] if i % 3 else None,
        )


def long_timeline(n: int, cast: dict[str, User]) -> int:
    ticket = TicketFactory(requester=cast["nurse"])
    actors = [cast["nurse"], cast["tech"], UserFactory(role="technician"), None]
    TicketEvent.objects.bulk_create(
        TicketEvent(ticket=ticket, kind="comment", is_public=True, actor=actors[i % 4], text="x")
        for i in range(n)
    )
    return ticket.pk


def page_chains(n: int, cast: dict[str, User]) -> None:
    for i in range(n):
        ticket = TicketFactory(requester=cast["nurse"])
        chain = paging.start_chain(ticket=ticket, reason=PageChain.Reason.MANUAL)
        if i % 2:
            paging.acknowledge(chain_id=chain.pk, user=cast["tech"], via="api")


def departments(n: int, cast: dict[str, User]) -> None:
    calendar = Department.objects.first().calendar
    for i in range(n):
        Department.objects.create(code=f"X{i}", name=f"Extra {i}", calendar=calendar)


def locations(n: int, cast: dict[str, User]) -> None:
    wards = list(Department.objects.all())
    Location.objects.bulk_create(
        Location(department=wards[i % len(wards)], code=f"WOW-{i:03}", name=f"WOW {i}",
                 kind=Location.Kind.WORKSTATION)
        for i in range(n)
    )  # fmt: skip


def categories(n: int, cast: dict[str, User]) -> None:
    parents = list(Category.objects.filter(parent=None))
    teams = list(Team.objects.all())
    for i in range(n):
        Category.objects.create(
            name=f"Extra {i}", slug=f"extra-{i}", parent=parents[i % len(parents)],
            team=teams[i % len(teams)],
        )  # fmt: skip


def teams(n: int, cast: dict[str, User]) -> None:
    for i in range(n):
        Team.objects.create(slug=f"team-{i}", name=f"Team {i}")


def rotations(n: int, cast: dict[str, User]) -> None:
    """n teams with a rotation of three technicians each (and the rest without)."""
    for team in Team.objects.order_by("pk")[:n]:
        rotation = Rotation.objects.create(team=team, starts_on=date(2026, 1, 5),
                                           handoff_time=time(8))  # fmt: skip
        for position in range(3):
            RotationMember.objects.create(
                rotation=rotation, user=UserFactory(role="technician"), position=position
            )


NONE = 0
LISTINGS = {
    "tickets": Listing(
        "/api/tickets/", (3, 40), 3,
        "token, the caller's groups, one page of tickets joined to department, location, "
        "category, team, requester and assignee (not one query per row for each)",
        many_tickets,
    ),
    "tickets as a requester": Listing(
        "/api/tickets/", (3, 40), 3,
        "the same, filtered to her own tickets",
        many_tickets, role="nurse",
    ),
    "timeline": Listing(
        "/api/tickets/{id}/timeline/", (2, 30), 5,
        "token, the ticket (scope), the caller's groups, the audit log's row of the read, the "
        "events joined to their actors (not one user query per event)",
        long_timeline,
    ),
    "timeline as a requester": Listing(
        "/api/tickets/{id}/timeline/", (2, 30), 5,
        "the same, public rows only (her read is on the audit log too)",
        long_timeline, role="nurse",
    ),
    "pages": Listing(
        "/api/pages/", (1, 12), 3,
        "token, the caller's groups, the chains joined to ticket, team and acknowledger with "
        "the page count as an aggregate (not a COUNT per chain)",
        page_chains,
    ),
    "departments": Listing(
        "/api/departments/", (NONE, 15), 2, "token, the departments", departments,
    ),
    "locations": Listing(
        "/api/locations/", (NONE, 40), 2,
        "token, the locations joined to their department (not one per location)",
        locations,
    ),
    "categories": Listing(
        "/api/categories/", (NONE, 30), 2,
        "token, the categories joined to parent and team (not two per category)",
        categories,
    ),
    "teams": Listing("/api/teams/", (NONE, 12), 2, "token, the teams", teams),
    "on call": Listing(
        "/api/on-call/", (1, 8), 5,
        "token, teams joined to their rotation, the rotations' members and overrides "
        "(prefetched), the people on call with their profiles in one in_bulk (not a rotation, "
        "member list and user per team)",
        rotations,
    ),
}  # fmt: skip


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("name", list(LISTINGS))
def test_list_queries_do_not_grow(
    api, tech, nurse_medsurg, django_assert_max_num_queries, name, size
):
    listing = LISTINGS[name]
    n = listing.sizes[0] if size == "small" else listing.sizes[1]
    cast = {"tech": tech, "nurse": nurse_medsurg}
    made = listing.make(n, cast)
    url = listing.url.format(id=made)
    client = api(cast[listing.role], token=True)
    assert client.get("/api/teams/").status_code == 200  # the token's first use is recorded
    with django_assert_max_num_queries(listing.budget, info=listing.why):
        response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert rows, "the listing is not empty"
    if name.startswith("timeline") or name == "tickets":
        assert len(rows) == n


def test_the_ticket_list_is_one_page_whatever_the_history(
    api, tech, nurse_medsurg, django_assert_max_num_queries
):
    """A page is 50 rows by default and 200 at most, whatever is asked for."""
    many_tickets(60, {"tech": tech, "nurse": nurse_medsurg})
    client = api(tech, token=True)
    client.get("/api/teams/")
    with django_assert_max_num_queries(3):
        rows = client.get("/api/tickets/").json()["results"]
    assert len(rows) == 50
    assert len(client.get("/api/tickets/", {"page_size": 1000}).json()["results"]) == 60
    assert Ticket.objects.count() == 60


def test_reading_one_ticket_costs_four_queries(api, tech, django_assert_num_queries):
    """Token, the caller's groups, the ticket with its people's names and its reference codes
    (not a query per relation, nor a second read for the answer), the audit log's row of the
    read."""
    ticket = TicketFactory(assignee=tech)
    client = api(tech, token=True)
    client.get("/api/teams/")
    with django_assert_num_queries(4):
        assert client.get(f"/api/tickets/{ticket.pk}/").status_code == 200


def test_filing_costs_the_filing_and_no_read_back(api, nurse_medsurg, django_assert_num_queries):
    """Token, the category with its team, the location with its department, the filer's
    profile (is the location one of her own units?), then the filing's transaction (begin, a
    savepoint around the insert that an Idempotency-Key may collide with, the ticket, its
    release, the timeline row, the team's notice and her receipt in one insert, commit): the
    answer is written from the ticket just saved, not read back. The first filing warms the SLA
    terms' cache."""
    client = api(nurse_medsurg, token=True)
    body = {"category": "printers", "title": "Jams", "callback": "x1", "location": "MEDSURG",
            "care_delayed": False, "scope": "me", "workaround": True}  # fmt: skip
    client.post("/api/tickets/", body, format="json", HTTP_IDEMPOTENCY_KEY="first")
    with django_assert_num_queries(11):
        response = client.post("/api/tickets/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 201
