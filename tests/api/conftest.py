"""API fixtures: clients signed in by session or by token, a machine account, tickets filed the
way the API files them, and an on-call rotation so that P1s page someone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from departments.models import ApiToken, Location, Team
from oncall.models import Rotation, RotationMember
from tests.factories import UserFactory
from tickets.models import Category, Ticket
from tickets.priority import Scope
from tickets.services import ticket_file

Client = Callable[..., APIClient]


def bearer(raw: str) -> dict[str, str]:
    """Headers for token auth, for APIClient calls (``client.get(url, **bearer(raw))``)."""
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def issue_token(user: User, name: str = "tests") -> str:
    _token, raw = ApiToken.issue(user=user, name=name)
    return raw


@pytest.fixture
def api(db: None) -> Client:
    """``api(user)`` signs in by session; ``api(user, token=True)`` sends a Bearer token;
    ``api()`` is anonymous."""

    def make(user: User | None = None, *, token: bool = False) -> APIClient:
        client = APIClient()
        if user is None:
            return client
        if token:
            client.credentials(**bearer(issue_token(user)))
        else:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def integration(reference_data: None) -> User:
    """A machine account: a monitoring system that files tickets for departments."""
    return UserFactory(username="solarwinds", first_name="SolarWinds", role="integration")


@pytest.fixture
def file_ticket() -> Callable[..., Ticket]:
    """File through the service, as the API and the form do (timeline, clocks, paging)."""

    def make(requester: User, *, location: str = "MEDSURG", **overrides: Any) -> Ticket:
        values: dict[str, Any] = {
            "category": Category.objects.get(slug="printers"),
            "title": "Wristband printer jams",
            "callback": "x4567",
            "care_delayed": False,
            "scope": Scope.ME,
            "workaround": True,
        }
        values.update(overrides)
        return ticket_file(
            requester=requester, location=Location.objects.get(code=location), **values
        ).ticket

    return make


@pytest.fixture
def on_call_team(tech: User, manager: User) -> dict[str, Any]:
    """Clinical Applications (the EHR team): tech is primary right now, Priya secondary and
    Morgan the manager on call. Like tests/tickets/test_paging.py's, but the rotation starts
    today so that "now" (no time travel through the API) falls in tech's shift."""
    team = Team.objects.get(slug="clinical-apps")
    priya = UserFactory(username="it.pshah", first_name="Priya", role="technician")
    rotation = Rotation.objects.create(
        team=team, starts_on=timezone.localdate(), handoff_time=time(0), length_days=7
    )
    for position, user in enumerate([tech, priya]):
        RotationMember.objects.create(rotation=rotation, user=user, position=position)
    team.manager = manager
    team.save()
    for user in (tech, priya, manager):
        user.profile.page_channels = "email"
        user.profile.save()
    return {"team": team, "primary": tech, "secondary": priya, "manager": manager}
