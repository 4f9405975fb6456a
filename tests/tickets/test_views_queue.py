"""The queue page, its polled fragment (ETag and 304, never renewing the idle session), claim
and take-next, as technicians and everyone else reach them over HTTP."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.urls import reverse

from departments.models import Department, Location, Team
from tests.factories import TicketFactory, UserFactory
from tickets.models import Category, Ticket, TicketEvent
from tickets.priority import Scope
from tickets.services import ticket_claim, ticket_comment, ticket_file
from tickets.sweep import sla_sweep

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=CHICAGO)
S = Ticket.Status


@pytest.fixture
def other_tech(reference_data):
    return UserFactory(username="it.dana", first_name="Dana", last_name="Reyes", role="technician")


def make(requester, *, due_in: timedelta | None = None, where: str = "MEDSURG", **fields):
    ticket = TicketFactory(requester=requester, location=Location.objects.get(code=where), **fields)
    if due_in is not None:
        Ticket.objects.filter(pk=ticket.pk).update(response_due_at=ticket.created_at + due_in)
        ticket.refresh_from_db()
    return ticket


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Who may see it ----------------------------------------------------------------------------


def test_technician_and_manager_get_the_queue(client, tech, manager, nurse_medsurg):
    ticket = make(nurse_medsurg, title="WOW battery dies after 30 min")
    for user in (tech, manager):
        client.force_login(user)
        response = client.get(reverse("queue"))
        assert response.status_code == 200
        assert ticket.title in response.content.decode()


@pytest.mark.parametrize("nurse", ["nurse_ed", "nurse_or", "nurse_medsurg"])
def test_the_queue_does_not_exist_for_nurses(client, request, nurse):
    user = request.getfixturevalue(nurse)
    ticket = make(user)
    client.force_login(user)
    assert client.get(reverse("queue")).status_code == 404
    assert client.get(reverse("queue_fragment")).status_code == 404
    assert client.post(reverse("take_next")).status_code == 404
    assert client.post(reverse("claim", args=[ticket.pk])).status_code == 404
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_anonymous_visitor_is_sent_to_sign_in(client, reference_data):
    login = reverse("login")
    for url in (reverse("queue"), reverse("queue_fragment")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{login}?next={url}"
    response = client.post(reverse("take_next"))
    assert response["Location"].startswith(login)


def test_the_page_has_counts_filters_and_rows(client, tech, nurse_medsurg):
    mine = make(nurse_medsurg, assignee=tech, status=S.ASSIGNED, title="Locked out after reset")
    waiting = make(nurse_medsurg, title="Discharge papers to wrong printer")
    client.force_login(tech)
    response = client.get(reverse("queue"))
    body = response.content.decode()
    views = {tab.key: tab.count for tab in response.context["views"]}
    assert views == {
        "all": 2, "mine": 1, "unassigned": 1, "critical": 0, "breaching": 0, "triage": 0
    }  # fmt: skip
    # Same priority, filed a moment apart: the earlier deadline first.
    assert [row.pk for row in response.context["rows"]] == [mine.pk, waiting.pk]
    assert f"{tech.get_full_name()}</td>" in body
    # The unassigned one has a claim button named after it; the assigned one names its owner.
    assert f'Claim<span class="visually-hidden"> {waiting.number}</span>' in body
    assert f'Claim<span class="visually-hidden"> {mine.number}</span>' not in body
    assert 'role="search"' in body
    assert 'id="live-banner" role="status" aria-live="polite" hidden' in body


def test_invalid_filters_show_no_rows_and_do_not_fail(client, tech, nurse_medsurg):
    make(nurse_medsurg)
    client.force_login(tech)
    response = client.get(reverse("queue"), {"priority": "9"})
    assert response.status_code == 200
    assert response.context["rows"] == []


@pytest.mark.parametrize("text", ["²", "HD-①", "\u0661\u0660\u0660\u0661"])
def test_searching_unicode_digits_finds_nothing_instead_of_failing(
    client, tech, nurse_medsurg, text
):
    ticket = make(nurse_medsurg)
    client.force_login(tech)
    assert ticket.number in client.get(reverse("queue_fragment")).content.decode()
    for name in ("queue", "queue_fragment"):
        response = client.get(reverse(name), {"q": text})
        assert response.status_code == 200, name
        assert ticket.number not in response.content.decode(), name


# A fixed number of queries -----------------------------------------------------------------


def many_open(nurse, size: int, tech) -> None:
    """``size`` open tickets across departments, assignees and states."""
    where = ["ED", "OR", "ICU", "MEDSURG", "HIM"]
    for n in range(size):
        make(
            nurse,
            where=where[n % len(where)],
            assignee=tech if n % 3 == 0 else None,
            status=S.WAITING_ON_VENDOR if n % 7 == 0 else S.NEW,
        )


@pytest.mark.parametrize("size", [5, 60])
def test_queue_page_queries_do_not_grow(
    client, tech, nurse_medsurg, django_assert_max_num_queries, size
):
    many_open(nurse_medsurg, size, tech)
    client.force_login(tech)
    # session, user, groups, the rows with their department and assignee joined, the latest
    # change (one indexed MAX, which keys the counts), the critical departments and the view
    # counts (one aggregate), the team and department filter choices (cached after the first
    # page), the session renewed (an UPDATE in a savepoint), and the major incident banner on a
    # cold cache (open incidents, planned downtimes): 14, never one more per row for its
    # department or assignee.
    with django_assert_max_num_queries(14):
        response = client.get(reverse("queue"))
    assert len(response.context["rows"]) == min(size, 50)
    if size > 50:
        assert "Showing the 50 most urgent." in response.content.decode()


@pytest.mark.parametrize("size", [5, 60])
def test_fragment_queries_do_not_grow(
    client, tech, nurse_medsurg, django_assert_max_num_queries, size
):
    many_open(nurse_medsurg, size, tech)
    client.force_login(tech)
    # The 200: session, user, groups, the MAX(updated_at) of the ETag, the rows, the critical
    # departments and the counts; no filter choices to render and no session to save.
    with django_assert_max_num_queries(7):
        response = client.get(reverse("queue_fragment"))
    assert response.status_code == 200
    # The 304 an idle queue gets every 15 s: session, user, groups and one indexed MAX.
    with django_assert_max_num_queries(4):
        response = client.get(reverse("queue_fragment"), HTTP_IF_NONE_MATCH=response["ETag"])
    assert response.status_code == 304


def test_a_ticket_filed_by_email_shows_a_triage_badge_among_the_unassigned(
    client, tech, nurse_medsurg
):
    emailed = make(nurse_medsurg, needs_triage=True, source=Ticket.Source.EMAIL)
    answered = make(nurse_medsurg)
    client.force_login(tech)

    response = client.get(reverse("queue"), {"view": "unassigned"})

    assert {row.pk for row in response.context["rows"]} == {emailed.pk, answered.pk}
    rows = {row.pk: row for row in response.context["rows"]}
    assert rows[emailed.pk].needs_triage
    assert not rows[answered.pk].needs_triage
    views = {tab.key: tab.count for tab in response.context["views"]}
    assert (views["unassigned"], views["triage"]) == (2, 1)
    body = response.content.decode()
    assert body.count('<span class="badge triage">') == 1
    assert ">Needs triage <span" in body
    only = client.get(reverse("queue_fragment"), {"view": "triage"})
    assert [row.pk for row in only.context["rows"]] == [emailed.pk]


@pytest.mark.parametrize("size", [5, 60])
def test_triage_badges_cost_no_query_of_their_own(
    client, tech, nurse_medsurg, django_assert_max_num_queries, size
):
    many_open(nurse_medsurg, size, tech)
    Ticket.objects.filter(pk__in=Ticket.objects.values("pk")[: size // 2]).update(
        needs_triage=True, source=Ticket.Source.EMAIL
    )
    client.force_login(tech)
    # The same seven as any fragment: the badge comes with the row's columns.
    with django_assert_max_num_queries(7):
        response = client.get(reverse("queue_fragment"))
    flagged = sum(row.needs_triage for row in response.context["rows"])
    assert flagged >= min(size // 2, 50) - (size - 50 if size > 50 else 0) > 0
    assert response.content.decode().count('<span class="badge triage">') == flagged


# The polled fragment -----------------------------------------------------------------------


class Poller:
    """A technician's open queue: remembers the last ETag, like queue.js does."""

    def __init__(self, client, query: str = "") -> None:
        self.client = client
        self.query = query
        self.etag: str | None = None

    def poll(self, query: str | None = None) -> int:
        url = reverse("queue_fragment") + "?" + (self.query if query is None else query)
        headers = {"HTTP_IF_NONE_MATCH": self.etag} if self.etag else {}
        response = self.client.get(url, **headers)
        assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])
        assert "no-store" in response["Cache-Control"]  # polled rows are not kept either
        if response.status_code == 200:
            assert 'id="fragment-rows"' in response.content.decode()
        else:
            assert response.content == b""
        self.etag = response["ETag"]
        return response.status_code


@pytest.fixture
def clock():
    """Frozen at NOW; tests move it on by a second per change, all within one minute, so a 200
    is never explained by the minute in the ETag turning over."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def watching(client, tech, nurse_medsurg, clock):
    make(nurse_medsurg, title="Discharge papers to wrong printer")
    client.force_login(tech)
    poller = Poller(client)
    assert poller.poll() == 200
    clock.shift(timedelta(seconds=1))
    assert poller.poll() == 304
    return poller


def test_fragment_answers_304_while_nothing_changes(watching, clock):
    for _ in range(5):
        clock.shift(timedelta(seconds=2))
        assert watching.poll() == 304


def test_fragment_changes_when_someone_claims_a_ticket(watching, clock, other_tech):
    clock.shift(timedelta(seconds=1))
    ticket_claim(ticket=Ticket.objects.get(), user=other_tech)
    assert watching.poll() == 200
    assert watching.poll() == 304


def test_fragment_changes_when_someone_comments(watching, clock, nurse_medsurg):
    clock.shift(timedelta(seconds=1))
    ticket_comment(ticket=Ticket.objects.get(), author=nurse_medsurg, text="Still printing there")
    assert watching.poll() == 200
    assert watching.poll() == 304


def test_fragment_changes_when_a_ticket_is_filed(watching, clock, nurse_ed):
    clock.shift(timedelta(seconds=1))
    ticket_file(
        requester=nurse_ed,
        location=Location.objects.get(code="ED"),
        category=Category.objects.get(slug="ehr"),
        title="Epic frozen on all triage PCs",
        callback="x4410",
        care_delayed=True,
        scope=Scope.UNIT,
        workaround=False,
    )
    assert watching.poll() == 200
    assert watching.poll() == 304


def test_fragment_changes_when_the_sweep_marks_a_breach(watching, clock, nurse_ed):
    ticket = make(nurse_ed, where="ED", care_delayed=True, workaround=False, scope=Scope.UNIT)
    Ticket.objects.filter(pk=ticket.pk).update(
        response_due_at=NOW - timedelta(minutes=1), updated_at=NOW - timedelta(hours=1)
    )
    # Backdated so the ETag does not already know it.
    watching.poll()
    assert watching.poll() == 304
    clock.shift(timedelta(seconds=1))
    assert sla_sweep().count("response", "breach") == 1
    assert watching.poll() == 200
    assert watching.poll() == 304


def test_fragment_answers_200_for_other_filters(watching, clock):
    assert watching.poll("priority=5") == 200
    assert watching.poll("priority=5") == 304
    assert watching.poll("") == 200


def test_fragment_changes_when_the_minute_turns(watching, clock):
    # The breaching-soon count moves with the clock even when no ticket does.
    clock.shift(timedelta(seconds=60))
    assert watching.poll() == 200


def test_each_technician_has_their_own_etag(watching, client, other_tech):
    client.force_login(other_tech)
    assert watching.poll() == 200


def session_expiry(client) -> datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_polling_does_not_renew_the_idle_session(client, tech, nurse_medsurg, settings, clock):
    make(nurse_medsurg)
    client.force_login(tech)
    signed_in = session_expiry(client)
    assert signed_in == NOW + timedelta(seconds=settings.SESSION_COOKIE_AGE)

    clock.shift(timedelta(minutes=5))
    first = client.get(reverse("queue_fragment"))
    assert first.status_code == 200
    clock.shift(timedelta(seconds=15))
    again = client.get(reverse("queue_fragment"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert session_expiry(client) == signed_in
    for response in (first, again):
        assert settings.SESSION_COOKIE_NAME not in response.cookies

    # A person opening a page is activity: that renews it.
    clock.shift(timedelta(minutes=1))
    page = client.get(reverse("queue"))
    assert page.status_code == 200
    assert settings.SESSION_COOKIE_NAME in page.cookies
    assert session_expiry(client) == NOW + timedelta(
        minutes=6, seconds=15 + settings.SESSION_COOKIE_AGE
    )


def test_polling_alone_lets_the_session_expire(client, tech, nurse_medsurg, settings, clock):
    make(nurse_medsurg)
    client.force_login(tech)
    for _ in range(settings.SESSION_COOKIE_AGE // 60 + 1):
        clock.shift(timedelta(minutes=1))
        response = client.get(reverse("queue_fragment"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# Claim -------------------------------------------------------------------------------------


def test_claim_from_the_queue_goes_back_to_the_queue_with_a_message(client, tech, nurse_medsurg):
    ticket = make(nurse_medsurg)
    client.force_login(tech)
    back = reverse("queue") + "?view=unassigned"
    response = client.post(reverse("claim", args=[ticket.pk]), {"next": back}, follow=True)
    assert response.redirect_chain == [(back, 302)]
    assert messages_of(response) == [f"{ticket.number} is yours."]
    ticket.refresh_from_db()
    assert ticket.assignee == tech
    assert ticket.status == S.ASSIGNED
    event = ticket.events.get(kind=TicketEvent.Kind.ASSIGNMENT)
    assert event.actor == tech
    assert event.is_public


def test_claim_without_next_opens_the_ticket(client, tech, nurse_medsurg):
    ticket = make(nurse_medsurg)
    client.force_login(tech)
    response = client.post(reverse("claim", args=[ticket.pk]))
    assert response["Location"] == ticket.get_absolute_url()


def test_claim_never_redirects_off_site(client, tech, nurse_medsurg):
    ticket = make(nurse_medsurg)
    client.force_login(tech)
    response = client.post(reverse("claim", args=[ticket.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == ticket.get_absolute_url()


def test_claim_keeps_a_waiting_ticket_waiting(client, tech, nurse_medsurg):
    ticket = make(nurse_medsurg, status=S.WAITING_ON_VENDOR)
    client.force_login(tech)
    client.post(reverse("claim", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (tech, S.WAITING_ON_VENDOR)


def test_claim_as_json(client, tech, nurse_medsurg):
    ticket = make(nurse_medsurg)
    client.force_login(tech)
    response = client.post(reverse("claim", args=[ticket.pk]), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {"claimed": True, "message": f"{ticket.number} is yours."}


def test_claim_lost_says_who_has_it(client, tech, other_tech, nurse_medsurg):
    ticket = make(nurse_medsurg)
    ticket_claim(ticket=ticket, user=other_tech)
    client.force_login(tech)
    response = client.post(reverse("claim", args=[ticket.pk]), HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert response.json() == {
        "claimed": False,
        "message": f"Dana Reyes already has {ticket.number}.",
    }
    response = client.post(reverse("claim", args=[ticket.pk]), follow=True)
    assert messages_of(response) == [f"Dana Reyes already has {ticket.number}."]
    ticket.refresh_from_db()
    assert ticket.assignee == other_tech
    assert ticket.events.filter(kind=TicketEvent.Kind.ASSIGNMENT).count() == 1


def test_claiming_a_resolved_ticket_is_refused(client, tech, nurse_medsurg):
    ticket = make(nurse_medsurg, status=S.RESOLVED)
    client.force_login(tech)
    response = client.post(reverse("claim", args=[ticket.pk]), HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert response.json() == {"claimed": False, "message": f"{ticket.number} is resolved."}
    response = client.post(reverse("claim", args=[ticket.pk]), follow=True)
    assert messages_of(response) == [f"{ticket.number} is resolved."]
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_claim_needs_a_post(client, tech, nurse_medsurg):
    ticket = make(nurse_medsurg)
    client.force_login(tech)
    assert client.get(reverse("claim", args=[ticket.pk])).status_code == 405
    assert client.post(reverse("claim", args=[999_999])).status_code == 404


# Take next ---------------------------------------------------------------------------------


@pytest.fixture
def backlog(nurse_medsurg, nurse_ed, other_tech):
    return {
        # The most urgent of all, but someone has it.
        "taken": make(nurse_ed, where="ED", priority=1, assignee=other_tech, due_in=timedelta(1)),
        "medsurg_soon": make(nurse_medsurg, due_in=timedelta(minutes=5)),
        "ed_later": make(nurse_ed, where="ED", due_in=timedelta(minutes=20)),
        "him_last": make(nurse_medsurg, where="HIM", due_in=timedelta(hours=9)),
    }


def test_take_next_hands_out_the_most_urgent_unassigned(client, tech, backlog):
    client.force_login(tech)
    response = client.post(reverse("take_next"), follow=True)
    wanted = backlog["medsurg_soon"]
    assert response.redirect_chain == [(wanted.get_absolute_url(), 302)]
    assert messages_of(response) == [f"{wanted.number} is yours: the most urgent one waiting."]
    wanted.refresh_from_db()
    assert wanted.assignee == tech


def test_take_next_hands_out_an_unassigned_p1_first(client, tech, backlog, nurse_ed):
    p1 = make(nurse_ed, where="ED", priority=1, due_in=timedelta(hours=3))
    client.force_login(tech)
    assert client.post(reverse("take_next"))["Location"] == p1.get_absolute_url()


def test_take_next_keeps_to_the_chosen_view(client, tech, backlog):
    client.force_login(tech)
    response = client.post(reverse("take_next"), {"view": "critical"})
    wanted = backlog["ed_later"]
    assert response["Location"] == wanted.get_absolute_url()
    wanted.refresh_from_db()
    assert wanted.assignee == tech
    backlog["medsurg_soon"].refresh_from_db()
    assert backlog["medsurg_soon"].assignee is None


def test_take_next_keeps_to_the_department_filter(client, tech, backlog):
    client.force_login(tech)
    him = backlog["him_last"]
    response = client.post(reverse("take_next"), {"department": str(him.department_id)})
    assert response["Location"] == him.get_absolute_url()


def test_take_next_in_an_empty_view_says_so(client, tech, backlog):
    client.force_login(tech)
    client.post(reverse("take_next"), {"view": "critical"}, follow=True)
    query = "view=critical"
    response = client.post(reverse("take_next"), {"view": "critical", "query": query}, follow=True)
    assert response.redirect_chain == [(f"{reverse('queue')}?{query}", 302)]
    assert messages_of(response) == ["Nothing unassigned in this view. Nice work."]


def test_take_next_with_invalid_filters(client, tech, backlog):
    client.force_login(tech)
    response = client.post(reverse("take_next"), {"priority": "9"}, follow=True)
    assert response.redirect_chain == [(reverse("queue"), 302)]
    assert messages_of(response) == ["Those filters are not valid."]
    assert not Ticket.objects.filter(assignee=tech).exists()


def take_next_fields(body: str) -> list[tuple[str, str]]:
    form = re.search(r'<form method="post" action="/queue/take-next/">(.*?)</form>', body, re.S)
    assert form is not None
    return [
        (name, value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                                      form.group(1))
        if name not in ("csrfmiddlewaretoken", "query")
    ]  # fmt: skip


def test_take_next_form_carries_the_page_filters(client, tech, backlog):
    client.force_login(tech)
    body = client.get(reverse("queue"), {"view": "critical", "assignee": "unassigned"})
    assert sorted(take_next_fields(body.content.decode())) == [
        ("assignee", "unassigned"),
        ("view", "critical"),
    ]


def test_take_next_form_carries_every_priority_ticked(client, tech, backlog):
    client.force_login(tech)
    body = client.get(reverse("queue") + "?priority=1&priority=2").content.decode()
    assert sorted(take_next_fields(body)) == [("priority", "1"), ("priority", "2")]


def test_filters_chosen_in_the_url_stay_chosen(client, tech, nurse_medsurg):
    make(nurse_medsurg, priority=1)
    client.force_login(tech)
    team = tech.teams.first() or Team.objects.order_by("name").first()
    body = client.get(
        reverse("queue"), {"team": team.pk, "priority": ["1", "2"], "assignee": "mine", "q": "epic"}
    ).content.decode()
    assert f'<option value="{team.pk}" selected>{team.name}</option>' in body
    assert '<option value="mine" selected>Mine</option>' in body
    assert 'name="priority" value="1" id="id_priority_0" checked' in body
    assert 'name="priority" value="2" id="id_priority_1" checked' in body
    assert 'name="priority" value="3" id="id_priority_2">' in body
    assert 'value="epic"' in body
    # The priority and status panel opens when one of its boxes is ticked.
    assert '<details class="more-filters" open>' in body
    # Take-next carries the same filters.
    assert '<input type="hidden" name="priority" value="2">' in body


def test_the_filter_bar_follows_the_url_and_renamed_teams(client, tech, nurse_medsurg):
    """Every technician with the same filters sees the same bar, held once rendered: other
    filters get their own, and a team renamed or a department added shows at once."""
    client.force_login(tech)
    team = Team.objects.order_by("name").first()
    assert (
        f'<option value="{team.pk}">{team.name}</option>'
        in client.get(reverse("queue")).content.decode()
    )
    chosen = client.get(reverse("queue"), {"team": team.pk}).content.decode()
    assert f'<option value="{team.pk}" selected>{team.name}</option>' in chosen
    team.name = "Clinical Apps (night)"
    team.save()
    ed = Department.objects.get(code="ED")
    Department.objects.create(code="WND", name="Wound Care Clinic", calendar=ed.calendar)
    body = client.get(reverse("queue")).content.decode()
    assert f'<option value="{team.pk}">Clinical Apps (night)</option>' in body
    assert ">Wound Care Clinic</option>" in body
    assert "selected>Clinical Apps" not in body


def test_one_claim_form_serves_every_row(client, tech, nurse_medsurg):
    first, second = make(nurse_medsurg), make(nurse_medsurg)
    client.force_login(tech)
    body = client.get(reverse("queue"), {"q": ""}).content.decode()
    assert body.count('id="claim-form"') == 1
    # Take next, claim, and the three sign-out buttons (the header's sign out and switch user,
    # and the idle warning's).
    assert body.count("csrfmiddlewaretoken") == 5
    for ticket in (first, second):
        assert f'form="claim-form" formaction="{reverse("claim", args=[ticket.pk])}"' in body
    # The button posts the shared form to its own ticket's claim view.
    response = client.post(
        reverse("claim", args=[second.pk]), {"next": reverse("queue") + "?q="}, follow=True
    )
    second.refresh_from_db()
    assert second.assignee == tech
    assert f"{second.number} is yours." in messages_of(response)
