"""Escalation policies in admin: a team's incident commander ladder beside its ticket ladder,
one of each."""

from __future__ import annotations

import pytest
from django.urls import reverse

from departments.models import Team
from oncall.models import EscalationPolicy, EscalationStep
from tests.admin_forms import form_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

ADD = "admin:oncall_escalationpolicy_add"


def commander_ladder_form(admin_client, team: Team) -> dict[str, list[str]]:
    data = form_data(admin_client.get(reverse(ADD)).text, "escalationpolicy_form")
    data |= {
        "team": [str(team.pk)],
        "purpose": [EscalationPolicy.Purpose.COMMANDER],
        "repeat_count": ["1"],
        "steps-TOTAL_FORMS": ["1"],
        "steps-0-position": ["0"],
        "steps-0-target": [EscalationStep.Target.MANAGER],
        "steps-0-user": [""],
        "steps-0-repage_minutes": ["5"],
        "steps-0-wait_minutes": ["10"],
    }
    return data


def test_an_administrator_adds_a_commander_ladder_beside_the_ticket_ladder(admin_client):
    team = Team.objects.get(slug="clinical-apps")
    response = admin_client.post(reverse(ADD), commander_ladder_form(admin_client, team))
    assert response.status_code == 302
    policies = dict(team.escalation_policies.values_list("purpose", "repeat_count"))
    assert policies == {"tickets": 2, "commander": 1}
    commander = team.escalation_policies.get(purpose=EscalationPolicy.Purpose.COMMANDER)
    assert list(commander.steps.values_list("target", "wait_minutes")) == [("manager", 10)]
    listing = admin_client.get(reverse("admin:oncall_escalationpolicy_changelist")).text
    assert "Incident commander" in listing


def test_a_team_has_one_commander_ladder(admin_client):
    team = Team.objects.get(slug="clinical-apps")
    admin_client.post(reverse(ADD), commander_ladder_form(admin_client, team))
    again = admin_client.post(reverse(ADD), commander_ladder_form(admin_client, team))
    assert again.status_code == 200
    assert "already exists" in again.text
    assert team.escalation_policies.filter(purpose="commander").count() == 1


def test_the_ticket_ladder_is_edited_as_before(admin_client):
    policy = EscalationPolicy.objects.get(team__slug="clinical-apps", purpose="tickets")
    change = reverse("admin:oncall_escalationpolicy_change", args=[policy.pk])
    data = form_data(admin_client.get(change).text, "escalationpolicy_form")
    data["repeat_count"] = ["3"]
    assert admin_client.post(change, data).status_code == 302
    policy.refresh_from_db()
    assert policy.repeat_count == 3
    assert policy.purpose == EscalationPolicy.Purpose.TICKETS
