"""/api/ answers with the API's resources, and the schema can be read in a browser while clients
still get it as they ask for it."""

from __future__ import annotations

import json

import pytest
import yaml

pytestmark = pytest.mark.django_db

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_the_root_links_every_resource_and_the_docs(api, nurse_medsurg):
    response = api(nurse_medsurg, token=True).get("/api/")
    assert response.status_code == 200
    links = response.json()
    assert links["docs"] == "http://testserver/api/docs/"
    assert links["tickets"] == "http://testserver/api/tickets/"
    assert links["on_call"] == "http://testserver/api/on-call/"
    assert links["reports"] == "http://testserver/api/reports/"
    for url in links.values():
        path = url.removeprefix("http://testserver")
        assert api(nurse_medsurg).get(path).status_code in (200, 403, 404), path


def test_the_root_refuses_an_anonymous_caller_like_the_rest(api):
    response = api().get("/api/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_a_browser_sees_the_schema_as_text(client):
    response = client.get("/api/schema/", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("inline;")
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


@pytest.mark.parametrize(
    ("query", "accept", "content_type"),
    [
        ({}, "*/*", "application/vnd.oai.openapi"),
        ({}, "application/json", "application/json"),
        ({"format": "json"}, BROWSER_ACCEPT, "application/vnd.oai.openapi+json"),
        ({"format": "yaml"}, BROWSER_ACCEPT, "application/vnd.oai.openapi"),
    ],
)
def test_clients_get_the_schema_as_they_ask(client, query, accept, content_type):
    response = client.get("/api/schema/", query, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == content_type
    loaded = (
        json.loads(response.content) if "json" in content_type else yaml.safe_load(response.content)
    )
    assert "/api/tickets/" in loaded["paths"]


def test_the_schema_documents_the_root(client, reference_data):
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    assert "get" in schema["paths"]["/api/"]
