"""The published OpenAPI schema is valid, and the API keeps to it.

drf-spectacular validates the schema it generates. Schemathesis loads the schema from the app
itself (``/api/schema/?format=json`` through ``helpdesk.wsgi.application``) and sends requests
through the WSGI app, inside this test's transaction, as a technician and as a requester (each
with a Bearer token), and the reports also as a manager, who alone gets them:

* explicit examples: every operation's usual answers (2xx, and the 400/403/404/409 the rules
  give), each held to every check;
* generated requests per operation, well-formed and malformed (wrong types, non-numeric ids,
  bad or empty filters, broken credentials), each held to every check schemathesis has: no
  5xx, documented status codes, content types and headers, bodies matching the schema,
  malformed input refused (4xx), well-formed input not refused for its shape, credentials
  not ignored, undocumented methods answered 405.

Generated ids are aimed at rows that exist (the requester's own tickets, another requester's,
an ED P1 and its page chain; teams, categories and departments for the reports' filters) or at
nothing, so requests reach the rules and not only the 404 or the 400.
No operation is skipped: the mutating ones run against this test's rows and roll back with it.
Generation is bounded (EXAMPLES_PER_OPERATION per operation, role and mode, no shrinking) and
seeded, so the run is repeatable and takes a few minutes; SCHEMA_EXAMPLES=100 explores further.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import PositiveDataAcceptanceConfig
from schemathesis.core import NOT_SET
from schemathesis.core.parameters import ParameterLocation

from departments.models import Department, Team
from incidents.downtime import DowntimeNotice, downtime_cancel, downtime_schedule
from incidents.services import declare
from tests.api.conftest import issue_token
from tests.factories import UserFactory
from tickets import paging
from tickets.models import Attachment, Category, PageChain, Ticket
from tickets.priority import Scope
from tickets.services import ticket_claim, ticket_comment, ticket_resolve

pytestmark = pytest.mark.django_db

REPORT_OPERATIONS = [
    "GET /api/reports/",
    "GET /api/reports/compliance/",
    "GET /api/reports/speed/",
    "GET /api/reports/breaches/",
    "GET /api/reports/trends/",
    "GET /api/reports/critical-areas/",
    "GET /api/reports/sources/",
    "GET /api/reports/technicians/",
    "GET /api/reports/incidents/",
]
OPERATIONS = [
    "GET /api/",
    "GET /api/tickets/",
    "POST /api/tickets/",
    "GET /api/tickets/{id}/",
    "PATCH /api/tickets/{id}/",
    "GET /api/tickets/{id}/timeline/",
    "GET /api/tickets/{id}/attachments/",
    "GET /api/tickets/{id}/attachments/{attachment}/",
    "POST /api/tickets/{id}/claim/",
    "POST /api/tickets/take-next/",
    "POST /api/tickets/{id}/assign/",
    "POST /api/tickets/{id}/reply/",
    "POST /api/tickets/{id}/internal-note/",
    "POST /api/tickets/{id}/transition/",
    "POST /api/tickets/{id}/resolve/",
    "POST /api/tickets/{id}/reopen/",
    "POST /api/tickets/{id}/change-priority/",
    "POST /api/tickets/{id}/link/",
    "POST /api/tickets/{id}/redact/",
    "POST /api/tickets/{id}/fixed/",
    "GET /api/departments/",
    "GET /api/locations/",
    "GET /api/categories/",
    "GET /api/teams/",
    "GET /api/on-call/",
    "GET /api/pages/",
    "POST /api/pages/{id}/acknowledge/",
    "GET /api/incidents/",
    "POST /api/incidents/",
    "GET /api/incidents/{id}/",
    "POST /api/incidents/{id}/updates/",
    "POST /api/incidents/{id}/resolve/",
    "POST /api/incidents/{id}/me-too/",
    "GET /api/downtimes/",
    "POST /api/downtimes/",
    "GET /api/downtimes/{id}/",
    "POST /api/downtimes/{id}/cancel/",
    *REPORT_OPERATIONS,
]
ROLES = ["technician", "requester"]
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMA_EXAMPLES", "20"))
load_all_checks()
EVERY_CHECK = CHECKS.get_all()


def test_spectacular_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.read_text().startswith("openapi: 3.")


@pytest.fixture(scope="session")
def openapi(django_db_setup: None, django_db_blocker: Any) -> Any:
    """The schema as a client gets it: from the running app, through every middleware."""
    from helpdesk.wsgi import application

    with django_db_blocker.unblock():
        return with_refusals(
            schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
        )


@pytest.fixture(scope="session")
def openapi_json(openapi: Any) -> Any:
    """The same schema with JSON request bodies only: the API's contract for integrations, and
    the only encoding malformed bodies (arrays, nulls) can be sent in."""
    raw = copy.deepcopy(openapi.raw_schema)
    for operations in raw["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content")
            if content:
                operation["requestBody"]["content"] = {
                    "application/json": content["application/json"]
                }
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = openapi.app
    return with_refusals(schema)


def with_refusals(schema: Any) -> Any:
    """Well-formed requests the rules refuse are answers too. A request can fit the schema and
    still be refused by the ticket's state (reopening an open ticket, acknowledging an ended
    chain: 400 or 409) or by a reference to a row that does not exist (a category slug, a
    report's department: 400 naming the field); the schema cannot say which rows exist or what
    state a ticket is in. These refusals are documented for each operation and
    status_code_conformance holds them to that; positive_data_acceptance still catches any
    other refusal of a well-formed request (405, 406, 415, 422...)."""
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=["2xx", "400", "401", "403", "404", "409"]
    )
    return schema


@pytest.fixture(autouse=True)
def _wsgi_requests_share_the_test_transaction() -> Iterator[None]:
    """Django's WSGI handler closes "old" connections as each request starts and ends; inside
    the test's transaction that would throw the transaction away (PostgreSQL). Django's own
    test client disconnects the same handler for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_schema_lists_every_operation(openapi):
    labels = [result.ok().label for result in openapi.get_all_operations()]
    assert sorted(labels) == sorted(OPERATIONS)


def enum_type_mismatches(node: Any, path: str = "") -> Iterator[str]:
    kinds = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}
    if isinstance(node, dict):
        expected = kinds.get(node.get("type", ""))
        if "enum" in node and expected:
            for value in node["enum"]:
                if value is not None and not isinstance(value, expected):
                    yield f"{path}: {value!r} is not {node['type']}"
        for key, value in node.items():
            yield from enum_type_mismatches(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from enum_type_mismatches(value, f"{path}/{index}")


def test_every_enum_matches_its_type(openapi):
    assert list(enum_type_mismatches(openapi.raw_schema)) == []


@dataclass
class Scene:
    rows: dict[str, int]
    tokens: dict[str, str]
    # The ids a report filter names, by query parameter.
    filters: dict[str, list[int]] = field(default_factory=dict)

    @property
    def tickets(self) -> list[int]:
        return [self.rows[name] for name in ("own", "resolved", "theirs", "p1")]

    @property
    def chains(self) -> list[int]:
        return [self.rows["chain"]]


@pytest.fixture
def scene(
    nurse_medsurg, nurse_ed, outsider, tech, manager, on_call_team, file_ticket, attachments_dir
) -> Scene:
    """The requester's open ticket and her resolved one, another requester's, one Priya has
    taken, an ED P1 that is paging the on-call technician, and one whose response is late (for
    the breach report)."""
    own = file_ticket(nurse_medsurg)
    resolved = file_ticket(nurse_medsurg, title="Label printer offline")
    ticket_resolve(ticket=resolved, actor=tech, code=Ticket.ResolutionCode.FIXED)
    theirs = file_ticket(outsider, title="Badge tap fails")
    claimed = file_ticket(nurse_medsurg, title="Monitor flickers")
    ticket_claim(ticket=claimed, user=on_call_team["secondary"])
    p1 = file_ticket(
        nurse_ed, location="ED", category=Category.objects.get(slug="ehr"),
        care_delayed=True, workaround=False, scope=Scope.UNIT,
    )  # fmt: skip
    late = file_ticket(outsider, title="Scanner offline")
    Ticket.objects.filter(pk=late.pk).update(
        response_due_at=late.created_at, response_breached_at=late.created_at
    )
    soon = timezone.now() + timedelta(days=2)
    ed_downtime = downtime_schedule(
        notice=DowntimeNotice(service="ED tracking board", reason="Upgrade", starts_at=soon,
                              length=timedelta(hours=1),
                              departments=[Department.objects.get(code="ED")]),
        by=tech,
    )  # fmt: skip
    everyone_downtime = downtime_schedule(
        notice=DowntimeNotice(service="EHR (Epic)", reason="Upgrade", starts_at=soon,
                              length=timedelta(hours=2), hospital_wide=True),
        by=tech,
    )  # fmt: skip
    log = SimpleUploadedFile("scanner.log", b"10:01 scanner offline\n")
    ticket_comment(ticket=own, author=nurse_medsurg, text="The log", attachments=[log])
    incident = declare(by=tech, service="EHR (Epic)", message="Epic is down.", category=p1.category)
    ed_incident = declare(
        by=tech, service="ED Wi-Fi", message="Wi-Fi is down in the ED.", category=p1.category,
        hospital_wide=False, departments=[Department.objects.get(code="ED")],
    )  # fmt: skip
    rows = {"incident": incident.pk, "ed_incident": ed_incident.pk,
            "own": own.pk, "resolved": resolved.pk, "theirs": theirs.pk, "claimed": claimed.pk,
            "p1": p1.pk, "chain": PageChain.objects.get(ticket=p1).pk, "missing": 0,
            "attachment": Attachment.objects.get(ticket=own).pk,
            "downtime_ed": ed_downtime.pk, "downtime_all": everyone_downtime.pk}  # fmt: skip
    tokens = {"technician": issue_token(tech), "requester": issue_token(nurse_medsurg),
              "manager": issue_token(manager)}  # fmt: skip
    filters = {"team": list(Team.objects.values_list("pk", flat=True)),
               "category": list(Category.objects.values_list("pk", flat=True)),
               "department": list(Department.objects.values_list("pk", flat=True))}  # fmt: skip
    return Scene(rows, tokens, filters)


def headers_for(scene: Scene, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    return {"Authorization": f"Bearer {scene.tokens[role]}"}


@pytest.mark.parametrize("label", OPERATIONS)
def test_every_operation_documents_refusing_a_caller(openapi, label):
    """Every operation can answer 401 (no or bad credentials) and 429 (a token over its rate,
    see test_api_access.py): both must be in the schema."""
    responses = openapi.find_operation_by_label(label).definition.raw["responses"]
    assert {"401", "429"} <= set(responses)


# Explicit examples: each operation's usual answers.


@dataclass
class Example:
    label: str
    role: str
    status: int
    target: str | None = None  # a key of Scene.rows for {id}
    body: Any = NOT_SET
    query: dict[str, Any] = field(default_factory=dict)
    before: Callable[[Scene], None] | None = None


def filing(**overrides: Any) -> dict[str, Any]:
    return {"category": "printers", "title": "Wristband printer jams", "callback": "x4567",
            "location": "MEDSURG", "care_delayed": False, "scope": "me", "workaround": True,
            **overrides}  # fmt: skip


def downtime(**overrides: Any) -> dict[str, Any]:
    return {"service": "PACS", "reason": "Vendor patch", "departments": ["RAD"],
            "starts_at": "2030-06-02T02:00", "length_minutes": 90, **overrides}  # fmt: skip


def cancelled(scene: Scene) -> None:
    downtime_cancel(downtime_id=scene.rows["downtime_all"], by=UserFactory(role="technician"))


def acknowledged(scene: Scene) -> None:
    paging.acknowledge(chain_id=scene.rows["chain"], user=UserFactory(role="technician"), via="api")


T, R, M = "technician", "requester", "manager"
EXAMPLES = [
    Example("GET /api/", R, 200),
    Example("GET /api/tickets/", T, 200),
    Example("GET /api/tickets/", R, 200, query={"open_only": "false"}),
    Example("GET /api/tickets/", T, 200, query={"status": "new", "view": "critical"}),
    Example("GET /api/tickets/", T, 400, query={"department": 999999}),
    Example("GET /api/tickets/", T, 404, query={"cursor": "bm9wZQ"}),
    Example("GET /api/tickets/", T, 404, query={"cursor": "cD1nYXJiYWdl"}),
    Example("POST /api/tickets/", R, 201, body=filing()),
    Example("POST /api/tickets/", R, 400, body=filing(title="")),
    Example("POST /api/tickets/", R, 400, body=filing(department="ED")),
    Example("GET /api/tickets/{id}/", R, 200, "own"),
    Example("GET /api/tickets/{id}/", R, 200, "resolved"),
    Example("GET /api/tickets/{id}/", R, 404, "theirs"),
    Example("GET /api/tickets/{id}/", T, 404, "missing"),
    Example("PATCH /api/tickets/{id}/", R, 200, "own", body={"callback": "x1"}),
    Example("PATCH /api/tickets/{id}/", R, 400, "own", body={"title": "Mine now"}),
    Example("PATCH /api/tickets/{id}/", T, 400, "own", body={"status": "closed"}),
    Example("PATCH /api/tickets/{id}/", T, 400, "own", body={"category": "nope"}),
    Example("PATCH /api/tickets/{id}/", R, 404, "theirs", body={"callback": "x1"}),
    Example("GET /api/tickets/{id}/timeline/", R, 200, "own"),
    Example("GET /api/tickets/{id}/timeline/", T, 200, "p1"),
    Example("GET /api/tickets/{id}/timeline/", R, 404, "theirs"),
    Example("GET /api/tickets/{id}/attachments/", R, 200, "own"),
    Example("GET /api/tickets/{id}/attachments/", T, 200, "own"),
    Example("GET /api/tickets/{id}/attachments/", R, 404, "theirs"),
    Example("GET /api/tickets/{id}/attachments/{attachment}/", R, 200, "own"),
    Example("GET /api/tickets/{id}/attachments/{attachment}/", T, 200, "own"),
    Example("GET /api/tickets/{id}/attachments/{attachment}/", R, 404, "theirs"),
    Example("POST /api/tickets/{id}/claim/", T, 200, "own"),
    Example("POST /api/tickets/{id}/claim/", T, 409, "claimed"),
    Example("POST /api/tickets/{id}/claim/", T, 400, "resolved"),
    Example("POST /api/tickets/{id}/claim/", R, 403, "own"),
    Example("POST /api/tickets/take-next/", T, 200, body={}),
    Example("POST /api/tickets/take-next/", T, 204, body={"view": "mine"}),
    Example("POST /api/tickets/take-next/", T, 400, body={"view": "all of it"}),
    Example("POST /api/tickets/take-next/", R, 403, body={}),
    Example("POST /api/tickets/{id}/assign/", T, 200, "own", body={"team": "service-desk"}),
    Example("POST /api/tickets/{id}/assign/", T, 400, "own", body={}),
    Example("POST /api/tickets/{id}/assign/", T, 400, "own", body={"assignee": "nobody"}),
    Example("POST /api/tickets/{id}/assign/", R, 403, "own", body={"team": "service-desk"}),
    Example("POST /api/tickets/{id}/reply/", R, 200, "own", body={"text": "Still jammed"}),
    Example("POST /api/tickets/{id}/reply/", R, 400, "own", body={"text": ""}),
    Example("POST /api/tickets/{id}/internal-note/", T, 200, "own", body={"text": "RMA"}),
    Example("POST /api/tickets/{id}/internal-note/", R, 403, "own", body={"text": "RMA"}),
    Example("POST /api/tickets/{id}/transition/", T, 200, "own", body={"status": "in_progress"}),
    Example("POST /api/tickets/{id}/transition/", R, 400, "own", body={"status": "resolved"}),
    Example("POST /api/tickets/{id}/transition/", T, 400, "own", body={"status": "gone"}),
    Example("POST /api/tickets/{id}/resolve/", T, 200, "own", body={"code": "fixed"}),
    Example("POST /api/tickets/{id}/resolve/", T, 400, "own", body={"code": "duplicate"}),
    Example("POST /api/tickets/{id}/resolve/", R, 403, "own", body={"code": "fixed"}),
    Example("POST /api/tickets/{id}/reopen/", R, 200, "resolved"),
    Example("POST /api/tickets/{id}/reopen/", R, 400, "own"),
    Example("POST /api/tickets/{id}/change-priority/", T, 200, "own",
            body={"priority": 3, "reason": "Two printers down"}),
    Example("POST /api/tickets/{id}/change-priority/", T, 400, "own", body={"priority": 3}),
    Example("POST /api/tickets/{id}/change-priority/", R, 403, "own",
            body={"priority": 3, "reason": "Please"}),
    Example("POST /api/tickets/{id}/link/", T, 200, "own",
            body={"other": "HD-1001", "kind": "duplicate"}),
    Example("POST /api/tickets/{id}/link/", T, 400, "own", body={"other": "x", "kind": "related"}),
    Example("POST /api/tickets/{id}/redact/", R, 200, "own",
            body={"target": "title", "passage": "Wristband"}),
    Example("POST /api/tickets/{id}/redact/", R, 400, "resolved",
            body={"target": "title", "passage": "Label"}),
    Example("POST /api/tickets/{id}/redact/", T, 400, "own",
            body={"target": "description", "passage": "Wristband"}),
    Example("POST /api/tickets/{id}/redact/", R, 404, "theirs",
            body={"target": "title", "passage": "Badge"}),
    Example("POST /api/tickets/{id}/fixed/", R, 200, "resolved", body={"fixed": True}),
    Example("POST /api/tickets/{id}/fixed/", R, 400, "resolved", body={"fixed": False}),
    Example("POST /api/tickets/{id}/fixed/", R, 400, "own", body={"fixed": True}),
    Example("POST /api/tickets/{id}/fixed/", R, 404, "theirs", body={"fixed": True}),
    Example("GET /api/departments/", R, 200),
    Example("GET /api/locations/", R, 200, query={"kind": "unit"}),
    Example("GET /api/locations/", R, 400, query={"kind": "bed"}),
    Example("GET /api/categories/", R, 200),
    Example("GET /api/teams/", R, 200),
    Example("GET /api/on-call/", R, 200),
    Example("GET /api/on-call/", "anonymous", 401),
    Example("GET /api/pages/", T, 200),
    Example("GET /api/pages/", T, 200, query={"status": "acknowledged"}, before=acknowledged),
    Example("GET /api/pages/", T, 400, query={"status": "paused"}),
    Example("GET /api/pages/", T, 404, query={"cursor": "bm9wZQ"}),
    Example("GET /api/pages/", T, 404, query={"cursor": "cD1nYXJiYWdl"}),
    Example("GET /api/pages/", R, 403),
    Example("POST /api/pages/{id}/acknowledge/", T, 200, "chain"),
    Example("POST /api/pages/{id}/acknowledge/", T, 409, "chain", before=acknowledged),
    Example("POST /api/pages/{id}/acknowledge/", T, 404, "missing"),
    Example("POST /api/pages/{id}/acknowledge/", R, 403, "chain"),
    Example("GET /api/incidents/", R, 200),
    Example("GET /api/incidents/", T, 200),
    Example("POST /api/incidents/", T, 201,
            body={"service": "PACS", "category": "pacs", "message": "Images do not load."}),
    Example("POST /api/incidents/", T, 400, body={"service": "PACS", "category": "pacs",
            "message": "Down.", "hospital_wide": False}),
    Example("POST /api/incidents/", R, 403,
            body={"service": "PACS", "category": "pacs", "message": "Images do not load."}),
    Example("GET /api/incidents/{id}/", R, 200, "incident"),
    Example("GET /api/incidents/{id}/", R, 404, "ed_incident"),
    Example("POST /api/incidents/{id}/updates/", T, 200, "incident", body={"text": "Restarting."}),
    Example("POST /api/incidents/{id}/updates/", T, 400, "incident", body={"text": ""}),
    Example("POST /api/incidents/{id}/updates/", R, 403, "incident", body={"text": "Mine"}),
    Example("POST /api/incidents/{id}/resolve/", T, 200, "incident", body={"resolution": "Back."}),
    Example("POST /api/incidents/{id}/resolve/", T, 404, "missing", body={"resolution": "Back."}),
    Example("POST /api/incidents/{id}/resolve/", R, 403, "incident", body={"resolution": "x"}),
    Example("POST /api/incidents/{id}/me-too/", R, 201, "incident", body={"callback": "x4411"}),
    Example("POST /api/incidents/{id}/me-too/", R, 404, "ed_incident", body={}),
    Example("GET /api/downtimes/", R, 200),
    Example("GET /api/downtimes/", T, 200),
    Example("POST /api/downtimes/", T, 201, body=downtime()),
    Example("POST /api/downtimes/", T, 400, body=downtime(starts_at="2030-03-10T02:30")),
    Example("POST /api/downtimes/", T, 400, body=downtime(departments=[])),
    Example("POST /api/downtimes/", R, 403, body=downtime()),
    Example("GET /api/downtimes/{id}/", R, 200, "downtime_all"),
    Example("GET /api/downtimes/{id}/", R, 404, "downtime_ed"),
    Example("GET /api/downtimes/{id}/", T, 200, "downtime_ed"),
    Example("POST /api/downtimes/{id}/cancel/", T, 200, "downtime_all"),
    Example("POST /api/downtimes/{id}/cancel/", T, 400, "downtime_all", before=cancelled),
    Example("POST /api/downtimes/{id}/cancel/", T, 404, "missing"),
    Example("POST /api/downtimes/{id}/cancel/", R, 403, "downtime_all"),
    Example("GET /api/reports/", M, 200),
    Example("GET /api/reports/", T, 404),
    *[
        example
        for label in REPORT_OPERATIONS[1:]
        for example in (
            Example(label, M, 200),
            Example(label, M, 200, query={"period": "7", "priority": 1}),
            Example(label, M, 400, query={"period": "12"}),
            Example(label, M, 400, query={"start": "2026-02-15", "end": "2026-02-02"}),
            Example(label, T, 404),
            Example(label, R, 404),
        )
    ],
    Example("GET /api/reports/breaches/", M, 200, query={"page": 2}),
    Example("GET /api/reports/breaches/", M, 400, query={"page": 0}),
    # Every operation refuses an anonymous caller with a documented 401.
    *[
        Example(label, "anonymous", 401, target=None if "{id}" not in label
                else "chain" if label.startswith("POST /api/pages/")
                else "incident" if "/api/incidents/" in label else "own")
        for label in OPERATIONS
        if label != "GET /api/on-call/"
    ],
]  # fmt: skip


def example_params() -> list[Any]:
    params = []
    for example in EXAMPLES:
        name = f"{example.label}-{example.role}-{example.status}"
        if example.target:
            name += f"-{example.target}"
        if example.query:
            name += "-" + "&".join(f"{k}={v}" for k, v in example.query.items())
        if (
            isinstance(example.body, dict)
            and example.body
            and example.label != "POST /api/tickets/"
        ):
            name += "-" + ",".join(f"{k}={v}" for k, v in example.body.items())
        elif example.label == "POST /api/tickets/" and example.status == 400:
            name += "-" + ("blank title" if example.body["title"] == "" else "names a department")
        params.append(pytest.param(example, id=name))
    return params


def test_the_examples_cover_every_operation():
    assert {example.label for example in EXAMPLES if example.role != "anonymous"} == set(OPERATIONS)


@pytest.mark.parametrize("example", example_params())
def test_explicit_examples_keep_to_the_schema(openapi, scene, example):
    if example.before:
        example.before(scene)
    operation = openapi.find_operation_by_label(example.label)
    body = example.body
    if isinstance(body, dict) and body.get("other") == "HD-1001":
        body = {**body, "other": f"HD-{scene.rows['theirs'] + 1000}"}
    path = {"id": scene.rows[example.target]} if example.target else {}
    if "{attachment}" in example.label:
        path["attachment"] = scene.rows["attachment"]
    case = operation.Case(
        path_parameters=path,
        query=example.query,
        body=body,
        media_type="application/json" if body is not NOT_SET else None,
    )
    response = case.call_and_validate(headers=headers_for(scene, example.role), checks=EVERY_CHECK)
    assert response.status_code == example.status, response.text[:300]


# Generated requests.


def aimed(value: Any, pool: list[int]) -> Any:
    """A generated integer as an existing row's id, or as no row at all."""
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    index = value % (len(pool) + 1)
    return pool[index] if index < len(pool) else -abs(value)


def aim(case: Any, scene: Scene) -> None:
    """Point generated ids (a path's, a report filter's) at existing rows, or at none."""
    if "id" in case.path_parameters:
        pool = (
            scene.chains
            if case.path.startswith("/api/pages/")
            else [scene.rows["incident"], scene.rows["ed_incident"]]
            if case.path.startswith("/api/incidents/")
            else scene.tickets
        )
        case.path_parameters["id"] = aimed(case.path_parameters["id"], pool)
    if "attachment" in case.path_parameters:
        case.path_parameters["attachment"] = aimed(
            case.path_parameters["attachment"], [scene.rows["attachment"]]
        )
    for name, pool in scene.filters.items():
        if name in case.query:
            case.query[name] = aimed(case.query[name], pool)


def credentials(case: Any, role_headers: dict[str, str]) -> dict[str, str]:
    """The caller's token, unless the case is malformed in its headers: the only header the
    API documents is Authorization, so the case's own (missing or broken) credentials are sent,
    to be refused as documented (401) instead of quietly replaced by a good token."""
    header = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    if header is not None and header.mode.is_negative:
        return {}
    return role_headers


def explore(openapi: Any, scene: Scene, label: str, role: str, mode: GenerationMode,
            checks: list[Callable[..., Any]]) -> None:  # fmt: skip
    operation = openapi.find_operation_by_label(label)
    headers = headers_for(scene, role)

    @seed(20261128)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        aim(case, scene)
        case.call_and_validate(headers=credentials(case, headers), checks=checks)

    run()


def params() -> list[Any]:
    """Every operation as a technician and a requester; the reports also as a manager, the one
    role that gets past their 404."""
    return [
        pytest.param(label, role, id=f"{label}-{role}")
        for label in OPERATIONS
        for role in ROLES + ([M] if label in REPORT_OPERATIONS else [])
    ]


@pytest.mark.parametrize(("label", "role"), params())
def test_well_formed_requests_get_documented_answers(openapi, scene, label, role):
    explore(openapi, scene, label, role, GenerationMode.POSITIVE, EVERY_CHECK)  # fmt: skip


@pytest.mark.parametrize(("label", "role"), params())
def test_malformed_requests_get_documented_answers(openapi_json, scene, label, role):
    explore(openapi_json, scene, label, role, GenerationMode.NEGATIVE, EVERY_CHECK)  # fmt: skip
