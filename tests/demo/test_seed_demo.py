"""manage.py seed_demo: the demo hospital an IT manager sees first after `make run`."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import F
from django.urls import reverse

from departments.models import Location
from incidents.models import PlannedDowntime
from oncall.models import RotationMember
from reports import queries
from reports.queries import ReportFilters
from tests.factories import TicketFactory, UserFactory
from tickets import phi
from tickets.models import OutgoingEmail, Ticket, TicketEvent
from tickets.priority import Impact, Urgency, decide_priority
from tickets.services import text_has_phi

# The Saturday after Thanksgiving, 09:00 in the hospital's time zone.
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=ZoneInfo("America/Chicago"))

DEMO_ACCOUNTS = ("nurse.ed", "nurse.or", "nurse.medsurg", "tech", "tech2", "manager", "admin")

# DOMAIN.md "Demo data": every one of them is in the demo, worded as written there.
DOMAIN_TITLES = (
    "Epic frozen on all triage PCs",
    "Triage wristband printer printing blank bands",
    "Badge tap not working on WOW-ED-07",
    "CT head done 20 min ago not in PACS",
    "Vocera calls dropping near trauma bays",
    "Wi-Fi drops at hallway beds H1-H6",
    "Intraop record won't load in OR 7, case starting",
    "Anesthesia machine vitals not flowing, OR 3",
    "OR 12 in-room PC won't boot",
    "PACU specimen label printer jammed",
    "Monitor vitals not filing, beds 1-8",
    "Barcode scanners can't read wristbands",
    "Breast-milk label printer offline",
    "Fetal monitoring central station blank",
    "Travel RN can't log into Epic",
    "Dispensing cabinet not getting orders, nurses overriding",
    "IV room labels misaligned",
    "Lab results not crossing to Epic since 02:10",
    "Prior studies slow to open, reading room 2",
    "MRI modality worklist empty",
    "WOW battery dies after 30 min",
    "Discharge papers printing to wrong printer",
    "Locked out after password change",
    "Epic read-only icon missing during downtime",
    "Tele alarms not reaching Vocera",
    "Insurance-card scanner not detected",
    "Transfer Center calls rolling to voicemail",
    "Pumps fail drug-library download, 8 North",
    "Phishing email posing as payroll",
    "Request: reporting access for new manager",
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(reference_data: None, settings) -> str:
    """Seed at NOW; the command's output."""
    # The real hasher costs a third of a second per seed, in every test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_refuses_outside_demo_mode_and_changes_nothing(settings, reference_data):
    settings.DEBUG = False
    settings.DEMO_MODE = False
    users, locations = User.objects.count(), Location.objects.count()

    with pytest.raises(CommandError, match="HELPDESK_DEMO=1"):
        call_command("seed_demo", stdout=StringIO())

    assert User.objects.count() == users
    assert Location.objects.count() == locations
    assert not Ticket.objects.exists()


def test_seeds_in_a_demo_installation_even_without_debug(settings, reference_data):
    settings.DEBUG = False
    settings.DEMO_MODE = True

    call_command("seed_demo", stdout=StringIO())

    assert User.objects.filter(username="nurse.ed").exists()


def test_demo_accounts_sign_in_with_password_demo(seeded, client):
    for username in DEMO_ACCOUNTS:
        response = client.post(reverse("login"), {"username": username, "password": "demo"})

        assert response.status_code == 302, username
        assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)
        client.logout()


def test_demo_accounts_have_their_roles_teams_and_profiles(seeded):
    users = {user.username: user for user in User.objects.filter(username__in=DEMO_ACCOUNTS)}

    def groups(username: str) -> set[str]:
        return set(users[username].groups.values_list("name", flat=True))

    def teams(username: str) -> set[str]:
        return set(users[username].teams.values_list("slug", flat=True))

    for nurse in ("nurse.ed", "nurse.or", "nurse.medsurg"):
        assert groups(nurse) == {"requester"}
    assert groups("tech") == groups("tech2") == {"technician"}
    assert groups("manager") == {"manager"}
    assert groups("admin") == {"admin"}
    assert teams("tech") == {"service-desk", "clinical-apps", "field-services"}
    assert teams("tech2") == {"network", "imaging", "interfaces", "biomed"}
    # IT staff work in the product's pages; only the administrator gets Django admin.
    assert [name for name, user in users.items() if user.is_staff] == ["admin"]
    assert users["admin"].is_superuser
    erin = users["nurse.ed"]
    assert erin.get_full_name() == "Erin Walsh"
    assert erin.profile.home_department.code == "ED"
    assert erin.profile.callback == "x4410 / Vocera Erin"
    assert users["nurse.or"].profile.home_department.code == "OR"
    assert users["nurse.medsurg"].profile.home_department.code == "MEDSURG"
    assert users["tech"].profile.pager


def test_clinical_staff_file_tickets_but_cannot_sign_in(seeded):
    staff = User.objects.filter(groups__name="requester").exclude(username__startswith="nurse.")

    assert staff.count() >= 25
    assert not any(user.has_usable_password() for user in staff)
    assert User.objects.get(username="rn.jlopez").profile.home_department.code == "ED"
    # A ticket's requester works in the department it was filed in.
    assert not Ticket.objects.exclude(department=F("requester__profile__home_department")).exists()


def test_a_few_hundred_tickets_over_the_last_90_days(seeded):
    tickets = list(Ticket.objects.order_by("pk"))

    assert 300 <= len(tickets) <= 400
    assert all(NOW - timedelta(days=90) <= t.created_at <= NOW for t in tickets)
    # Numbered in filing order, as if filed one by one.
    assert [t.created_at for t in tickets] == sorted(t.created_at for t in tickets)
    assert 20 <= sum(t.is_open for t in tickets) <= 60
    # Mostly resolved or closed once older than a few days.
    older = [t for t in tickets if t.created_at < NOW - timedelta(days=3)]
    assert sum(t.is_open for t in older) < 0.15 * len(older)


def test_every_domain_title_is_filed(seeded):
    titles = set(Ticket.objects.values_list("title", flat=True))

    assert set(DOMAIN_TITLES) <= titles


def test_priority_follows_the_matrix_and_the_department_rule(seeded):
    tickets = Ticket.objects.select_related("department")
    for ticket in tickets:
        decision = decide_priority(
            impact=Impact(ticket.impact),
            urgency=Urgency(ticket.urgency),
            department_name=ticket.department.name,
            # A ticket waiting for triage has no answers to escalate on.
            auto_escalate=ticket.department.auto_escalate and not ticket.needs_triage,
        )
        assert (ticket.matrix_priority, ticket.priority, ticket.auto_escalated) == (
            decision.matrix_priority,
            decision.priority,
            decision.escalated,
        ), ticket

    critical = tickets.filter(department__code__in=["ED", "OR"])
    assert critical.count() >= 30
    assert all(ticket.priority <= 2 for ticket in critical)
    assert all(t.auto_escalated for t in critical if t.matrix_priority >= 3)
    assert (
        tickets.filter(auto_escalated=True).exclude(department__code__in=["ED", "OR"]).count() == 0
    )


def test_escalated_tickets_say_why_on_their_timeline(seeded):
    for ticket in Ticket.objects.filter(auto_escalated=True).select_related("department"):
        event = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
        assert event.is_public
        assert (event.old_value, event.new_value) == (
            f"P{ticket.matrix_priority}",
            f"P{ticket.priority}",
        )
        assert event.text.startswith(f"Escalated from P{ticket.matrix_priority} to ")
        assert ticket.department.name in event.text


def test_every_timeline_starts_with_filed_and_runs_in_order(seeded):
    events: dict[int, list[TicketEvent]] = {}
    for event in TicketEvent.objects.order_by("pk"):
        events.setdefault(event.ticket_id, []).append(event)

    for ticket in Ticket.objects.select_related("requester"):
        timeline = events[ticket.pk]
        filed = timeline[0]
        assert filed.kind == TicketEvent.Kind.FILED
        assert (filed.at, filed.actor_id, filed.is_public) == (
            ticket.created_at,
            ticket.requester_id,
            True,
        )
        if ticket.source == Ticket.Source.EMAIL:
            # Filed at P4 for triage; the answers, if given since, set the priority.
            assert filed.new_value == "P4"
            assert filed.text == f"Filed by e-mail for {ticket.location}: waiting for triage."
        else:
            assert filed.new_value == f"P{ticket.matrix_priority}"
            assert filed.text.startswith("Filed from ")
        # Written in the order it happened, and nothing in the future.
        assert [e.at for e in timeline] == sorted(e.at for e in timeline)
        assert timeline[-1].at <= NOW


def test_ticket_states_match_their_timelines(seeded):
    technicians = set(User.objects.filter(groups__name="technician").values_list("pk", flat=True))
    for ticket in Ticket.objects.prefetch_related("events"):
        kinds = [event.kind for event in ticket.events.all()]
        statuses = [e.new_value for e in ticket.events.all() if e.kind == TicketEvent.Kind.STATUS]
        if ticket.status == Ticket.Status.NEW:
            assert ticket.assignee is None
            assert ticket.first_response_at is None
        elif ticket.status != Ticket.Status.CANCELLED:
            assert ticket.assignee_id in technicians
            assert ticket.created_at < ticket.first_response_at
            assert TicketEvent.Kind.ASSIGNMENT in kinds
        if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
            assert ticket.first_response_at <= ticket.resolved_at <= NOW
            assert Ticket.Status.RESOLVED in statuses
        if ticket.status == Ticket.Status.CLOSED:
            assert ticket.resolved_at < ticket.closed_at <= NOW
        if ticket.status not in (Ticket.Status.NEW, Ticket.Status.ASSIGNED):
            assert statuses[-1] == ticket.status


def test_open_tickets_are_a_realistic_mix(seeded):
    open_statuses = set(Ticket.objects.open().values_list("status", flat=True))

    assert {
        Ticket.Status.IN_PROGRESS,
        Ticket.Status.WAITING_ON_REQUESTER,
        Ticket.Status.WAITING_ON_VENDOR,
    } <= open_statuses
    assert Ticket.objects.filter(status=Ticket.Status.NEW).exists()


def test_demo_nurses_own_open_and_resolved_tickets_of_their_department(seeded):
    for username, home, count in (
        ("nurse.ed", "ED", 6),
        ("nurse.or", "OR", 5),
        # Five from the form, and the Vocera badge she wrote about from her phone.
        ("nurse.medsurg", "MEDSURG", 6),
    ):
        theirs = Ticket.objects.filter(requester__username=username)
        assert theirs.count() == count, username
        assert theirs.open().exists(), username
        assert theirs.filter(status__in=["resolved", "closed"]).exists(), username
        assert set(theirs.values_list("department__code", flat=True)) == {home}
        assert all(t.callback == t.requester.profile.callback for t in theirs)


def test_wow_ed_07_is_an_ed_workstation(seeded):
    wow = Location.objects.select_related("department").get(code="WOW-ED-07")

    assert wow.department.code == "ED"
    assert wow.kind == Location.Kind.WORKSTATION
    assert Location.objects.filter(code="OR-07", name="OR 7", kind=Location.Kind.ROOM).exists()
    codes = list(Location.objects.values_list("code", flat=True))
    assert all(code == code.upper() for code in codes)


def test_no_patient_data_in_titles_or_public_timeline(seeded):
    assert [t for t in Ticket.objects.values_list("title", flat=True) if phi.kinds(t)] == []
    public = TicketEvent.objects.filter(is_public=True).values_list("text", flat=True)
    assert [text for text in public if phi.kinds(text)] == []


def test_two_tickets_show_the_phi_flag_exactly_as_filing_would_set_it(seeded):
    tickets = list(Ticket.objects.all())

    assert all(t.phi_suspected == text_has_phi(t.title, t.description) for t in tickets)
    flagged = [t for t in tickets if t.phi_suspected]
    assert len(flagged) == 2
    for ticket in flagged:
        event = ticket.events.get(kind=TicketEvent.Kind.PHI_FLAGGED)
        assert not event.is_public


def test_history_sends_no_emails(seeded, mailoutbox):
    assert not OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).exists()
    assert mailoutbox == []


def test_past_sla_deadlines_are_already_claimed(seeded):
    """The first live sweep must not alert about last month's tickets."""
    open_unanswered = Ticket.objects.open().filter(first_response_at__isnull=True)
    running = Ticket.objects.filter(status__in=Ticket.CLOCK_RUNNING_STATUSES)

    assert not open_unanswered.filter(response_due_at__lt=NOW, response_breached_at=None).exists()
    assert not running.filter(resolution_due_at__lt=NOW, resolution_breached_at=None).exists()
    # ... and the reports have both met and missed targets to show.
    assert {True, False} <= set(Ticket.objects.values_list("resolution_met", flat=True))


def test_prints_a_summary_with_the_demo_accounts(seeded):
    assert "Lakeside Regional Medical Center" in seeded
    assert f"{Ticket.objects.count()} tickets ({Ticket.objects.open().count()} open)" in seeded
    assert all(username in seeded for username in DEMO_ACCOUNTS)


def test_second_run_changes_nothing(seeded):
    counts = (
        User.objects.count(),
        Location.objects.count(),
        Ticket.objects.count(),
        TicketEvent.objects.count(),
    )
    out = StringIO()

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        call_command("seed_demo", stdout=out)

    assert out.getvalue().strip() == "Demo data already present."
    assert counts == (
        User.objects.count(),
        Location.objects.count(),
        Ticket.objects.count(),
        TicketEvent.objects.count(),
    )


def test_seeds_with_bulk_inserts(reference_data, django_assert_max_num_queries):
    # One query per row would be over a thousand; batched inserts stay in the low hundreds even
    # with SQLite's small batches (and with last week's major incident and the downtimes made
    # through their services, as IT would make them).
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(260):
        call_command("seed_demo", stdout=StringIO())


def test_resolved_tickets_carry_a_realistic_mix_of_resolution_codes(seeded):
    done = Ticket.objects.filter(status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED])
    codes = Counter(done.values_list("resolution_code", flat=True))

    assert "" not in codes  # every resolved ticket says how it ended
    assert len(codes) >= 5
    # Mostly fixed, and no other ending as common.
    assert codes.most_common(1)[0][0] == Ticket.ResolutionCode.FIXED
    assert 0.3 < codes[Ticket.ResolutionCode.FIXED] / done.count() < 0.7
    # Carts get parts; sign-in problems get explained.
    carts = done.filter(category__parent__slug="workstations")
    assert carts.filter(resolution_code=Ticket.ResolutionCode.HARDWARE_REPLACED).exists()
    assert (
        not Ticket.objects.exclude(status__in=["resolved", "closed"])
        .exclude(resolution_code="")
        .exists()
    )


def test_several_technicians_with_different_loads_and_speeds(seeded):
    done = Ticket.objects.filter(status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED])
    handled = Counter(done.values_list("assignee__username", flat=True))

    assert len(handled) >= 8
    assert {"tech", "tech2", "it.jmorales", "it.rcosta"} <= set(handled)
    assert max(handled.values()) >= 3 * min(handled.values())
    # Every one of them is on a team whose tickets they fixed.
    for ticket in done.select_related("assignee", "team"):
        assert ticket.assignee.teams.filter(pk=ticket.team_id).exists()
    # The new IT staff share the on-call rotations of their teams.
    morales = User.objects.get(username="it.jmorales")
    assert morales.groups.filter(name="technician").exists()
    assert RotationMember.objects.filter(user=morales, rotation__team__slug="service-desk").exists()


def test_the_technicians_report_shows_spreads_and_fixed_answers(seeded):
    filters = ReportFilters.last_days(90, today=NOW.date())
    report = queries.technicians(filters)

    assert len(report.rows) >= 8
    medians = [row.resolve["resolution_wall"].p50 for row in report.rows if row.resolved >= 5]
    assert max(medians) > 1.5 * min(medians)
    assert any(row.reopened for row in report.rows)
    judged = [team for team in report.teams if not team.too_few_to_judge]
    assert len(judged) >= 3
    assert any(team.still_broken for team in judged)
    assert all(team.still_broken < team.answered / 2 for team in judged)


def test_requesters_answer_fixed_mostly_yes(seeded):
    done = Ticket.objects.filter(status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED])
    yes = done.filter(fixed_confirmed=True).count()
    still_broken = done.filter(still_broken_count__gt=0).count()
    unanswered = done.filter(fixed_confirmed__isnull=True, still_broken_count=0).count()

    assert yes > 0.5 * done.count()
    assert 10 <= still_broken < 0.2 * done.count()
    assert unanswered >= 20
    # "Yes" closes the ticket at once.
    assert not done.filter(fixed_confirmed=True, status=Ticket.Status.RESOLVED).exists()
    # Someone said "still broken" and never answered again: the ticket waits for her answer.
    assert done.filter(still_broken_count__gt=0, fixed_confirmed__isnull=True).exists()


def test_still_broken_reopened_and_was_resolved_again(seeded):
    Kind = TicketEvent.Kind
    reopened = Ticket.objects.filter(still_broken_count__gt=0).prefetch_related("events")
    assert reopened.exists()
    for ticket in reopened:
        timeline = list(ticket.events.all())
        said_no = [e for e in timeline if e.kind == Kind.FEEDBACK and e.new_value == "no"]
        assert len(said_no) == 1
        assert said_no[0].actor_id == ticket.requester_id
        assert said_no[0].text.startswith("Still broken: ")
        statuses = [(e.old_value, e.new_value) for e in timeline if e.kind == Kind.STATUS]
        resolved, reopen = ("in_progress", "resolved"), ("resolved", "in_progress")
        first = statuses.index(resolved)
        assert statuses[first + 1] == reopen
        assert resolved in statuses[first + 2 :]
        assert ticket.resolved_at > said_no[0].at
    # The reports count the reopen as one.
    assert all(
        Ticket.objects.filter(pk=ticket.pk).annotate(was=queries.reopened()).get().was
        for ticket in reopened
    )


def test_a_yes_is_on_the_timeline_and_closes_the_ticket(seeded):
    for ticket in Ticket.objects.filter(fixed_confirmed=True).prefetch_related("events")[:40]:
        *_, answer, closed = list(ticket.events.all())
        assert (answer.kind, answer.new_value, answer.actor_id) == (
            TicketEvent.Kind.FEEDBACK, "yes", ticket.requester_id
        )  # fmt: skip
        assert (closed.new_value, closed.at) == (Ticket.Status.CLOSED, ticket.closed_at)


def test_people_seeded_show_at_once_in_a_running_process(client, reference_data, settings):
    """The demo's people are bulk-inserted, which sends no signals: a process already holding
    who can take a ticket (the Reassign list) still sees every seeded technician next request."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    early = UserFactory(username="early.tech", first_name="Erin", role="technician")
    ticket = TicketFactory(requester=UserFactory(username="early.nurse", role="requester"))
    client.force_login(early)
    url = reverse("ticket_detail", args=[ticket.pk])
    assert "Reassign" in client.get(url).content.decode()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=StringIO())
    tech = User.objects.get(username="tech")
    assert f'<option value="{tech.pk}">{tech.get_full_name()}</option>' in (
        client.get(url).content.decode()
    )


def test_mail_to_the_help_desk_is_in_the_queue_some_of_it_waiting_for_triage(seeded, client):
    emailed = Ticket.objects.filter(source=Ticket.Source.EMAIL).select_related("requester")
    waiting = emailed.filter(needs_triage=True)
    assert emailed.count() == 5
    assert {t.title for t in waiting} == {
        "Printer on 4 West keeps jamming",
        "FW: Pyxis cabinet firmware update Saturday 02:00",
        "Vocera badge on 4 North won't hold a charge",
    }
    assert all(t.priority == 4 and not t.auto_escalated and t.is_open for t in waiting)
    assert waiting.get(title__startswith="Printer on 4 West").requester.username == "huc.twright"
    assert not Ticket.objects.filter(needs_triage=True).exclude(source=Ticket.Source.EMAIL)

    # The ED's, answered on the web since: escalated by the department rule, with its reasons.
    fast_track = emailed.get(title__startswith="Tracking board")
    assert (fast_track.needs_triage, fast_track.matrix_priority, fast_track.priority) == (
        False, 4, 2,
    )  # fmt: skip
    kinds = list(fast_track.events.values_list("kind", "old_value", "new_value"))
    assert kinds == [
        (TicketEvent.Kind.FILED, "", "P4"),
        (TicketEvent.Kind.TRIAGED, "P4", "P4"),
        (TicketEvent.Kind.ESCALATED, "P4", "P2"),
    ]

    with time_machine.travel(NOW, tick=False):
        client.force_login(User.objects.get(username="tech"))
        queue = client.get(reverse("queue"), {"view": "triage"})
    assert {row.title for row in queue.context["rows"]} == {t.title for t in waiting}
    assert queue.content.decode().count('<span class="badge triage">') == 3


def test_last_weeks_ehr_outage_is_resolved_with_its_units_told(seeded):
    from incidents.models import Incident

    incident = Incident.objects.get()
    assert incident.status == Incident.Status.RESOLVED
    assert incident.updates.count() == 2
    assert incident.affected.count() == 6
    assert not incident.recovery.filter(done_at__isnull=True).exists()


def test_the_demo_announces_next_sundays_ehr_upgrade_and_records_a_drill(seeded):
    chicago = ZoneInfo("America/Chicago")
    upgrade, drill = PlannedDowntime.objects.order_by("-starts_at")
    # NOW is Saturday 28 November 2026: next Sunday is the 29th, 02:00 to 04:00 local.
    assert upgrade.starts_at == datetime(2026, 11, 29, 2, 0, tzinfo=chicago)
    assert upgrade.ends_at == datetime(2026, 11, 29, 4, 0, tzinfo=chicago)
    assert upgrade.hospital_wide
    assert not upgrade.is_drill
    assert upgrade.created_by is not None
    assert upgrade.created_by.username == "tech"
    assert drill.is_drill
    assert drill.ends_at < NOW
    assert sorted(drill.departments.values_list("code", flat=True)) == ["ED", "ICU"]
