"""The reports' JSON API: the new fields a manager's tools read (too few to judge, "Fixed?" by
team). The rest of the API's behaviour is in tests/api/test_api_reports.py."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User

from tests.reports.conftest import NOW, DataSet

pytestmark = pytest.mark.django_db

RANGE = {"period": "custom", "start": "2026-02-02", "end": "2026-02-15"}


def read(client: Any, user: User, name: str) -> dict[str, Any]:
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/api/reports/{name}/", RANGE)
    assert response.status_code == 200, response.content[:300]
    body: dict[str, Any] = response.json()
    return body


def test_a_rate_says_when_it_is_too_few_to_judge(client, dataset: DataSet):
    body = read(client, dataset.manager, "compliance")
    ed_p1 = body["departments"][0]["by_priority"][0]
    # 2 of 3 on time: under the target, but too few tickets to judge.
    assert ed_p1["response"]["counted"] == 3
    assert (ed_p1["response"]["below_target"], ed_p1["response"]["too_few_to_judge"]) == (
        True, True
    )  # fmt: skip
    overall = body["overall"]["response"]
    assert (overall["met"], overall["counted"]) == (7, 9)
    assert (overall["below_target"], overall["too_few_to_judge"]) == (True, False)


def test_the_api_uses_the_same_minimum_as_the_pages(client, dataset: DataSet, settings):
    settings.HELPDESK = {**settings.HELPDESK, "MIN_TICKETS_TO_JUDGE": 10}
    body = read(client, dataset.manager, "trends")
    assert body["overall"]["response"]["counted"] == 9
    assert body["overall"]["response"]["too_few_to_judge"] is True


def test_technicians_give_fixed_answers_by_team(client, fixed_answers: DataSet):
    body = read(client, fixed_answers.manager, "technicians")
    teams = {row["team"]["slug"]: row for row in body["teams"]}
    assert teams["field-services"] == {
        "team": {"id": teams["field-services"]["team"]["id"], "slug": "field-services",
                 "name": "Field Services"},
        "answered": 5, "still_broken": 3, "still_broken_percent": 60.0,
        "too_few_to_judge": False,
    }  # fmt: skip
    clinical = teams["clinical-apps"]
    assert (clinical["answered"], clinical["still_broken"], clinical["too_few_to_judge"]) == (
        2, 1, True
    )  # fmt: skip
    assert set(teams) == {"field-services", "clinical-apps"}


def test_no_answers_an_empty_list(client, dataset: DataSet):
    assert read(client, dataset.manager, "technicians")["teams"] == []
