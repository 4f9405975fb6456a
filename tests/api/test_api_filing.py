"""POST /api/tickets/: retries are safe, the department rule holds, and bad input files nothing.

The department is never the caller's to choose: it is the location's, and the ED/OR rule
escalates by it. Machine accounts (role "integration") may name a department instead of a
location; people may not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from departments.models import Department, Location
from tests.factories import UserFactory
from tickets.models import Category, Page, PageChain, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

URL = "/api/tickets/"


def filing(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "printers",
        "title": "Wristband printer jams",
        "callback": "x4567",
        "location": "MEDSURG",
        "care_delayed": False,
        "scope": "me",
        "workaround": True,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def post(client: Any, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(URL, body, format="json", **headers)


# Idempotency-Key


def test_the_same_key_twice_files_once(api, nurse_medsurg):
    client = api(nurse_medsurg, token=True)
    first = post(client, filing(), key="retry-7f3a")
    second = post(client, filing(), key="retry-7f3a")
    assert first.status_code == 201
    assert second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert second.json() == {**first.json(), "updated_at": second.json()["updated_at"]}
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.FILED).count() == 1


def test_a_retry_with_a_different_body_still_returns_the_first_ticket(api, nurse_medsurg):
    """The key identifies the attempt, whatever the retry carries."""
    client = api(nurse_medsurg, token=True)
    first = post(client, filing(), key="k1")
    again = post(client, filing(title="Something else"), key="k1")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["title"] == "Wristband printer jams"


def test_a_different_key_files_a_second_ticket(api, nurse_medsurg):
    client = api(nurse_medsurg, token=True)
    first = post(client, filing(), key="k1")
    second = post(client, filing(), key="k2")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert Ticket.objects.count() == 2


@pytest.mark.parametrize("key", [None, "", "   "], ids=["no header", "empty", "blank"])
def test_without_a_key_each_post_files_a_ticket(api, nurse_medsurg, key):
    client = api(nurse_medsurg, token=True)
    statuses = [post(client, filing(), key=key).status_code for _ in range(3)]
    assert statuses == [201, 201, 201]
    assert Ticket.objects.count() == 3
    assert not Ticket.objects.exclude(idempotency_key=None).exists()


def test_keys_are_per_caller(api, nurse_medsurg, outsider):
    """Two integrations that happen to use the same key do not get each other's ticket."""
    mine = post(api(nurse_medsurg, token=True), filing(), key="shared")
    theirs = post(api(outsider, token=True), filing(), key="shared")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert Ticket.objects.get(pk=theirs.json()["id"]).requester == outsider


def test_the_same_key_by_session_and_by_token_is_the_same_caller(api, nurse_medsurg):
    first = post(api(nurse_medsurg), filing(), key="k1")
    second = post(api(nurse_medsurg, token=True), filing(), key="k1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert Ticket.objects.count() == 1


def test_an_api_key_never_collides_with_a_form_key(api, client, nurse_medsurg):
    client.force_login(nurse_medsurg)
    client.post(
        reverse("file_ticket"),
        {
            "category": Category.objects.get(slug="printers").pk,
            "title": "From the form",
            "callback": "x4567",
            "location": Location.objects.get(code="MEDSURG").pk,
            "care_delayed": "no",
            "scope": "me",
            "workaround": "yes",
            "idempotency_key": "k1",
        },
    )
    response = post(api(nurse_medsurg, token=True), filing(), key="k1")
    assert response.status_code == 201
    assert Ticket.objects.count() == 2


@pytest.mark.parametrize(("length", "status"), [(56, 201), (57, 400)])
def test_key_length(api, nurse_medsurg, length, status):
    response = post(api(nurse_medsurg, token=True), filing(), key="k" * length)
    assert response.status_code == status
    if status == 400:
        assert response.json() == {
            "detail": "Idempotency-Key must be at most 56 printable ASCII characters."
        }
        assert not Ticket.objects.exists()


def test_a_key_with_a_control_character_is_refused(api, nurse_medsurg):
    response = post(api(nurse_medsurg, token=True), filing(), key="retry\x00")
    assert response.status_code == 400
    assert not Ticket.objects.exists()


# The department rule


def test_a_machine_account_files_for_the_ed_as_p1_and_pages(api, integration, on_call_team):
    response = post(
        api(integration, token=True),
        filing(
            location=None,
            department="ED",
            category="ehr",
            title="Epic interface down: no ADT messages for 10 minutes",
            care_delayed=True,
            workaround=False,
            scope="me",
        ),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["location"] == "ED"  # the department's main unit
    assert body["department"] == "ED"
    assert body["priority"] == 1
    assert body["auto_escalated"] is True
    ticket = Ticket.objects.get(pk=body["id"])
    assert ticket.requester.username == "solarwinds"
    assert ticket.matrix_priority == 3
    chain = PageChain.objects.get(ticket=ticket)
    assert chain.reason == PageChain.Reason.P1_FILED
    assert chain.status == PageChain.Status.ACTIVE
    assert chain.team == on_call_team["team"]
    assert list(Page.objects.filter(chain=chain).values_list("recipient__username", flat=True)) == [
        "tech"
    ]
    escalated = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert escalated.text == (
        "Escalated from P3 to P1: Emergency Department escalates automatically "
        "(care is delayed with no workaround)."
    )


def test_a_machine_account_files_an_ed_p2_from_low_answers_without_paging(
    api, integration, on_call_team
):
    response = post(
        api(integration, token=True),
        filing(location=None, department="ED", category="ehr", care_delayed=False,
               workaround=True, scope="me"),
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["location"], body["priority"], body["auto_escalated"]) == ("ED", 2, True)
    ticket = Ticket.objects.get(pk=body["id"])
    assert ticket.matrix_priority == 5
    # Care is not delayed: an ED P2 waits for its response target like any other ticket.
    assert not PageChain.objects.filter(ticket=ticket).exists()


def test_a_machine_account_files_an_ed_p2_with_care_delayed_and_pages(
    api, integration, on_call_team
):
    response = post(
        api(integration, token=True),
        filing(location=None, department="ED", category="ehr", care_delayed=True,
               workaround=True, scope="me"),
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["priority"], body["auto_escalated"]) == (2, True)
    ticket = Ticket.objects.get(pk=body["id"])
    chain = PageChain.objects.get(ticket=ticket)
    assert chain.reason == PageChain.Reason.CRITICAL_AREA
    assert Page.objects.filter(chain=chain, recipient=on_call_team["primary"]).exists()


def test_a_machine_account_in_a_quiet_department_is_not_escalated(api, integration):
    response = post(api(integration, token=True), filing(location=None, department="MEDSURG"))
    body = response.json()
    assert (body["location"], body["priority"], body["auto_escalated"]) == ("MEDSURG", 5, False)
    assert not PageChain.objects.exists()


def test_a_machine_account_may_name_a_location_in_its_department(api, integration):
    ward = Location.objects.create(
        department=Department.objects.get(code="ED"), code="ED-TRIAGE-2", name="Triage 2",
        kind=Location.Kind.ROOM,
    )  # fmt: skip
    response = post(api(integration, token=True), filing(location=ward.code, department="ED"))
    assert response.status_code == 201
    assert (response.json()["location"], response.json()["priority"]) == ("ED-TRIAGE-2", 2)


def test_a_machine_account_cannot_mix_departments(api, integration):
    response = post(api(integration, token=True), filing(location="MEDSURG", department="ED"))
    assert response.status_code == 400
    assert response.json() == {"location": ["This location is not in that department."]}
    assert not Ticket.objects.exists()


def test_a_department_without_an_active_unit_cannot_be_filed_for(api, integration):
    Location.objects.filter(department__code="ED").update(is_active=False)
    response = post(api(integration, token=True), filing(location=None, department="ED"))
    assert response.status_code == 400
    assert response.json() == {"department": ["This department has no unit to file for."]}
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("location", [None, "MEDSURG"], ids=["instead of", "as well as"])
def test_a_person_cannot_name_a_department(api, nurse_medsurg, location):
    """A nurse on Med-Surg cannot make her printer an ED ticket (and page the ED on-call)."""
    response = post(
        api(nurse_medsurg, token=True),
        filing(location=location, department="ED", care_delayed=True, workaround=False),
    )
    assert response.status_code == 400
    assert response.json() == {
        "department": ["People file for a location; only machine accounts may name a department."]
    }
    assert not Ticket.objects.exists()
    assert not PageChain.objects.exists()


@pytest.mark.parametrize("role", ["requester", "technician"])
def test_a_person_must_say_where(api, reference_data, role):
    user = UserFactory(role=role)
    response = post(api(user, token=True), filing(location=None))
    assert response.status_code == 400
    assert response.json() == {"location": ["Say where the problem is."]}
    assert not Ticket.objects.exists()


@pytest.fixture
def wow_ed_07(reference_data: None) -> Location:
    return Location.objects.create(
        department=Department.objects.get(code="ED"),
        code="WOW-ED-07",
        name="Workstation on wheels 7",
        kind=Location.Kind.WORKSTATION,
    )


@pytest.mark.parametrize(
    ("care_delayed", "workaround", "scope", "priority"),
    [
        (True, False, "unit", 1),
        (True, True, "me", 2),
        (False, True, "me", 2),
        (False, False, "several", 1),
        (False, False, "me", 2),
    ],
)
def test_a_nurse_at_an_ed_workstation_escalates_exactly_as_the_form_does(
    api, client, nurse_ed, wow_ed_07, care_delayed, workaround, scope, priority
):
    answers = {"care_delayed": care_delayed, "workaround": workaround, "scope": scope}
    response = post(api(nurse_ed, token=True), filing(location="WOW-ED-07", **answers))
    assert response.status_code == 201, response.content
    by_api = Ticket.objects.get(pk=response.json()["id"])

    client.force_login(nurse_ed)
    client.post(
        reverse("file_ticket"),
        {
            "category": Category.objects.get(slug="printers").pk,
            "title": "Wristband printer jams",
            "callback": "x4567",
            "location": wow_ed_07.pk,
            "care_delayed": "yes" if care_delayed else "no",
            "workaround": "yes" if workaround else "no",
            "scope": scope,
            "idempotency_key": "form-1",
        },
    )
    by_form = Ticket.objects.exclude(pk=by_api.pk).get()

    compared = ["department_id", "location_id", "team_id", "urgency", "impact",
                "matrix_priority", "priority", "auto_escalated", "response_target_seconds",
                "resolution_target_seconds", "sla_calendar_id"]  # fmt: skip
    assert {f: getattr(by_api, f) for f in compared} == {f: getattr(by_form, f) for f in compared}
    assert by_api.priority == priority
    assert by_api.department.code == "ED"
    assert by_api.auto_escalated is (by_api.matrix_priority != priority)

    def timeline(ticket: Ticket) -> list[tuple[str, str, str]]:
        return list(ticket.events.order_by("pk").values_list("kind", "new_value", "text"))

    assert timeline(by_api) == timeline(by_form)
    # The one paging rule: a P1 pages at once, an ED P2 only when care is delayed.
    pages_at_once = priority == 1 or care_delayed
    assert PageChain.objects.filter(ticket=by_api).exists() is pages_at_once
    assert PageChain.objects.filter(ticket=by_form).exists() is pages_at_once


# Validation: clear messages, nothing filed


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        pytest.param({"title": None}, {"title": ["This field is required."]}, id="missing title"),
        pytest.param(
            {"title": "   "}, {"title": ["This field may not be blank."]}, id="blank title"
        ),
        pytest.param(
            {"title": "x" * 121},
            {"title": ["Ensure this field has no more than 120 characters."]},
            id="too-long title",
        ),
        pytest.param(
            {"category": "no-such-thing"},
            {"category": ["Object with slug=no-such-thing does not exist."]},
            id="unknown category",
        ),
        pytest.param(
            {"location": "WOW-XX-99"},
            {"location": ["Object with code=WOW-XX-99 does not exist."]},
            id="unknown location",
        ),
        pytest.param(
            {"callback": None}, {"callback": ["This field is required."]}, id="no callback"
        ),
        pytest.param(
            {"care_delayed": None},
            {"care_delayed": ["This field is required."]},
            id="no care answer",
        ),
        pytest.param(
            {"workaround": None}, {"workaround": ["This field is required."]}, id="no workaround"
        ),
        pytest.param(
            {"scope": "everyone"}, {"scope": ['"everyone" is not a valid choice.']}, id="bad scope"
        ),
        pytest.param(
            {"description": "x" * 4001},
            {"description": ["Ensure this field has no more than 4000 characters."]},
            id="too-long description",
        ),
    ],
)
def test_a_bad_filing_is_explained_and_files_nothing(api, nurse_medsurg, overrides, errors):
    response = post(api(nurse_medsurg, token=True), filing(**overrides), key="attempt-1")
    assert response.status_code == 400
    assert response.json() == errors
    assert not Ticket.objects.exists()
    assert not TicketEvent.objects.exists()
    # The key was not used up: the corrected request files.
    assert post(api(nurse_medsurg, token=True), filing(), key="attempt-1").status_code == 201


def test_an_inactive_location_or_category_cannot_be_filed_for(api, nurse_medsurg):
    Location.objects.filter(code="MEDSURG").update(is_active=False)
    Category.objects.filter(slug="ehr").update(is_active=False)
    client = api(nurse_medsurg, token=True)
    assert client.post(URL, filing(), format="json").status_code == 400
    assert client.post(URL, filing(location="ED", category="ehr"), format="json").json() == {
        "category": ["Object with slug=ehr does not exist."]
    }
    assert not Ticket.objects.exists()


def test_the_answer_is_the_filed_ticket(api, nurse_medsurg):
    response = post(api(nurse_medsurg, token=True), filing(description="  Jams on every band.  "))
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["id"] == ticket.pk
    assert body["number"] == ticket.number
    assert body["status"] == "new"
    assert body["requester"] == nurse_medsurg.get_full_name()
    assert body["description"] == "Jams on every band."
    assert body["team"] == "field-services"
    assert body["response_due_at"] is not None


def test_patient_data_in_a_filing_is_flagged(api, nurse_medsurg):
    response = post(
        api(nurse_medsurg, token=True),
        filing(title="Wristband printer jams for MRN 00123456"),
    )
    assert response.json()["phi_suspected"] is True
    assert Ticket.objects.get().events.filter(kind=TicketEvent.Kind.PHI_FLAGGED).exists()


# Filing for another unit


OTHER_UNIT_REFUSAL = {
    "for_other_unit": [
        "ED Main is in the Emergency Department, not your unit. To file for another unit, send "
        '"for_other_unit": true.'
    ]
}


def test_a_nurse_filing_for_another_units_location_must_say_so(api, nurse_medsurg):
    response = post(
        api(nurse_medsurg, token=True),
        filing(location="ED", care_delayed=True, workaround=False),
        key="float-1",
    )
    assert response.status_code == 400
    assert response.json() == OTHER_UNIT_REFUSAL
    assert not Ticket.objects.exists()
    assert not PageChain.objects.exists()


def test_saying_so_files_for_the_other_unit_and_records_it(api, nurse_medsurg):
    response = post(
        api(nurse_medsurg, token=True), filing(location="ED", for_other_unit=True), key="float-1"
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert (ticket.department.code, ticket.priority, ticket.auto_escalated) == ("ED", 2, True)
    assert ticket.filed_for_other_unit is True
    assert list(ticket.events.filter(kind=TicketEvent.Kind.OTHER_UNIT).values_list("text")) == [
        ("Filed for another unit: ED Main (Emergency Department).",)
    ]
    timeline = api(nurse_medsurg, token=True).get(f"{URL}{ticket.pk}/timeline/").json()
    said = [event["text"] for event in timeline if event["kind"] == "other_unit"]
    assert said == ["Filed for another unit: ED Main (Emergency Department)."]


def test_saying_so_for_her_own_unit_records_nothing(api, nurse_medsurg):
    response = post(api(nurse_medsurg, token=True), filing(for_other_unit=True))
    assert response.status_code == 201
    assert Ticket.objects.get().filed_for_other_unit is False
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.OTHER_UNIT).exists()


def test_for_other_unit_must_be_a_boolean(api, nurse_medsurg):
    response = post(api(nurse_medsurg, token=True), filing(location="ED", for_other_unit="maybe"))
    assert response.status_code == 400
    assert response.json() == {"for_other_unit": ["Must be a valid boolean."]}
    assert not Ticket.objects.exists()


def test_it_staff_file_for_any_unit_without_saying_so(api, tech):
    response = post(api(tech, token=True), filing(location="ED"))
    assert response.status_code == 201
    assert Ticket.objects.get().filed_for_other_unit is False


def test_a_machine_account_files_for_any_location_as_before(api, integration):
    response = post(api(integration, token=True), filing(location="ED"))
    assert response.status_code == 201
    assert Ticket.objects.get().filed_for_other_unit is False


# The filing limit: one counter per person, shared with the form


@pytest.fixture
def three_an_hour(settings: Any) -> None:
    settings.HELPDESK = {**settings.HELPDESK, "FILING_RATE": "3/hour"}


FILED_AT = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def test_over_the_filing_limit_the_api_answers_429_with_retry_after(
    api, nurse_medsurg, three_an_hour
):
    with time_machine.travel(FILED_AT, tick=False) as clock:
        client = api(nurse_medsurg, token=True)
        assert [post(client, filing()).status_code for _ in range(3)] == [201, 201, 201]
        clock.shift(timedelta(minutes=20))
        refused = post(client, filing(), key="fourth")
        assert refused.status_code == 429
        # By the sliding hour's count (the last hour's filings spread over it) one more fits at
        # 04:20, an hour from now: it says so, and it is true.
        assert refused["Retry-After"] == "3600"
        assert refused.json() == {
            "detail": "This account has filed 3 tickets in the last hour, the most one person "
            "may; nothing was filed. Expected available in 3600 seconds."
        }
        assert Ticket.objects.count() == 3

        clock.shift(timedelta(seconds=3599))
        assert post(client, filing(), key="fourth").status_code == 429
        clock.shift(timedelta(seconds=1))
        assert post(client, filing(), key="fourth").status_code == 201


def test_the_form_and_the_api_share_one_filing_limit(api, client, nurse_medsurg, three_an_hour):
    form = {
        "category": Category.objects.get(slug="printers").pk,
        "title": "From the form",
        "callback": "x4567",
        "location": Location.objects.get(code="MEDSURG").pk,
        "care_delayed": "no",
        "scope": "me",
        "workaround": "yes",
    }
    with time_machine.travel(FILED_AT, tick=False):
        client.force_login(nurse_medsurg)
        statuses = [
            client.post(reverse("file_ticket"), {**form, "idempotency_key": f"f{n}"}).status_code
            for n in range(2)
        ]
        assert statuses == [302, 302]
        assert post(api(nurse_medsurg, token=True), filing()).status_code == 201
        assert post(api(nurse_medsurg, token=True), filing()).status_code == 429
        over = client.post(reverse("file_ticket"), {**form, "idempotency_key": "f3"})
        assert over.status_code == 429
    assert Ticket.objects.count() == 3


def test_the_filing_limit_is_per_person(api, nurse_medsurg, outsider, three_an_hour):
    with time_machine.travel(FILED_AT, tick=False):
        for _ in range(3):
            post(api(nurse_medsurg, token=True), filing())
        assert post(api(nurse_medsurg, token=True), filing()).status_code == 429
        assert post(api(outsider, token=True), filing()).status_code == 201


def test_a_machine_account_has_the_same_limit(api, integration, three_an_hour):
    with time_machine.travel(FILED_AT, tick=False):
        client = api(integration, token=True)
        statuses = [post(client, filing(location=None, department="HIM")).status_code
                    for _ in range(4)]  # fmt: skip
    assert statuses == [201, 201, 201, 429]


def test_the_filing_limit_counts_filings_only(api, nurse_medsurg, three_an_hour):
    """Reading tickets does not use up the filing limit."""
    client = api(nurse_medsurg, token=True)
    for _ in range(5):
        assert client.get(URL).status_code == 200
    assert post(client, filing()).status_code == 201
