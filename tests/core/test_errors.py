"""Under /api/ every error is JSON ({"detail": ...}, as DRF writes its own), whatever failed and
wherever; the site's pages keep their HTML error pages."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.conftest import bearer, issue_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def assert_json_error(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}


@pytest.fixture
def tech_client(client, reference_data):
    client.force_login(UserFactory(role="technician"))
    return client


@pytest.mark.parametrize(
    "path", ["/api/tickets/1.5/", "/api/nothing-here/", "/api/tickets/7/unknown/", "/api/x"]
)
def test_a_path_no_api_route_matches_is_a_json_404(tech_client, path):
    for method in ("get", "post", "put", "delete"):
        assert_json_error(getattr(tech_client, method)(path), 404)


def test_a_path_no_page_matches_keeps_the_html_404(tech_client):
    response = tech_client.get("/tickets/1.5/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_method_an_api_route_does_not_take_is_a_json_405(tech_client):
    assert_json_error(tech_client.delete("/api/tickets/"), 405)
    assert_json_error(tech_client.put("/api/teams/"), 405)


def test_a_session_post_without_its_csrf_token_is_a_json_403(reference_data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role="technician"))
    response = client.post("/api/tickets/take-next/", {}, content_type="application/json")
    assert_json_error(response, 403)
    assert "CSRF" in response.json()["detail"]


def test_a_server_error_under_the_api_is_json(reference_data, monkeypatch):
    def broken(now):
        raise RuntimeError("the rota table is gone")

    monkeypatch.setattr("oncall.api.on_call_board", broken)
    client = Client(raise_request_exception=False)
    token = bearer(issue_token(UserFactory(role="technician")))
    response = client.get("/api/on-call/", **token)
    assert_json_error(response, 500)
    assert "rota" not in response.content.decode()


def test_a_server_error_on_a_page_keeps_the_html_500(reference_data, monkeypatch):
    def broken(now):
        raise RuntimeError("the rota table is gone")

    monkeypatch.setattr("oncall.views.on_call_board", broken)
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(role="technician"))
    response = client.get("/on-call/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
