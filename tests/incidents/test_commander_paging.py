"""Declaring a major incident pages the team's incident commander ladder once; the ladder
escalates until someone acknowledges (from the page's link or the incident page) and ends when
the incident resolves. The "possible major incident" page lists the cluster's tickets, never a
title that may hold patient data."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.urls import reverse

from departments.models import Department, Team
from incidents.models import Incident
from incidents.services import IncidentError, declare, detect, resolve
from oncall.models import EscalationPolicy, EscalationStep, Rotation, RotationMember
from tests.concurrency import at_once
from tests.conftest import need
from tests.factories import UserFactory
from tests.incidents.conftest import NOW, cluster, ehr, ehr_ticket
from tickets import paging
from tickets.models import Page, PageChain, Ticket, TicketEvent
from tickets.sweep import sla_sweep

pytestmark = pytest.mark.django_db

MESSAGE = "Epic is down: use the downtime forms at the charge nurse desk."


@pytest.fixture
def on_call(tech, manager, commander):
    """Clinical Applications (the EHR's team): tech is primary, Priya secondary, Morgan the
    manager on call; everyone is paged by e-mail."""
    team = Team.objects.get(slug="clinical-apps")
    priya = UserFactory(username="it.pshah", first_name="Priya", role="technician")
    rotation = Rotation.objects.create(team=team, starts_on=date(2026, 12, 7), handoff_time=time(8))
    for position, user in enumerate([tech, priya]):
        RotationMember.objects.create(rotation=rotation, user=user, position=position)
    team.manager = manager
    team.save()
    for user in (tech, priya, manager, commander):
        user.profile.page_channels = "email"
        user.profile.save()
    return team


@pytest.fixture
def commander_ladder(on_call, commander):
    """The manager on call first (re-paged after 5 minutes), then Cam, the named deputy; once."""
    policy = EscalationPolicy.objects.create(
        team=on_call, purpose=EscalationPolicy.Purpose.COMMANDER, repeat_count=1
    )
    EscalationStep.objects.create(
        policy=policy, position=0, target=EscalationStep.Target.MANAGER, repage_minutes=5,
        wait_minutes=10,
    )  # fmt: skip
    EscalationStep.objects.create(
        policy=policy, position=1, target=EscalationStep.Target.USER, user=commander,
        repage_minutes=0, wait_minutes=10,
    )  # fmt: skip
    return policy


def declared(tech, **overrides):
    values = {
        "by": tech,
        "service": "EHR (Epic)",
        "message": MESSAGE,
        "category": ehr(),
        "now": NOW,
    }
    return declare(**(values | overrides))


def commander_pages(incident):
    return list(
        Page.objects.filter(chain_id=incident.commander_chain_id)
        .order_by("created_at", "pk")
        .values_list("recipient__username", "step", "repeat")
    )


def sweep_at(minutes):
    with time_machine.travel(NOW + timedelta(minutes=minutes), tick=False):
        sla_sweep()


def test_declaring_pages_the_commander_ladder_once(tech, commander_ladder):
    incident = declared(tech)
    chain = incident.commander_chain
    assert chain is not None
    assert chain.ticket is None
    assert chain.reason == PageChain.Reason.MAJOR_INCIDENT
    assert chain.status == PageChain.Status.ACTIVE
    assert chain.started_by == tech
    assert PageChain.objects.count() == 1
    assert commander_pages(incident) == [("manager", 0, 0)]
    # Nobody's ticket timeline speaks of it: the chain pages about the incident.
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.PAGE).exists()


def test_the_commander_page_names_the_incident_and_never_its_message(tech, commander_ladder):
    incident = declared(
        tech,
        hospital_wide=False,
        departments=Department.objects.filter(code__in=["ED", "ICU", "OR", "MEDSURG"]).order_by(
            "code"
        ),
    )
    page = Page.objects.get(chain=incident.commander_chain)
    assert paging.deliver(page.pk) == paging.Outcome.SENT
    [email] = mail.outbox
    assert email.subject.startswith(f"PAGE: Major incident {incident.number}: EHR (Epic) down")
    assert "and 1 more" in email.subject  # four units, three named: it goes to a phone
    assert "Emergency Department" in email.body
    assert f"/incidents/{incident.pk}/" in email.body
    assert "downtime forms" not in email.body
    assert "charge nurse" not in email.subject


def test_declaring_again_pages_nobody_again(tech, commander_ladder):
    incident = declared(tech)
    with pytest.raises(IncidentError, match=f"{incident.number} is already open"):
        declared(tech, service="ehr (epic)")  # a retry, typed again
    assert Incident.objects.count() == 1
    assert PageChain.objects.count() == 1


def test_declaring_from_a_ticket_twice_pages_once(tech, commander_ladder):
    ticket = ehr_ticket("ED", minutes_ago=3)
    first = declared(tech, ticket=ticket, service="Epic login")
    with pytest.raises(IncidentError, match=f"{ticket.number} is already part of {first.number}"):
        declared(tech, ticket=ticket, service="Epic sign-in")
    assert PageChain.objects.filter(reason=PageChain.Reason.MAJOR_INCIDENT).count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_declarations_at_once_make_one_incident_paged_once(reference_data, tech):
    need(connection.vendor == "postgresql", "PostgreSQL")
    results = at_once(lambda: declared(tech), lambda: declared(tech))
    refused = [str(result) for result in results if isinstance(result, IncidentError)]
    assert len(refused) == 1, results
    assert sum(isinstance(result, Incident) for result in results) == 1
    assert Incident.objects.count() == 1
    assert PageChain.objects.filter(reason=PageChain.Reason.MAJOR_INCIDENT).count() == 1


def test_the_ladder_repages_then_escalates_then_gives_up(tech, commander_ladder):
    incident = declared(tech)
    sweep_at(4)
    assert commander_pages(incident) == [("manager", 0, 0)]  # the re-page is due at 5
    sweep_at(5)
    assert commander_pages(incident)[-1] == ("manager", 0, 1)
    sweep_at(10)  # no acknowledgement in 10 minutes: the named deputy
    assert commander_pages(incident)[-1] == ("commander", 1, 0)
    sweep_at(15)
    assert len(commander_pages(incident)) == 3  # the deputy's step does not re-page
    sweep_at(20)  # one pass of the ladder, then unanswered
    chain = PageChain.objects.get(pk=incident.commander_chain_id)
    assert chain.status == PageChain.Status.UNANSWERED
    sweep_at(60)
    assert len(commander_pages(incident)) == 3


def test_acknowledging_from_the_incident_page_stops_the_ladder(client, tech, commander_ladder):
    incident = declared(tech)
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        client.force_login(tech)
        response = client.post(reverse("incidents:acknowledge", args=[incident.pk]), follow=True)
    assert "the commander paging has stopped" in response.content.decode()
    chain = PageChain.objects.get(pk=incident.commander_chain_id)
    assert chain.status == PageChain.Status.ACKNOWLEDGED
    assert chain.acknowledged_by == tech
    assert chain.seconds_to_acknowledge == 120
    for minute in range(5, 40, 5):
        sweep_at(minute)
    assert commander_pages(incident) == [("manager", 0, 0)]
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Acknowledged by" in page
    assert "no incident commander escalation policy" not in page


def test_acknowledging_from_the_page_link_stops_the_ladder(client, tech, manager, commander_ladder):
    incident = declared(tech)
    page = Page.objects.get(chain=incident.commander_chain)
    url = reverse("page_acknowledge", args=[paging.ack_token(page)])
    preview = client.get(url).content.decode()
    assert f"Acknowledge Major incident {incident.number}?" in preview
    assert PageChain.objects.get(pk=page.chain_id).status == PageChain.Status.ACTIVE
    done = client.post(url)
    assert done.status_code == 200
    assert f"/incidents/{incident.pk}/" in done.content.decode()
    chain = PageChain.objects.get(pk=page.chain_id)
    assert chain.status == PageChain.Status.ACKNOWLEDGED
    assert chain.acknowledged_by == manager
    assert client.post(url).status_code == 409


def test_resolving_ends_the_ladder(tech, commander_ladder):
    incident = declared(tech)
    resolve(incident=incident, by=tech, resolution="Epic is back.", now=NOW + timedelta(minutes=3))
    chain = PageChain.objects.get(pk=incident.commander_chain_id)
    assert chain.status == PageChain.Status.RESOLVED
    page = Page.objects.get(chain=chain)
    assert page.status == Page.Status.CANCELLED  # never sent: it was still waiting
    sweep_at(30)
    assert len(commander_pages(incident)) == 1


def test_without_a_commander_ladder_the_ticket_ladder_is_paged_and_the_page_says_so(
    client, tech, on_call
):
    incident = declared(tech)
    assert commander_pages(incident) == [("tech", 0, 0)]  # the ticket ladder's primary
    client.force_login(tech)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Paging the incident commander" in page
    assert "has no incident commander escalation policy" in page


def test_the_possible_major_incident_page_lists_the_tickets_without_patient_data(
    reference_data, on_call
):
    tickets = cluster(["ED", "ED", "OR", "OR", "ICU", "ICU", "MEDSURG"])
    Ticket.objects.filter(pk=tickets[1].pk).update(
        title="Smith, John MRN 4455667 chart frozen", phi_suspected=True
    )
    [alert] = detect(now=NOW)
    [page] = Page.objects.filter(chain__reason=PageChain.Reason.POSSIBLE_MAJOR)
    assert paging.deliver(page.pk) == paging.Outcome.SENT
    [email] = mail.outbox
    listed = [ticket.number for ticket in tickets[:3]]
    assert f"Possible major incident: 7 tickets from {alert.unit_count} units" in email.body
    assert all(number in email.body for number in listed)
    assert tickets[3].number not in email.body
    assert "and 4 more" in email.body
    assert "title withheld" in email.body
    assert "Smith" not in email.body
    assert "4455667" not in email.body
    assert tickets[0].title[:20] in email.body  # a title without patient data is shown
