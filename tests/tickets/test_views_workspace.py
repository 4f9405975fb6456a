"""The ticket workspace over HTTP: internal notes stay in IT on every page and in every email,
the reply box says who sees it, each action works for IT, does not exist for nurses and refuses
bad input in words, reads are audited off the timeline, and the page costs a fixed number of
queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEntry
from departments.models import Location, Team
from tests.factories import TicketFactory, UserFactory
from tickets.models import Category, Ticket, TicketEvent
from tickets.priority import Scope
from tickets.services import ticket_comment, ticket_file, ticket_link, ticket_set_status

pytestmark = pytest.mark.django_db
S = Ticket.Status
K = TicketEvent.Kind
SECRET = "Vendor case 01873345, PACS box reboot at 02:00"
REPLY = "On my way with a spare scanner"


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def post_action(client, name: str, ticket: Ticket, prefix: str, **fields):
    """Post one workspace form (its fields carry the form's prefix), following the redirect."""
    data = {f"{prefix}-{key}": value for key, value in fields.items()}
    return client.post(reverse(name, args=[ticket.pk]), data, follow=True)


# Internal notes stay in IT -----------------------------------------------------------------


@pytest.fixture
def eager_celery(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_internal_notes_never_reach_the_requester(
    client, nurse_ed, tech, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_file(
            requester=nurse_ed,
            location=Location.objects.get(code="ED"),
            category=Category.objects.get(slug="pacs"),
            title="CT head done 20 min ago not in PACS",
            callback="x4410",
            care_delayed=True,
            scope=Scope.UNIT,
            workaround=True,
        ).ticket
    filed_mail = len(mail.outbox)
    assert filed_mail == 2  # the team's notice and the nurse's receipt

    client.force_login(tech)
    url = reverse("ticket_detail", args=[ticket.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"visibility": "internal", "text": SECRET}, follow=True)
    assert messages_of(response) == ["Internal note added; only IT sees it."]
    assert SECRET in response.content.decode()  # IT sees it, marked
    assert 'badge internal">Internal</span>' in response.content.decode()
    assert len(mail.outbox) == filed_mail, "an internal note must never mail the requester"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"visibility": "reply", "text": REPLY}, follow=True)
    assert messages_of(response) == ["Reply sent to the requester."]
    assert len(mail.outbox) == filed_mail + 1
    notice = mail.outbox[-1]
    assert notice.to == [nurse_ed.email]
    assert notice.subject == f"[{ticket.number}] A reply from IT"
    assert url in notice.body

    # Every page the nurse can open about it ...
    client.force_login(nurse_ed)
    pages = {
        "ticket": client.get(url),
        "my tickets": client.get(reverse("my_tickets")),
        "confirmation": client.get(reverse("ticket_filed", args=[ticket.pk])),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        body = page.content.decode()
        assert ticket.number in body, name
        assert "01873345" not in body, name
        assert "badge internal" not in body, name
        assert "Internal note" not in body, name
    assert REPLY in pages["ticket"].content.decode()
    assert [event.kind for event in pages["ticket"].context["events"]].count(K.INTERNAL_NOTE) == 0
    # ... and every email about it.
    for message in mail.outbox:
        assert "01873345" not in message.subject + message.body


def test_reply_notice_is_for_public_replies_only(
    tech, nurse_medsurg, eager_celery, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(requester=nurse_medsurg)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_comment(ticket=ticket, author=tech, text=SECRET, internal=True)
        ticket_comment(ticket=ticket, author=nurse_medsurg, text="It is the printer by bed 4")
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        ticket_comment(ticket=ticket, author=tech, text=REPLY)
    assert len(mail.outbox) == 1
    # The reply itself stays on the ticket page: an email leaves the hospital.
    assert REPLY not in mail.outbox[0].body


def test_duplicate_link_note_stays_off_the_originals_public_timeline(
    client, tech, nurse_medsurg, outsider
):
    original = TicketFactory(requester=outsider)
    copy = TicketFactory(requester=nurse_medsurg)
    ticket_link(ticket=copy, other=original, actor=tech, duplicate=True)
    client.force_login(outsider)
    body = client.get(original.get_absolute_url()).content.decode()
    assert "closed as a duplicate" not in body
    # The duplicate's own requester is told where to follow it.
    client.force_login(nurse_medsurg)
    body = client.get(copy.get_absolute_url()).content.decode()
    assert f"Duplicate of {original.number}: follow that ticket for updates." in body


def test_reply_box_says_who_sees_it(client, tech, nurse_ed):
    ticket = TicketFactory(requester=nurse_ed, location=Location.objects.get(code="ED"))
    client.force_login(tech)
    body = client.get(ticket.get_absolute_url()).content.decode()
    assert "<legend>Who sees it?</legend>" in body
    assert "Reply to the requester" in body
    assert "Internal note (IT only)" in body
    name = nurse_ed.get_full_name()
    assert (
        f"A reply goes to {name} by email and on their ticket page. An internal note stays in IT."
        in body
    )
    # The requester's own box has no such choice.
    client.force_login(nurse_ed)
    body = client.get(ticket.get_absolute_url()).content.decode()
    assert "Internal note" not in body
    assert "Add comment" in body


def test_after_an_internal_note_the_reply_box_stays_on_internal_note(client, tech, nurse_ed):
    ticket = TicketFactory(requester=nurse_ed)
    client.force_login(tech)
    body = client.get(ticket.get_absolute_url()).content.decode()
    assert 'value="reply" id="id_visibility_0" required checked' in body
    assert ">Send to the requester</button>" in body

    response = client.post(
        ticket.get_absolute_url(), {"visibility": "internal", "text": SECRET}, follow=True
    )
    body = response.content.decode()
    assert 'value="internal" id="id_visibility_1" required checked' in body
    assert 'value="reply" id="id_visibility_0" required checked' not in body
    assert ">Save internal note</button>" in body

    # After a reply it is back on the reply, and another technician's note moves nobody else.
    client.post(ticket.get_absolute_url(), {"visibility": "reply", "text": REPLY})
    assert (
        ">Send to the requester</button>" in client.get(ticket.get_absolute_url()).content.decode()
    )
    ticket_comment(ticket=ticket, author=UserFactory(role="technician"), text="x", internal=True)
    assert (
        ">Send to the requester</button>" in client.get(ticket.get_absolute_url()).content.decode()
    )


def test_nurse_cannot_post_an_internal_note_through_the_form(client, nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    client.force_login(nurse_medsurg)
    client.post(ticket.get_absolute_url(), {"visibility": "internal", "text": "hidden?"})
    event = ticket.events.get(kind=K.COMMENT)
    assert event.is_public


# Each action: works for IT, absent for nurses, refuses bad input in words -------------------


@pytest.fixture
def ticket(nurse_medsurg):
    return TicketFactory(requester=nurse_medsurg, title="Discharge papers to wrong printer")


def test_status_change_by_tech(client, tech, ticket):
    client.force_login(tech)
    response = post_action(
        client, "change_status", ticket, "status", status="waiting_on_vendor", note="Part ordered"
    )
    assert response.redirect_chain == [(ticket.get_absolute_url(), 302)]
    assert messages_of(response) == [f"{ticket.number} is now waiting on vendor."]
    ticket.refresh_from_db()
    assert ticket.status == S.WAITING_ON_VENDOR


def test_status_change_refused_in_words(client, tech, ticket):
    ticket_set_status(ticket=ticket, actor=tech, status=S.CANCELLED, note="Filed twice")
    client.force_login(tech)
    response = post_action(client, "change_status", ticket, "status", status="in_progress")
    assert messages_of(response) == ["A ticket that is cancelled cannot be moved to in progress."]
    # Resolving has its own form, with a code.
    response = post_action(client, "change_status", ticket, "status", status="resolved")
    assert messages_of(response) == [
        "Select a valid choice. resolved is not one of the available choices."
    ]
    assert Ticket.objects.get(pk=ticket.pk).status == S.CANCELLED


def test_status_form_refuses_no_choice_and_changes_nothing(client, tech, ticket):
    client.force_login(tech)
    response = post_action(client, "change_status", ticket, "status", status="", note="")
    assert messages_of(response) == ["Choose the status to move the ticket to."]
    assert Ticket.objects.get(pk=ticket.pk).status == S.NEW


@pytest.mark.parametrize("note", ["", "  "])
def test_tech_cannot_cancel_without_a_reason(client, tech, ticket, note):
    client.force_login(tech)
    response = post_action(client, "change_status", ticket, "status", status="cancelled", note=note)
    assert messages_of(response) == ["Give a reason for cancelling; the requester sees it."]
    assert Ticket.objects.get(pk=ticket.pk).status == S.NEW
    assert not ticket.events.filter(kind=K.STATUS).exists()


def test_tech_cancels_with_a_reason_and_the_requester_reads_it(client, tech, nurse_medsurg, ticket):
    client.force_login(tech)
    response = post_action(
        client, "change_status", ticket, "status", status="cancelled", note="Filed twice"
    )
    assert messages_of(response) == [f"{ticket.number} is now cancelled."]
    assert Ticket.objects.get(pk=ticket.pk).status == S.CANCELLED
    client.force_login(nurse_medsurg)
    assert "Filed twice" in client.get(ticket.get_absolute_url()).content.decode()


def status_choices(response) -> list[str]:
    """The moves the workspace's status panel offers (their values), its "Choose…" first."""
    body = response.content.decode()
    select = body.split('<select name="status-status"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]*)"', select)


def test_status_panel_starts_on_choose_with_cancelled_last(client, tech, ticket):
    client.force_login(tech)
    response = client.get(ticket.get_absolute_url())
    body = response.content.decode()
    assert '<select name="status-status" required id="id_status-status">' in body
    assert '<option value="" selected>Choose…</option>' in body
    offered = status_choices(response)
    assert offered[0] == ""
    assert offered[-1] == S.CANCELLED
    # Only "Choose…" is selected.
    select = body.split('<select name="status-status"', 1)[1].split("</select>", 1)[0]
    assert select.count(" selected>") == 1
    # The note turns required with Cancelled (in the browser; the server checks it anyway).
    assert 'data-required-with="status-status" data-required-when="cancelled"' in body


def test_nurse_may_cancel_her_own_ticket(client, nurse_medsurg, ticket):
    client.force_login(nurse_medsurg)
    response = post_action(client, "change_status", ticket, "status", status="cancelled")
    assert messages_of(response) == [f"{ticket.number} is now cancelled."]
    assert Ticket.objects.get(pk=ticket.pk).status == S.CANCELLED


def test_nurse_may_reopen_her_resolved_ticket_from_its_page(client, tech, nurse_medsurg, ticket):
    ticket_set_status(ticket=ticket, actor=tech, status=S.RESOLVED)
    client.force_login(nurse_medsurg)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "No, still broken" in page
    response = client.post(
        reverse("answer_fixed", args=[ticket.pk]),
        {"fixed-fixed": "no", "fixed-answer": "Still jams", "fixed-back": "ticket"},
        follow=True,
    )
    assert messages_of(response) == [
        f"{ticket.number} is reopened; {ticket.team.name} has your answer."
    ]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at) == (S.IN_PROGRESS, None)


def test_nurse_may_not_work_her_ticket(client, nurse_medsurg, ticket):
    client.force_login(nurse_medsurg)
    response = post_action(client, "change_status", ticket, "status", status="in_progress")
    assert messages_of(response) == ["Only IT staff can make that change."]
    assert Ticket.objects.get(pk=ticket.pk).status == S.NEW


def test_nurse_cannot_touch_another_nurses_ticket(client, outsider, ticket):
    client.force_login(outsider)
    response = client.post(
        reverse("change_status", args=[ticket.pk]), {"status-status": "cancelled"}
    )
    assert response.status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).status == S.NEW


STAFF_ONLY = [
    ("assign", "assign", {"team": "1"}),
    ("change_priority", "priority", {"priority": "1", "reason": "urgent"}),
    ("resolve", "resolve", {"code": "fixed"}),
    ("link", "link", {"other": "HD-1001", "kind": "related"}),
]


@pytest.mark.parametrize(("name", "prefix", "fields"), STAFF_ONLY, ids=[a[0] for a in STAFF_ONLY])
def test_staff_actions_do_not_exist_for_the_requester(
    client, nurse_medsurg, ticket, name, prefix, fields
):
    client.force_login(nurse_medsurg)
    data = {f"{prefix}-{key}": value for key, value in fields.items()}
    assert client.post(reverse(name, args=[ticket.pk]), data).status_code == 404
    unchanged = Ticket.objects.get(pk=ticket.pk)
    assert (unchanged.status, unchanged.priority, unchanged.team_id) == (
        S.NEW,
        ticket.priority,
        ticket.team_id,
    )
    assert not ticket.events.exists()


@pytest.mark.parametrize("name", ["change_status", "assign", "change_priority", "resolve", "link"])
def test_actions_need_a_post_and_a_sign_in(client, tech, ticket, name):
    url = reverse(name, args=[ticket.pk])
    assert client.post(url)["Location"].startswith(reverse("login"))
    client.force_login(tech)
    assert client.get(url).status_code == 405


def test_assign_by_tech(client, tech, manager, ticket):
    client.force_login(manager)
    response = post_action(client, "assign", ticket, "assign", assignee=str(tech.pk))
    assert messages_of(response) == [f"{ticket.number} is with {tech.get_full_name()}."]
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (tech, S.ASSIGNED)

    network = Team.objects.get(slug="network")
    response = post_action(client, "assign", ticket, "assign", team=str(network.pk))
    assert messages_of(response) == [f"{ticket.number} is with {network.name}."]


def test_assign_refusals(client, tech, nurse_medsurg, ticket):
    client.force_login(tech)
    # A nurse is not in the list of people to assign to.
    response = post_action(client, "assign", ticket, "assign", assignee=str(nurse_medsurg.pk))
    assert messages_of(response) == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    response = post_action(client, "assign", ticket, "assign")
    assert messages_of(response) == ["Choose a person or a team."]
    response = post_action(client, "assign", ticket, "assign", team=str(ticket.team_id))
    assert messages_of(response) == ["That is who has it already."]
    assert not ticket.events.exists()


def test_priority_change_by_tech(client, tech, ticket):
    client.force_login(tech)
    response = post_action(
        client, "change_priority", ticket, "priority", priority="2", reason="Whole unit prints"
    )
    assert messages_of(response) == [f"{ticket.number} is now P2 High; deadlines recomputed."]
    assert Ticket.objects.get(pk=ticket.pk).priority == 2


def test_priority_change_refusals(client, tech, ticket):
    client.force_login(tech)
    response = post_action(client, "change_priority", ticket, "priority", priority="2")
    assert messages_of(response) == ["Give a reason for changing the priority."]
    response = post_action(
        client, "change_priority", ticket, "priority", priority=str(ticket.priority), reason="x"
    )
    assert messages_of(response) == [f"{ticket.number} is already P{ticket.priority}."]
    assert not ticket.events.exists()


def test_resolve_by_tech(client, tech, ticket):
    client.force_login(tech)
    response = post_action(client, "resolve", ticket, "resolve", code="fixed", note="Re-mapped")
    assert messages_of(response) == [
        f"{ticket.number} is resolved. The requester can reopen it if it comes back."
    ]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution_code) == (S.RESOLVED, "fixed")
    assert "<dt>Resolution</dt><dd>Fixed</dd>" in response.content.decode()


def test_resolve_refusals(client, tech, ticket):
    client.force_login(tech)
    response = post_action(client, "resolve", ticket, "resolve", note="done")
    assert messages_of(response) == ["Choose how it was resolved."]
    response = post_action(client, "resolve", ticket, "resolve", code="duplicate")
    assert messages_of(response) == [
        "Select a valid choice. duplicate is not one of the available choices."
    ]
    assert Ticket.objects.get(pk=ticket.pk).status == S.NEW


def test_link_as_duplicate_by_tech(client, tech, outsider, ticket):
    original = TicketFactory(requester=outsider)
    client.force_login(tech)
    response = post_action(
        client, "link", ticket, "link", other=original.number.lower(), kind="duplicate"
    )
    assert messages_of(response) == [
        f"{ticket.number} is resolved as a duplicate of {original.number}."
    ]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution_code, ticket.duplicate_of) == (
        S.RESOLVED,
        "duplicate",
        original,
    )
    body = response.content.decode()
    assert f'<dt>Duplicate of</dt><dd><a href="{original.get_absolute_url()}">' in body


def test_link_as_related_by_tech(client, tech, outsider, ticket):
    other = TicketFactory(requester=outsider)
    client.force_login(tech)
    digits = other.number.removeprefix("HD-")
    response = post_action(client, "link", ticket, "link", other=digits, kind="related")
    assert messages_of(response) == [f"{ticket.number} and {other.number} are linked."]
    assert list(ticket.related.all()) == [other]


@pytest.mark.parametrize(
    ("other", "message"),
    [
        ("HD-99999", "There is no ticket HD-99999."),
        ("printer", "There is no ticket printer."),
        ("HD-²", "There is no ticket HD-²."),
        ("HD-\u0661\u0660\u0660\u0661", "There is no ticket HD-\u0661\u0660\u0660\u0661."),
        ("①", "There is no ticket ①."),
        ("", "This field is required."),
    ],
)
def test_link_refusals(client, tech, ticket, other, message):
    client.force_login(tech)
    response = post_action(client, "link", ticket, "link", other=other, kind="duplicate")
    assert messages_of(response) == [message]
    assert Ticket.objects.get(pk=ticket.pk).status == S.NEW


def test_link_to_itself_refused(client, tech, ticket):
    client.force_login(tech)
    response = post_action(client, "link", ticket, "link", other=ticket.number, kind="duplicate")
    assert messages_of(response) == ["A ticket cannot be linked to itself."]
    assert Ticket.objects.get(pk=ticket.pk).status == S.NEW


def test_closed_ticket_shows_no_actions(client, tech, ticket):
    ticket_set_status(ticket=ticket, actor=tech, status=S.RESOLVED)
    ticket_set_status(ticket=ticket, actor=tech, status=S.CLOSED)
    client.force_login(tech)
    response = client.get(ticket.get_absolute_url())
    body = response.content.decode()
    assert 'name="status-status"' not in body
    for action in ("resolve", "assign", "change_priority", "link", "claim"):
        assert reverse(action, args=[ticket.pk]) not in body, action


def test_workspace_offers_only_the_allowed_moves(client, tech, ticket):
    client.force_login(tech)
    response = client.get(ticket.get_absolute_url())
    offered = set(status_choices(response))
    assert offered == {
        "",
        S.ASSIGNED,
        S.IN_PROGRESS,
        S.WAITING_ON_REQUESTER,
        S.WAITING_ON_VENDOR,
        S.CANCELLED,
    }


# Reads are audited, off the timeline -------------------------------------------------------


def test_reading_is_audited_off_the_timeline(client, tech, nurse_medsurg, ticket):
    client.force_login(tech)
    response = client.get(ticket.get_absolute_url())
    viewed = AuditEntry.objects.get(kind=AuditEntry.Kind.TICKET_VIEWED)
    assert (viewed.actor, viewed.ticket_id, viewed.detail) == (tech, ticket.pk, {"via": "page"})
    assert not ticket.events.exists()
    assert response.context["events"] == []
    client.get(ticket.get_absolute_url())
    assert AuditEntry.objects.filter(ticket_id=ticket.pk, actor=tech).count() == 2
    # The requester reading her own ticket is recorded too.
    client.force_login(nurse_medsurg)
    client.get(ticket.get_absolute_url())
    assert AuditEntry.objects.filter(ticket_id=ticket.pk, actor=nurse_medsurg).count() == 1


def test_posting_a_reply_is_not_a_read(client, tech, ticket):
    client.force_login(tech)
    client.post(ticket.get_absolute_url(), {"visibility": "reply", "text": REPLY})
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.TICKET_VIEWED).exists()


# A fixed number of queries -----------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 40])
def test_workspace_queries_do_not_grow(
    client, tech, manager, nurse_medsurg, django_assert_num_queries, size
):
    ticket = TicketFactory(requester=nurse_medsurg)
    others = TicketFactory.create_batch(3, requester=nurse_medsurg)  # "open from the same unit"
    actors = [tech, manager, nurse_medsurg, None]
    kinds = [K.COMMENT, K.INTERNAL_NOTE, K.STATUS, K.ASSIGNMENT, K.SLA_WARNING]
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket=ticket,
            kind=kinds[n % len(kinds)],
            is_public=n % 2 == 0,
            actor=actors[n % len(actors)],
            old_value="new",
            new_value="in_progress",
            text=f"event {n}",
        )
        for n in range(size)
    )
    client.force_login(tech)
    client.get(ticket.get_absolute_url())  # the reference rows, choices and roles, once
    # session, user, the ticket with its requester and assignee, the audit log's insert,
    # related tickets with their locations, the timeline with its actors and files, and the
    # session renewed (an UPDATE in a savepoint): never one more per event, per actor, per file
    # or per related ticket. (A ticket that was paged adds one: its active chain.)
    with django_assert_num_queries(9):
        response = client.get(ticket.get_absolute_url())
    shown = list(response.context["events"])
    assert len(shown) == size
    assert {other.pk for other in response.context["related"]} == {o.pk for o in others}


def test_reopened_ticket_no_longer_shows_a_resolution(client, tech, nurse_medsurg, ticket):
    client.force_login(tech)
    post_action(client, "resolve", ticket, "resolve", code="fixed")
    client.force_login(nurse_medsurg)
    response = post_action(client, "change_status", ticket, "status", status="in_progress")
    assert messages_of(response) == [f"{ticket.number} is now in progress."]
    assert "<dt>Resolution</dt>" not in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).resolution_code == ""


def test_timeline_and_queue_print_what_people_typed_as_text(client, tech, nurse_medsurg, ticket):
    typed = '<script>alert(1)</script> & "quotes"\nsecond line'
    ticket_comment(ticket=ticket, author=nurse_medsurg, text=typed)
    ticket_comment(ticket=ticket, author=tech, text=typed, internal=True)
    Ticket.objects.filter(pk=ticket.pk).update(title="<img src=x onerror=alert(1)>")
    for user, comments in ((nurse_medsurg, 1), (tech, 2)):
        client.force_login(user)
        body = client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
        assert "<script>alert(1)</script>" not in body
        escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;<br>second line"
        assert body.count(escaped) == comments
    for url in (reverse("queue"), reverse("queue_fragment")):
        body = client.get(url).content.decode()
        assert "<img src=x" not in body
        assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_workspace_forms_offer_what_their_views_accept(client, tech, manager, ticket):
    client.force_login(tech)
    body = client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    for name in ("resolve-code", "resolve-note", "status-status", "status-note",
                 "assign-assignee", "assign-team", "priority-priority", "priority-reason",
                 "link-other", "link-kind"):  # fmt: skip
        assert f'name="{name}"' in body, name
    # People are named as everywhere; the ticket's own priority is the one chosen.
    assert f'<option value="{manager.pk}">{manager.get_full_name()}</option>' in body
    assert f'<option value="{ticket.priority}" selected>' in body
    assert 'name="priority-reason" maxlength="300" required id="id_priority-reason"' in body


def test_workspace_fields_follow_people_teams_and_the_ticket(client, tech, ticket):
    """The fields are rendered once per status and priority and held: a new technician, a team
    renamed or the ticket's own priority changing shows on the next page all the same."""
    client.force_login(tech)
    url = reverse("ticket_detail", args=[ticket.pk])
    assert "Quinn Newhire" not in client.get(url).content.decode()
    newcomer = UserFactory(
        username="qnew", first_name="Quinn", last_name="Newhire", role="technician"
    )
    team = Team.objects.order_by("pk").first()
    team.name = "Clinical Apps (night)"
    team.save()
    body = client.get(url).content.decode()
    assert f'<option value="{newcomer.pk}">Quinn Newhire</option>' in body
    assert f'<option value="{team.pk}">Clinical Apps (night)</option>' in body
    other = 1 if ticket.priority != 1 else 2
    Ticket.objects.filter(pk=ticket.pk).update(priority=other)
    assert f'<option value="{other}" selected>' in client.get(url).content.decode()


def test_a_refused_reply_comes_back_with_its_text_and_reason(client, tech, ticket):
    client.force_login(tech)
    too_long = "Printer queue cleared; " + "x" * 4000
    response = client.post(ticket.get_absolute_url(), {"visibility": "internal", "text": too_long})
    body = response.content.decode()
    assert response.status_code == 200
    assert '<p class="field-error" id="id_text_error">Keep it under 4000 characters.</p>' in body
    assert 'aria-describedby="id_text_error" required aria-invalid="true" id="id_text">' in body
    assert "Printer queue cleared; xxx" in body
    # The choice made is kept: the note stays internal if sent again.
    assert 'value="internal" id="id_visibility_1" required checked' in body
    assert not ticket.events.filter(kind=K.INTERNAL_NOTE).exists()


def test_open_from_the_same_unit_is_the_last_twelve_hours_of_open_tickets(
    client, tech, nurse_medsurg, nurse_ed
):
    """Counted back from the ticket's own filing: open tickets of its department filed from
    twelve hours before it on, newest first, eight at most; never the ticket itself, a resolved
    one, or another department's."""
    ticket = TicketFactory(requester=nurse_medsurg)
    filed = ticket.created_at

    def filed_before(delta: timedelta, **fields) -> Ticket:
        return TicketFactory(requester=nurse_medsurg, created_at=filed - delta, **fields)

    edge = filed_before(timedelta(hours=12))
    filed_before(timedelta(hours=12, seconds=1))
    resolved = filed_before(timedelta(hours=1), status=Ticket.Status.RESOLVED)
    elsewhere = Location.objects.exclude(department=ticket.department).first()
    TicketFactory(requester=nurse_ed, location=elsewhere, created_at=filed)
    recent = [filed_before(timedelta(minutes=minutes)) for minutes in range(1, 7)]
    later = TicketFactory(requester=nurse_medsurg, created_at=filed + timedelta(hours=2))
    client.force_login(tech)

    def shown() -> list[int]:
        return [other.pk for other in client.get(ticket.get_absolute_url()).context["related"]]

    assert shown() == [later.pk, *(other.pk for other in recent), edge.pk]
    ticket_set_status(ticket=later, actor=tech, status=Ticket.Status.RESOLVED)
    assert shown() == [*(other.pk for other in recent), edge.pk]
    ticket_set_status(ticket=resolved, actor=tech, status=Ticket.Status.IN_PROGRESS)
    newest = filed_before(timedelta(seconds=30))
    # Eight at most: the oldest drops off.
    assert shown() == [newest.pk, *(other.pk for other in recent), resolved.pk]
    related = client.get(ticket.get_absolute_url()).context["related"][0]
    assert (related.number, related.location) == (newest.number, str(newest.location))
