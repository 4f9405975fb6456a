"""Who may call what: every endpoint against every role, by session and by token.

Anonymous callers get 401 (the schema and its docs page are public). A requester asking for
another requester's ticket gets 404, exactly as the pages answer, so ticket numbers reveal
nothing. A role without the action gets 403. Everyone else gets the 2xx the action promises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from departments.api_auth import TokenRateThrottle
from departments.models import ApiToken
from tests.api.conftest import bearer, issue_token
from tests.factories import UserFactory
from tickets.models import Category, PageChain, Ticket, TicketEvent
from tickets.priority import Scope
from tickets.services import ticket_set_status

pytestmark = pytest.mark.django_db


@dataclass
class World:
    """Two requesters' tickets (one open, one resolved each) and an ED P1 being paged."""

    mine: Ticket
    mine_resolved: Ticket
    theirs: Ticket
    theirs_resolved: Ticket
    chain: PageChain


@pytest.fixture
def world(nurse_medsurg, outsider, nurse_ed, tech, file_ticket) -> World:
    mine = file_ticket(nurse_medsurg, title="Wristband printer jams")
    mine_resolved = file_ticket(nurse_medsurg, title="Label printer offline")
    theirs = file_ticket(outsider, title="Badge tap fails at the med room")
    theirs_resolved = file_ticket(outsider, title="Monitor flickers")
    for ticket in (mine_resolved, theirs_resolved):
        ticket_set_status(ticket=ticket, actor=tech, status=Ticket.Status.RESOLVED)
    p1 = file_ticket(
        nurse_ed,
        location="ED",
        category=Category.objects.get(slug="ehr"),
        title="Epic frozen on all triage PCs",
        care_delayed=True,
        workaround=False,
        scope=Scope.UNIT,
    )
    return World(mine, mine_resolved, theirs, theirs_resolved, PageChain.objects.get(ticket=p1))


def filing(**overrides: Any) -> dict[str, Any]:
    body = {
        "category": "printers",
        "title": "Wristband printer jams",
        "callback": "x4567",
        "location": "MEDSURG",
        "care_delayed": False,
        "scope": "me",
        "workaround": True,
    }
    body.update(overrides)
    return body


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {ticket} is the target ticket, {chain} the page chain
    body: dict[str, Any] | None = None
    # Which ticket "own" and "other" point at: an open one, or a resolved one (reopen).
    target: str = "open"


ENDPOINTS = {
    "list tickets": Endpoint("get", "/api/tickets/"),
    "file a ticket": Endpoint("post", "/api/tickets/", filing()),
    "one ticket": Endpoint("get", "/api/tickets/{ticket}/"),
    "change details": Endpoint("patch", "/api/tickets/{ticket}/", {"callback": "Vocera Erin"}),
    "timeline": Endpoint("get", "/api/tickets/{ticket}/timeline/"),
    "claim": Endpoint("post", "/api/tickets/{ticket}/claim/"),
    "take next": Endpoint("post", "/api/tickets/take-next/", {}),
    "assign": Endpoint("post", "/api/tickets/{ticket}/assign/", {"team": "service-desk"}),
    "reply": Endpoint("post", "/api/tickets/{ticket}/reply/", {"text": "Still jamming."}),
    "internal note": Endpoint(
        "post", "/api/tickets/{ticket}/internal-note/", {"text": "Vendor case 01873345"}
    ),
    "transition": Endpoint(
        "post", "/api/tickets/{ticket}/transition/", {"status": "cancelled", "note": "Filed twice"}
    ),
    "resolve": Endpoint("post", "/api/tickets/{ticket}/resolve/", {"code": "fixed"}),
    "reopen": Endpoint("post", "/api/tickets/{ticket}/reopen/", target="resolved"),
    "change priority": Endpoint(
        "post",
        "/api/tickets/{ticket}/change-priority/",
        {"priority": 2, "reason": "The whole unit prints wristbands here"},
    ),
    "link": Endpoint("post", "/api/tickets/{ticket}/link/", {"other": "{p1}", "kind": "related"}),
    "departments": Endpoint("get", "/api/departments/"),
    "locations": Endpoint("get", "/api/locations/"),
    "categories": Endpoint("get", "/api/categories/"),
    "teams": Endpoint("get", "/api/teams/"),
    "on call": Endpoint("get", "/api/on-call/"),
    "pages": Endpoint("get", "/api/pages/"),
    "acknowledge": Endpoint("post", "/api/pages/{chain}/acknowledge/"),
    "schema": Endpoint("get", "/api/schema/?format=json"),
    "docs": Endpoint("get", "/api/docs/"),
}

# Expected status per caller. "own": the requester on her own ticket; "other": the same
# requester on another requester's ticket (None where the endpoint names no ticket).
ROLES = ("anonymous", "own", "other", "technician", "manager")
EXPECTED = {
    #                    anonymous  own  other  technician  manager
    "list tickets":      (401,      200, None,  200,        200),
    "file a ticket":     (401,      201, None,  201,        201),
    "one ticket":        (401,      200, 404,   200,        200),
    "change details":    (401,      200, 404,   200,        200),
    "timeline":          (401,      200, 404,   200,        200),
    "claim":             (401,      403, 404,   200,        200),
    "take next":         (401,      403, None,  200,        200),
    "assign":            (401,      403, 404,   200,        200),
    "reply":             (401,      200, 404,   200,        200),
    "internal note":     (401,      403, 404,   200,        200),
    "transition":        (401,      200, 404,   200,        200),
    "resolve":           (401,      403, 404,   200,        200),
    "reopen":            (401,      200, 404,   200,        200),
    "change priority":   (401,      403, 404,   200,        200),
    "link":              (401,      403, 404,   200,        200),
    "departments":       (401,      200, None,  200,        200),
    "locations":         (401,      200, None,  200,        200),
    "categories":        (401,      200, None,  200,        200),
    "teams":             (401,      200, None,  200,        200),
    "on call":           (401,      200, None,  200,        200),
    "pages":             (401,      403, None,  200,        200),
    "acknowledge":       (401,      403, None,  200,        200),
    "schema":            (200,      200, None,  200,        200),
    "docs":              (200,      200, None,  200,        200),
}  # fmt: skip


def test_the_table_covers_every_endpoint():
    assert set(EXPECTED) == set(ENDPOINTS)


def cases() -> list[Any]:
    params = []
    for name, statuses in EXPECTED.items():
        for role, status in zip(ROLES, statuses, strict=True):
            if status is None:
                continue
            for via in ("session", "token") if role != "anonymous" else ("nobody",):
                params.append(pytest.param(name, role, via, status, id=f"{name}-{role}-{via}"))
    return params


def call(client: APIClient, endpoint: Endpoint, world: World, role: str) -> Any:
    if role == "other":
        ticket = world.theirs_resolved if endpoint.target == "resolved" else world.theirs
    else:
        ticket = world.mine_resolved if endpoint.target == "resolved" else world.mine
    path = endpoint.path.format(ticket=ticket.pk, chain=world.chain.pk)
    body = None
    if endpoint.body is not None:
        body = {
            key: value.format(p1=world.chain.ticket.number) if isinstance(value, str) else value
            for key, value in endpoint.body.items()
        }
    return getattr(client, endpoint.method)(path, body, format="json")


@pytest.mark.parametrize(("name", "role", "via", "expected"), cases())
def test_access(api, world, nurse_medsurg, tech, manager, name, role, via, expected):
    user = {"own": nurse_medsurg, "other": nurse_medsurg, "technician": tech, "manager": manager}
    client = api(user.get(role), token=via == "token")
    response = call(client, ENDPOINTS[name], world, role)
    assert response.status_code == expected, response.content[:300]
    if expected == 401:
        assert response.json() == {"detail": "Authentication credentials were not provided."}
        assert response["WWW-Authenticate"] == "Bearer"
    elif expected in (403, 404):
        assert set(response.json()) == {"detail"}


def test_out_of_scope_calls_change_nothing(api, world, nurse_medsurg):
    """Every 404 above is a refusal, not a 404 after the fact."""
    client = api(nurse_medsurg, token=True)
    before = list(TicketEvent.objects.filter(ticket=world.theirs).values_list("pk", flat=True))
    for name, endpoint in ENDPOINTS.items():
        if EXPECTED[name][ROLES.index("other")] == 404:
            call(client, endpoint, world, "other")
    world.theirs.refresh_from_db()
    assert world.theirs.status == Ticket.Status.NEW
    assert world.theirs.callback == "x4567"
    assert world.theirs.assignee is None
    assert world.theirs.priority == 5
    after = list(TicketEvent.objects.filter(ticket=world.theirs).values_list("pk", flat=True))
    assert after == before


def test_a_requesters_token_lists_only_her_tickets(api, world, nurse_medsurg):
    client = api(nurse_medsurg, token=True)
    listed = client.get("/api/tickets/", {"open_only": "false"}).json()["results"]
    assert {row["id"] for row in listed} == {world.mine.pk, world.mine_resolved.pk}
    # Searching for another requester's number does not find it either.
    found = client.get("/api/tickets/", {"q": world.theirs.number}).json()["results"]
    assert found == []


def test_a_technicians_token_lists_every_open_ticket(api, world, tech):
    listed = api(tech, token=True).get("/api/tickets/").json()["results"]
    assert {row["id"] for row in listed} == {world.mine.pk, world.theirs.pk, world.chain.ticket_id}


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer hd_not-a-real-token", id="garbage"),
        pytest.param("Bearer ", id="empty"),
        pytest.param("Bearer hd_", id="prefix only"),
    ],
)
def test_a_bad_token_is_401(nurse_medsurg, header):
    response = APIClient().get("/api/tickets/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_is_401(nurse_medsurg):
    token, raw = ApiToken.issue(user=nurse_medsurg, name="phone app")
    client = APIClient()
    assert client.get("/api/tickets/", **bearer(raw)).status_code == 200
    token.revoked_at = timezone.now()
    token.save()
    response = client.get("/api/tickets/", **bearer(raw))
    assert response.status_code == 401
    assert response.json() == {"detail": "This token is not valid or was revoked."}


def test_an_inactive_users_token_is_401(nurse_medsurg):
    raw = issue_token(nurse_medsurg)
    nurse_medsurg.is_active = False
    nurse_medsurg.save()
    response = APIClient().get("/api/tickets/", **bearer(raw))
    assert response.status_code == 401


def test_a_bad_token_is_refused_even_where_anonymous_is_allowed(reference_data):
    """The schema is public, but a caller who sends a token that does not work is told so."""
    response = APIClient().get("/api/schema/", HTTP_AUTHORIZATION="Bearer hd_nope")
    assert response.status_code == 401


def test_a_token_records_when_it_was_last_used(nurse_medsurg):
    token, raw = ApiToken.issue(user=nurse_medsurg, name="phone app")
    APIClient().get("/api/tickets/", **bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_a_token_made_and_revoked_on_the_account_page(client, nurse_medsurg, world):
    """The path a person takes: make a token at /account/, use it, revoke it there."""
    client.force_login(nurse_medsurg)
    page = client.post(reverse("account"), {"name": "my phone"}).content.decode()
    raw = re.search(r'<code class="token">(hd_[^<]+)</code>', page).group(1)
    api = APIClient()
    listed = api.get("/api/tickets/", **bearer(raw)).json()["results"]
    assert {row["id"] for row in listed} == {world.mine.pk}
    # The token is shown once: the account page never shows it again.
    assert raw not in client.get(reverse("account")).content.decode()
    token = ApiToken.objects.get(user=nurse_medsurg)
    client.post(reverse("revoke_token", args=[token.pk]))
    assert api.get("/api/tickets/", **bearer(raw)).status_code == 401


def test_nobody_can_revoke_someone_elses_token(client, nurse_medsurg, outsider):
    token, raw = ApiToken.issue(user=outsider, name="their phone")
    client.force_login(nurse_medsurg)
    assert client.post(reverse("revoke_token", args=[token.pk])).status_code == 404
    assert APIClient().get("/api/tickets/", **bearer(raw)).status_code == 200


def test_tokens_are_throttled_and_people_in_the_browser_are_not(api, nurse_medsurg, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    token = api(nurse_medsurg, token=True)
    assert [token.get("/api/tickets/").status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = token.get("/api/departments/")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Request was throttled.")
    assert int(refused["Retry-After"]) > 0
    browser = api(nurse_medsurg)
    assert {browser.get("/api/tickets/").status_code for _ in range(6)} == {200}


def test_a_session_post_needs_the_csrf_token(nurse_medsurg):
    """Session auth is for the browser, so a cross-site POST without the CSRF token is refused;
    a token caller has no cookie to ride on and needs none."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(nurse_medsurg)
    response = client.post("/api/tickets/", filing(), format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Ticket.objects.exists()
    tokened = APIClient(enforce_csrf_checks=True)
    response = tokened.post(
        "/api/tickets/", filing(), format="json", **bearer(issue_token(nurse_medsurg))
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/tickets/{ticket}/claim/", None),
        ("post", "/api/tickets/take-next/", {}),
        ("post", "/api/tickets/{ticket}/internal-note/", {"text": "hello"}),
        ("get", "/api/pages/", None),
        ("post", "/api/pages/{chain}/acknowledge/", None),
    ],
)
def test_a_machine_account_is_not_it_staff(
    api, integration, world, file_ticket, method, path, body
):
    ticket = file_ticket(integration, title="Interface engine queue backing up")
    client = api(integration, token=True)
    url = path.format(ticket=ticket.pk, chain=world.chain.pk)
    assert getattr(client, method)(url, body, format="json").status_code == 403


# Malformed ids. The router accepts any path segment, so a non-numeric id must be a 404 like any
# other id that names nothing, never a crash.
DETAIL_ENDPOINTS = [
    ("get", "/api/tickets/{id}/", None),
    ("patch", "/api/tickets/{id}/", {"callback": "x1"}),
    ("get", "/api/tickets/{id}/timeline/", None),
    ("post", "/api/tickets/{id}/claim/", None),
    ("post", "/api/tickets/{id}/assign/", {"team": "service-desk"}),
    ("post", "/api/tickets/{id}/reply/", {"text": "hello"}),
    ("post", "/api/tickets/{id}/internal-note/", {"text": "hello"}),
    ("post", "/api/tickets/{id}/transition/", {"status": "cancelled"}),
    ("post", "/api/tickets/{id}/resolve/", {"code": "fixed"}),
    ("post", "/api/tickets/{id}/reopen/", None),
    ("post", "/api/tickets/{id}/change-priority/", {"priority": 2, "reason": "because"}),
    ("post", "/api/tickets/{id}/link/", {"other": "{p1}", "kind": "related"}),
    ("post", "/api/pages/{id}/acknowledge/", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param(*row, id=f"{row[0]} {row[1]}")
        for row in DETAIL_ENDPOINTS
    ],
)  # fmt: skip
def test_a_non_numeric_id_is_404(api, world, tech, method, path, body):
    client = api(tech, token=True)
    if body and body.get("other") == "{p1}":
        body = {**body, "other": world.chain.ticket.number}
    response = getattr(client, method)(path.format(id="HD-1001"), body, format="json")
    assert response.status_code == 404


def test_assign_reveals_nothing_to_a_requester(api, world, nurse_medsurg):
    client = api(nurse_medsurg, token=True)
    exists = client.post(f"/api/tickets/{world.mine.pk}/assign/", {"assignee": "tech"})
    missing = client.post(f"/api/tickets/{world.mine.pk}/assign/", {"assignee": "no.such.person"})
    assert exists.status_code == missing.status_code == 403
    other = client.post(f"/api/tickets/{world.theirs.pk}/assign/", {"assignee": "no.one"})
    assert other.status_code == 404


def test_the_schema_and_docs_are_public_and_describe_both_logins(reference_data):
    schema = APIClient().get("/api/schema/?format=json").json()
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"
    docs = APIClient().get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    # Only the docs page relaxes the style policy (Swagger UI sets inline styles).
    assert "'unsafe-inline'" in docs["Content-Security-Policy"]
    tickets = APIClient().get("/api/tickets/", **bearer(issue_token(UserFactory(role="requester"))))
    assert "'unsafe-inline'" not in tickets.get("Content-Security-Policy", "")
