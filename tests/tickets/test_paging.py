"""Page chains walk the escalation ladder until someone acknowledges; acknowledge links are
safe against previews, forgery, expiry and reuse; delivery is exactly once per page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from departments.models import Location, Team
from oncall.models import Rotation, RotationMember, RotationOverride
from tests.database_clock import let_pass
from tests.factories import UserFactory
from tickets import paging
from tickets.models import Category, Page, PageChain, Ticket, TicketEvent
from tickets.priority import Scope
from tickets.services import (
    ticket_assign,
    ticket_claim,
    ticket_file,
    ticket_set_status,
    ticket_take_next,
)
from tickets.sweep import sla_sweep

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
FILED = datetime(2026, 11, 20, 14, 0, tzinfo=CHICAGO)


@pytest.fixture
def on_call_team(tech, manager):
    """Clinical Applications: tech is primary this week, Priya secondary, Morgan the manager."""
    team = Team.objects.get(slug="clinical-apps")
    priya = UserFactory(username="it.pshah", first_name="Priya", role="technician")
    rotation = Rotation.objects.create(
        team=team, starts_on=date(2026, 11, 16), handoff_time=time(8), length_days=7
    )
    for position, user in enumerate([tech, priya]):
        RotationMember.objects.create(rotation=rotation, user=user, position=position)
    team.manager = manager
    team.save()
    for user in (tech, priya, manager):
        user.profile.page_channels = "email"
        user.profile.save()
    return {"team": team, "primary": tech, "secondary": priya, "manager": manager}


def file_p1(requester, when=FILED, description=""):
    with time_machine.travel(when, tick=False):
        return ticket_file(
            requester=requester,
            location=Location.objects.get(code="ED"),
            category=Category.objects.get(slug="ehr"),
            title="Epic frozen on all triage PCs",
            callback="x4410",
            care_delayed=True,
            scope=Scope.UNIT,
            workaround=False,
            description=description,
        ).ticket


def pages(ticket, **filters):
    return list(
        Page.objects.filter(ticket=ticket, **filters)
        .order_by("created_at", "pk")
        .values_list("recipient__username", "step", "round", "repeat")
    )


def sweep_at(minutes):
    return sla_sweep(now=FILED + timedelta(minutes=minutes))


def test_p1_pages_the_primary_at_once(nurse_ed, on_call_team):
    ticket = file_p1(nurse_ed)
    chain = PageChain.objects.get(ticket=ticket)
    assert chain.reason == PageChain.Reason.P1_FILED
    assert chain.status == PageChain.Status.ACTIVE
    assert pages(ticket) == [("tech", 0, 0, 0)]
    event = ticket.events.get(kind=TicketEvent.Kind.PAGE)
    assert event.text == f"Paged {on_call_team['primary'].get_full_name()}, primary on call."


def test_ladder_repages_then_escalates_then_gives_up(nurse_ed, on_call_team):
    ticket = file_p1(nurse_ed)
    chain = PageChain.objects.get(ticket=ticket)
    sweep_at(4)
    assert len(pages(ticket)) == 1  # nothing due before the 5-minute re-page
    sweep_at(5)
    sweep_at(10)
    assert pages(ticket) == [("tech", 0, 0, 0), ("tech", 0, 0, 1), ("tech", 0, 0, 2)]
    sweep_at(15)  # no acknowledgement in 15 minutes: the secondary
    assert pages(ticket)[-1] == ("it.pshah", 1, 0, 0)
    assert ticket.events.filter(kind=TicketEvent.Kind.PAGE_ESCALATED).count() == 1
    for minute in (20, 25, 30):
        sweep_at(minute)
    assert pages(ticket)[-1] == ("manager", 2, 0, 0)  # 30 minutes: the manager on call
    for minute in range(35, 95, 5):
        sweep_at(minute)
    chain.refresh_from_db()
    assert chain.status == PageChain.Status.UNANSWERED
    assert ticket.events.filter(kind=TicketEvent.Kind.PAGE_UNANSWERED).count() == 1
    recipients_in_order = [row[0] for row in pages(ticket) if row[3] == 0]
    assert recipients_in_order == ["tech", "it.pshah", "manager"] * 2
    count = len(pages(ticket))
    sweep_at(200)
    assert len(pages(ticket)) == count


def test_a_repage_missed_while_no_sweep_ran_goes_out_once_late(nurse_ed, on_call_team):
    """Both beats were down from minute 1 to minute 12: the re-pages due at 5 and 10 come back
    as one page at 12, and she gets her re-page interval from then, not a second page at the
    next sweep. The step still ends on time (15), with the secondary."""
    ticket = file_p1(nurse_ed)
    sweep_at(12)
    assert pages(ticket) == [("tech", 0, 0, 0), ("tech", 0, 0, 1)]
    sweep_at(12.1)
    sweep_at(14)
    assert pages(ticket) == [("tech", 0, 0, 0), ("tech", 0, 0, 1)]
    sweep_at(15)
    assert pages(ticket)[-1] == ("it.pshah", 1, 0, 0)


def test_acknowledgement_stops_everything(nurse_ed, on_call_team, tech):
    ticket = file_p1(nurse_ed)
    chain = PageChain.objects.get(ticket=ticket)
    with time_machine.travel(FILED + timedelta(minutes=3), tick=False):
        paging.acknowledge(chain_id=chain.pk, user=tech, via="ticket page")
    chain.refresh_from_db()
    ticket.refresh_from_db()
    assert chain.status == PageChain.Status.ACKNOWLEDGED
    assert chain.seconds_to_acknowledge == 180
    assert ticket.assignee == tech
    assert ticket.status == Ticket.Status.ASSIGNED
    assert ticket.first_response_at is not None
    assert ticket.response_met is True
    assert Page.objects.filter(ticket=ticket, status=Page.Status.CANCELLED).count() == 1
    for minute in range(5, 60, 5):
        sweep_at(minute)
    assert len(pages(ticket)) == 1
    with pytest.raises(paging.PagingError, match="Already acknowledged by"):
        paging.acknowledge(chain_id=chain.pk, user=tech, via="ticket page")


def test_a_page_written_before_the_ack_is_not_sent_after_it(nurse_ed, on_call_team, tech):
    ticket = file_p1(nurse_ed)
    chain = PageChain.objects.get(ticket=ticket)
    page = Page.objects.get(ticket=ticket)
    paging.acknowledge(chain_id=chain.pk, user=tech, via="api")
    assert paging.deliver(page.pk) == paging.Outcome.SKIPPED
    assert not mail.outbox


def test_resolving_ends_the_chain(nurse_ed, on_call_team, tech):
    ticket = file_p1(nurse_ed)
    with time_machine.travel(FILED + timedelta(minutes=2), tick=False):
        ticket_set_status(ticket=ticket, actor=tech, status=Ticket.Status.RESOLVED)
    chain = PageChain.objects.get(ticket=ticket)
    assert chain.status == PageChain.Status.RESOLVED
    sweep_at(30)
    assert len(pages(ticket)) == 1


def test_response_breach_starts_a_chain(nurse_medsurg, on_call_team):
    with time_machine.travel(FILED, tick=False):
        ticket = ticket_file(
            requester=nurse_medsurg,
            location=Location.objects.get(code="MEDSURG"),
            category=Category.objects.get(slug="ehr"),
            title="Epic slow on 4 North",
            callback="x4630",
            care_delayed=True,
            scope=Scope.SEVERAL,
            workaround=True,
        ).ticket
    assert ticket.priority == 2
    assert not PageChain.objects.filter(ticket=ticket).exists()  # Med-Surg does not page at P2
    result = sweep_at(31)
    assert result.chains_started == 1
    assert PageChain.objects.get(ticket=ticket).reason == PageChain.Reason.RESPONSE_BREACH


def test_override_pages_the_person_covering(nurse_ed, on_call_team, outsider):
    cover = UserFactory(username="it.cover", role="technician")
    RotationOverride.objects.create(
        rotation=on_call_team["team"].rotation,
        user=cover,
        starts_at=FILED - timedelta(hours=1),
        ends_at=FILED + timedelta(hours=8),
        reason="Terry off sick",
    )
    ticket = file_p1(nurse_ed)
    # One page per channel the person chose (console and email by default).
    assert pages(ticket) == [("it.cover", 0, 0, 0)] * 2
    assert set(Page.objects.filter(ticket=ticket).values_list("channel", flat=True)) == {
        "console",
        "email",
    }


def test_email_page_carries_no_patient_data(nurse_ed, on_call_team, caplog):
    ticket = file_p1(nurse_ed, description="pt John Smith MRN 00123456 bed 4 wristband")
    assert ticket.phi_suspected
    page = Page.objects.get(ticket=ticket)
    assert paging.deliver(page.pk) == paging.Outcome.SENT
    assert paging.deliver(page.pk) == paging.Outcome.SKIPPED  # twice: sent once
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    text = message.subject + message.body
    assert ticket.number in text
    assert "00123456" not in text
    assert "Smith" not in text
    assert "Epic frozen" not in text  # the title stays home when PHI is suspected
    assert "00123456" not in caplog.text
    assert ticket.events.filter(kind=TicketEvent.Kind.PAGE_SENT).count() == 1


def test_webhook_gateway_failing_three_times_gives_one_delivered_page(
    nurse_ed,
    on_call_team,
    settings,
    webhook_receiver,
):
    settings.HELPDESK_PAGING = {
        **settings.HELPDESK_PAGING,
        "WEBHOOK_URL": webhook_receiver.url,
        "WEBHOOK_SECRET": "s3cret",
    }
    profile = on_call_team["primary"].profile
    profile.page_channels = "webhook"
    profile.save()
    webhook_receiver.configure(statuses=[500, 500, 500])
    ticket = file_p1(nurse_ed)
    page = Page.objects.get(ticket=ticket)
    outcomes = [paging.deliver(page.pk) for _ in range(4)]
    assert outcomes == ["retry", "retry", "retry", "sent"]
    page.refresh_from_db()
    assert (page.status, page.attempts) == (Page.Status.SENT, 4)
    assert webhook_receiver.received_keys() == [page.dedupe_key]
    assert paging.deliver(page.pk) == paging.Outcome.SKIPPED
    assert len(webhook_receiver.requests) == 4


def test_stranded_pages_are_sent_again_by_the_sweep(
    nurse_ed, on_call_team, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = file_p1(nurse_ed)
    page = Page.objects.get(ticket=ticket)
    assert page.status == Page.Status.PENDING  # the broker was down: the row is the outbox
    Page.objects.filter(pk=page.pk).update(
        status=Page.Status.SENDING, claimed_at=FILED + timedelta(seconds=1)
    )  # a worker died mid-delivery
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = sweep_at(3)
    assert result.redelivered >= 1
    assert callbacks
    page.refresh_from_db()
    assert page.status == Page.Status.PENDING
    assert paging.deliver(page.pk) == paging.Outcome.SENT


def test_a_sweep_whose_clock_runs_ahead_takes_no_page_in_flight_and_strands_none(
    nurse_ed, on_call_team, settings, django_capture_on_commit_callbacks
):
    """The host of one sweep jumps two hours ahead. It escalates on its own clock, but how long a
    worker has held a page, or a page has waited for its task, is judged on the database's
    clock: it does not take the page a worker is still sending for stranded (the on-call would
    get it twice), and the page it wrote, dated two hours ahead, is sent again by the next sweep
    on the real clock when its task is lost."""
    with django_capture_on_commit_callbacks(execute=False):  # no task reaches a worker
        ticket = file_p1(nurse_ed, when=timezone.now())
    [page] = Page.objects.filter(ticket=ticket)
    Page.objects.filter(pk=page.pk).update(status=Page.Status.SENDING, claimed_at=Now(), attempts=1)

    with django_capture_on_commit_callbacks(execute=False):
        result = sla_sweep(now=timezone.now() + timedelta(hours=2))
    assert result.chains_advanced == 1
    assert result.redelivered == 0
    page.refresh_from_db()
    assert page.status == Page.Status.SENDING  # still the worker's
    escalated = Page.objects.exclude(pk=page.pk).get(ticket=ticket)
    assert (escalated.status, escalated.step) == (Page.Status.PENDING, 1)

    let_pass(paging.REDELIVER_PENDING_AFTER)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    escalated.refresh_from_db()
    assert (escalated.status, escalated.attempts) == (Page.Status.SENT, 1)
    page.refresh_from_db()
    assert page.status == Page.Status.SENDING  # claimed a minute ago: its worker may answer yet


def test_a_page_stranded_mid_delivery_whose_chain_ended_is_not_left_waiting_forever(
    nurse_ed, on_call_team, broker_down, django_capture_on_commit_callbacks
):
    """The worker died while it sent the page; the primary then claimed the ticket. The sweep
    must not put the page back in the queue (the chain is over, nothing of it goes out) nor
    leave it "waiting to send" for good: it is cancelled, as the chain's pending pages were."""
    with django_capture_on_commit_callbacks(execute=True):
        ticket = file_p1(nurse_ed)
    page = Page.objects.get(ticket=ticket)
    Page.objects.filter(pk=page.pk).update(
        status=Page.Status.SENDING, claimed_at=FILED + timedelta(seconds=1)
    )  # a worker died mid-delivery
    with time_machine.travel(FILED + timedelta(seconds=30), tick=False):
        ticket_claim(ticket=ticket, user=on_call_team["primary"])
    assert PageChain.objects.get(ticket=ticket).status == PageChain.Status.ACKNOWLEDGED
    with django_capture_on_commit_callbacks(execute=True):
        sweep_at(3)
    page.refresh_from_db()
    assert page.status == Page.Status.CANCELLED
    assert not Page.objects.filter(status__in=[Page.Status.PENDING, Page.Status.SENDING]).exists()
    assert paging.deliver(page.pk) == paging.Outcome.SKIPPED
    assert mail.outbox == []


# Acknowledge links


def ack_url(page):
    return reverse("page_acknowledge", args=[paging.ack_token(page)])


def test_ack_link_get_changes_nothing_and_post_acknowledges_once(client, nurse_ed, on_call_team):
    ticket = file_p1(nurse_ed)
    page = Page.objects.get(ticket=ticket)
    url = ack_url(page)
    preview = client.get(url)
    assert preview.status_code == 200
    assert "Acknowledge HD-" in preview.content.decode()
    assert "Epic frozen" not in preview.content.decode()
    assert PageChain.objects.get(ticket=ticket).status == PageChain.Status.ACTIVE
    done = client.post(url)
    assert done.status_code == 200
    assert "Paging for" in done.content.decode()
    chain = PageChain.objects.get(ticket=ticket)
    assert chain.status == PageChain.Status.ACKNOWLEDGED
    assert chain.acknowledged_by == on_call_team["primary"]
    again = client.post(url)
    assert again.status_code == 409
    assert "Already acknowledged by" in again.content.decode()
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ACK).count() == 1


def test_forged_ack_link_is_refused(client, nurse_ed, on_call_team):
    ticket = file_p1(nurse_ed)
    page = Page.objects.get(ticket=ticket)
    forged = paging.ack_token(page)[:-4] + "AAAA"
    response = client.post(reverse("page_acknowledge", args=[forged]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert PageChain.objects.get(ticket=ticket).status == PageChain.Status.ACTIVE


def test_expired_ack_link_is_refused(client, nurse_ed, on_call_team):
    ticket = file_p1(nurse_ed)
    page = Page.objects.get(ticket=ticket)
    with time_machine.travel(FILED, tick=False):
        url = ack_url(page)
    with time_machine.travel(FILED + timedelta(hours=5), tick=False):
        response = client.post(url)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert PageChain.objects.get(ticket=ticket).status == PageChain.Status.ACTIVE


def test_ack_link_needs_csrf_for_the_post(nurse_ed, on_call_team):
    from django.test import Client

    ticket = file_p1(nurse_ed)
    page = Page.objects.get(ticket=ticket)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(ack_url(page)).status_code == 403


# Pages for people


def test_ticket_page_acknowledge_button(client, nurse_ed, on_call_team, tech):
    ticket = file_p1(nurse_ed)
    client.force_login(tech)
    body = client.get(ticket.get_absolute_url()).content.decode()
    assert "Acknowledge page" in body
    response = client.post(reverse("acknowledge_ticket", args=[ticket.pk]), follow=True)
    assert "Acknowledged: the paging has stopped" in response.content.decode()
    assert PageChain.objects.get(ticket=ticket).status == PageChain.Status.ACKNOWLEDGED


def test_nurse_sees_no_paging_controls_and_cannot_page(client, nurse_ed, on_call_team):
    ticket = file_p1(nurse_ed)
    client.force_login(nurse_ed)
    assert "Acknowledge page" not in client.get(ticket.get_absolute_url()).content.decode()
    assert client.post(reverse("page_on_call", args=[ticket.pk])).status_code == 404
    response = client.post(reverse("acknowledge_ticket", args=[ticket.pk]), follow=True)
    assert "Only IT staff" in response.content.decode()
    assert client.get(reverse("pages")).status_code == 404


def test_technician_pages_on_call_by_hand(client, nurse_medsurg, on_call_team, tech):
    from tests.factories import TicketFactory

    ticket = TicketFactory(requester=nurse_medsurg, category=Category.objects.get(slug="ehr"))
    client.force_login(tech)
    response = client.post(reverse("page_on_call", args=[ticket.pk]), follow=True)
    assert "Paging the Clinical Applications (EHR) on-call technician" in response.content.decode()
    chain = PageChain.objects.get(ticket=ticket)
    assert chain.reason == PageChain.Reason.MANUAL
    assert chain.started_by == tech


def test_who_is_on_call_for_everyone(
    client, nurse_medsurg, on_call_team, django_assert_max_num_queries
):
    client.force_login(nurse_medsurg)
    # session, user, groups, teams with rotations, members, overrides, the people, and the
    # major incident banner on a cold cache (open incidents, planned downtimes): fixed.
    with time_machine.travel(FILED, tick=False), django_assert_max_num_queries(12):
        response = client.get(reverse("on_call"))
    body = response.content.decode()
    assert "Clinical Applications (EHR)" in body
    assert "On call now" in body
    assert "No rotation set up" in body  # the teams without one say what to do instead


@pytest.mark.parametrize("chains", [2, 12])
def test_pages_list_queries_do_not_grow(
    client, tech, nurse_ed, on_call_team, chains, django_assert_max_num_queries
):
    for minute in range(chains):
        file_p1(nurse_ed, when=FILED + timedelta(minutes=minute))
    client.force_login(tech)
    # Two of them the major incident banner's, on a cold cache.
    with django_assert_max_num_queries(9):
        response = client.get(reverse("pages"))
    assert len(response.context["chains"]) == chains


# When the on-call is paged: the one rule, end to end


def file_at(requester, code, *, care_delayed, workaround, scope, title="Printer prints blank"):
    with time_machine.travel(FILED, tick=False):
        return ticket_file(
            requester=requester,
            location=Location.objects.get(code=code),
            category=Category.objects.get(slug="ehr"),
            title=title,
            callback="x4410",
            care_delayed=care_delayed,
            scope=scope,
            workaround=workaround,
        ).ticket


def test_ed_p2_with_care_delayed_pages_at_once(nurse_ed, on_call_team):
    ticket = file_at(nurse_ed, "ED", care_delayed=True, workaround=True, scope=Scope.ME)
    assert ticket.priority == 2
    assert PageChain.objects.get(ticket=ticket).reason == PageChain.Reason.CRITICAL_AREA
    assert pages(ticket) == [("tech", 0, 0, 0)]


def test_ed_p2_without_care_delayed_pages_only_when_its_response_is_breached(
    nurse_ed, on_call_team
):
    ticket = file_at(nurse_ed, "ED", care_delayed=False, workaround=True, scope=Scope.UNIT)
    assert ticket.priority == 2
    assert not PageChain.objects.filter(ticket=ticket).exists()
    sweep_at(29)
    assert not PageChain.objects.filter(ticket=ticket).exists()
    assert sweep_at(31).chains_started == 1  # the P2 response target is 30 minutes
    assert PageChain.objects.get(ticket=ticket).reason == PageChain.Reason.RESPONSE_BREACH


def test_medsurg_p1_pages_at_once(nurse_medsurg, on_call_team):
    ticket = file_at(
        nurse_medsurg, "MEDSURG", care_delayed=True, workaround=False, scope=Scope.SEVERAL
    )
    assert ticket.priority == 1
    assert PageChain.objects.get(ticket=ticket).reason == PageChain.Reason.P1_FILED


# Taking the ticket is an acknowledgement


def take(how, client, ticket, on_call_team):
    """The secondary takes the ticket three minutes in, by claiming, by "take next", or by
    being assigned it and opening it a minute later (after one more re-page of the primary)."""
    primary, secondary = on_call_team["primary"], on_call_team["secondary"]
    at = FILED + timedelta(minutes=3)
    with time_machine.travel(at, tick=False):
        if how == "claim":
            ticket_claim(ticket=ticket, user=secondary)
        elif how == "take next":
            assert ticket_take_next(user=secondary, queryset=Ticket.objects.all()) == ticket
        else:
            ticket_assign(ticket=ticket, actor=primary, assignee=secondary)
    if how == "opened":
        assert PageChain.objects.get(ticket=ticket).status == PageChain.Status.ACTIVE
        sweep_at(5)  # assigning alone is no acknowledgement: the primary is paged again
        at = FILED + timedelta(minutes=6)
        client.force_login(secondary)
        with time_machine.travel(at, tick=False):
            assert client.get(ticket.get_absolute_url()).status_code == 200
    return at


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("claim", "acknowledged the page by claiming the ticket."),
        ("take next", "acknowledged the page by taking the ticket from the queue."),
        ("opened", "acknowledged the page by opening the ticket assigned to them."),
    ],
)
def test_taking_the_ticket_stops_its_chain(client, nurse_ed, on_call_team, how, words):
    ticket = file_p1(nurse_ed)
    secondary = on_call_team["secondary"]
    taken_at = take(how, client, ticket, on_call_team)

    chain = PageChain.objects.get(ticket=ticket)
    assert chain.status == PageChain.Status.ACKNOWLEDGED
    assert (chain.acknowledged_by, chain.acknowledged_at) == (secondary, taken_at)
    [ack] = ticket.events.filter(kind=TicketEvent.Kind.ACK)
    assert ack.text == f"{secondary.get_full_name()} {words}"
    assert ack.actor == secondary
    ticket.refresh_from_db()
    assert ticket.assignee == secondary
    assert ticket.first_response_at == taken_at  # as the acknowledge link would have it
    sent = pages(ticket)
    for minute in range(5, 65, 5):  # an hour of sweeps: no re-page, no escalation
        sweep_at(minute)
    assert pages(ticket) == sent
    assert not ticket.events.filter(kind=TicketEvent.Kind.PAGE_ESCALATED).exists()
    assert not Page.objects.filter(ticket=ticket, status=Page.Status.PENDING).exists()


def test_claiming_a_ticket_nobody_paged_for_acknowledges_nothing(nurse_medsurg, tech):
    ticket = file_at(nurse_medsurg, "MEDSURG", care_delayed=False, workaround=True, scope=Scope.ME)
    ticket_claim(ticket=ticket, user=tech)
    assert not ticket.events.filter(kind=TicketEvent.Kind.ACK).exists()
    ticket.refresh_from_db()
    assert ticket.first_response_at is None


def test_repages_and_escalations_name_the_owner(nurse_ed, on_call_team):
    ticket = file_p1(nurse_ed)
    primary, secondary = on_call_team["primary"], on_call_team["secondary"]
    with time_machine.travel(FILED + timedelta(minutes=1), tick=False):
        ticket_assign(ticket=ticket, actor=primary, assignee=secondary)  # she has not opened it
    sweep_at(5)
    sweep_at(15)
    owner = f"{secondary.get_full_name()} has the ticket."
    repage = ticket.events.filter(kind=TicketEvent.Kind.PAGE).order_by("at", "pk")[1]
    assert repage.text == f"Paged {primary.get_full_name()}, primary on call (again, 2). {owner}"
    escalation = ticket.events.get(kind=TicketEvent.Kind.PAGE_ESCALATED)
    assert escalation.text == f"No acknowledgement: escalating to secondary on call. {owner}"
    page = Page.objects.filter(ticket=ticket).order_by("-created_at", "-pk").first()
    assert paging.message_for(page).owner == secondary.get_full_name()


# Pages never carry free text: the PHI check misses unlabelled names and numbers


UNFLAGGED_PHI = "John Smith 01/02/1960 12345678 label printer"


def test_a_page_carries_no_free_text_even_when_nothing_was_flagged(
    nurse_ed,
    on_call_team,
    settings,
    caplog,
    webhook_receiver,
):
    settings.HELPDESK_PAGING = {
        **settings.HELPDESK_PAGING,
        "WEBHOOK_URL": webhook_receiver.url,
        "WEBHOOK_SECRET": "s3cret",
    }
    primary = on_call_team["primary"]
    primary.profile.page_channels = "console,email,webhook"
    primary.profile.save()
    ticket = file_at(
        nurse_ed, "ED", care_delayed=True, workaround=False, scope=Scope.UNIT, title=UNFLAGGED_PHI
    )
    assert not ticket.phi_suspected  # the heuristic does not see it
    sent = Page.objects.filter(ticket=ticket)
    assert {page.channel for page in sent} == {"console", "email", "webhook"}
    for page in sent:
        assert paging.deliver(page.pk) == paging.Outcome.SENT

    [email] = mail.outbox
    [request] = webhook_receiver.requests
    console = [r.getMessage() for r in caplog.records if r.name == "helpdesk.pages"]
    outputs = [email.subject, email.body, request.body.decode(), *console]
    for output in outputs:
        assert ticket.number in output
        for fragment in ("Smith", "01/02/1960", "12345678", "label printer"):
            assert fragment not in output
    document = request.json
    assert (document["department"], document["location"]) == ("Emergency Department", "ED Main")
    assert (document["category"], document["care_delayed"]) == ("Epic / EHR", True)
