"""The queue's selectors: time-to-breach order with P1 pinned, the filters, and the saved views
with their counts in one query."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import QueryDict
from django.test import RequestFactory

from departments.models import Department, Location, Team
from tests.factories import TicketFactory, UserFactory
from tickets.models import Category, Ticket, parse_ticket_number
from tickets.queue import (
    QueueFilter,
    SavedView,
    critical_department_ids,
    current_view_counts,
    queue_rows,
    view_counts,
)
from tickets.selectors import latest_ticket_change
from tickets.services import ticket_claim

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
# A Wednesday morning: every clock in these tests runs from here.
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=CHICAGO)
S = Ticket.Status


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def other_tech(reference_data):
    return UserFactory(username="it.other", first_name="Olu", role="technician")


def make(
    requester,
    *,
    due_in: timedelta | None = None,
    responded: bool = False,
    resolution_in: timedelta | None = None,
    where: str = "MEDSURG",
    **fields,
) -> Ticket:
    """A ticket whose next deadline is set by hand: ``due_in`` is the first-response deadline
    from NOW, ``resolution_in`` the resolution deadline; ``responded`` marks the first response
    given, so the resolution deadline is the one the queue goes by."""
    ticket = TicketFactory(
        requester=requester,
        location=Location.objects.get(code=where),
        created_at=NOW - timedelta(minutes=10),
        **fields,
    )
    updates = {}
    if due_in is not None:
        updates["response_due_at"] = NOW + due_in
    if resolution_in is not None:
        updates["resolution_due_at"] = NOW + resolution_in
    if responded:
        updates["first_response_at"] = NOW - timedelta(minutes=5)
    if updates:
        Ticket.objects.filter(pk=ticket.pk).update(**updates)
    ticket.refresh_from_db()
    return ticket


def listed(user, query: str = "") -> list[Ticket]:
    """The queue as ``user`` sees it with the filters of ``query`` (a URL query string)."""
    data = QueryDict(query)
    request = RequestFactory().get("/queue/", data)
    request.user = user
    filters = QueueFilter(data, queryset=Ticket.objects.all(), request=request, now=NOW)
    assert filters.is_valid(), filters.errors
    return list(queue_rows(filters.qs))


# Order -------------------------------------------------------------------------------------


def test_p1_is_pinned_on_top_even_with_the_latest_deadline(nurse_medsurg):
    soon = make(nurse_medsurg, priority=3, due_in=timedelta(minutes=2))
    p1 = make(nurse_medsurg, priority=1, due_in=timedelta(hours=3), where="ED")
    assert list(queue_rows(Ticket.objects.all())) == [p1, soon]


def test_running_tickets_go_by_their_next_deadline(nurse_medsurg):
    later = make(nurse_medsurg, priority=3, due_in=timedelta(hours=2))
    overdue = make(nurse_medsurg, priority=5, due_in=timedelta(minutes=-30))
    soon = make(nurse_medsurg, priority=4, due_in=timedelta(minutes=20))
    assert list(queue_rows(Ticket.objects.all())) == [overdue, soon, later]


def test_next_deadline_is_the_response_until_answered_then_the_resolution(nurse_medsurg):
    waiting_for_answer = make(
        nurse_medsurg, due_in=timedelta(minutes=40), resolution_in=timedelta(hours=8)
    )
    # Its response deadline has passed, but it was answered: the resolution deadline counts.
    answered = make(
        nurse_medsurg,
        due_in=timedelta(minutes=-60),
        responded=True,
        resolution_in=timedelta(minutes=50),
    )
    assert waiting_for_answer.next_due_at == NOW + timedelta(minutes=40)
    assert answered.next_due_at == NOW + timedelta(minutes=50)
    assert list(queue_rows(Ticket.objects.all())) == [waiting_for_answer, answered]


def test_tickets_waiting_on_someone_come_after_running_ones(nurse_medsurg):
    paused_vendor = make(
        nurse_medsurg,
        status=S.WAITING_ON_VENDOR,
        responded=True,
        resolution_in=timedelta(minutes=1),
        sla_paused_at=NOW - timedelta(minutes=2),
    )
    paused_nurse = make(
        nurse_medsurg,
        status=S.WAITING_ON_REQUESTER,
        responded=True,
        resolution_in=timedelta(minutes=5),
        sla_paused_at=NOW - timedelta(minutes=2),
    )
    running = make(nurse_medsurg, status=S.IN_PROGRESS, due_in=timedelta(hours=6))
    new = make(nurse_medsurg, due_in=timedelta(hours=7))
    assert list(queue_rows(Ticket.objects.all())) == [running, new, paused_vendor, paused_nurse]


def test_closed_resolved_and_cancelled_tickets_are_not_in_the_queue(nurse_medsurg):
    open_one = make(nurse_medsurg, due_in=timedelta(hours=1))
    for status in (S.RESOLVED, S.CLOSED, S.CANCELLED):
        make(nurse_medsurg, status=status, due_in=timedelta(minutes=1))
    assert list(queue_rows(Ticket.objects.all())) == [open_one]


def test_equal_deadlines_keep_filing_order(nurse_medsurg):
    first = make(nurse_medsurg, due_in=timedelta(hours=1))
    second = make(nurse_medsurg, due_in=timedelta(hours=1))
    assert list(queue_rows(Ticket.objects.all())) == [first, second]


# Filters -----------------------------------------------------------------------------------


def test_filter_by_team(tech, nurse_medsurg):
    epic = make(nurse_medsurg, category=Category.objects.get(slug="ehr"))
    printer = make(nurse_medsurg, category=Category.objects.get(slug="printers"))
    assert epic.team != printer.team
    assert listed(tech, f"team={epic.team.pk}") == [epic]
    assert listed(tech, f"team={printer.team.pk}") == [printer]
    nobody = Team.objects.exclude(pk__in=[epic.team.pk, printer.team.pk]).first()
    assert listed(tech, f"team={nobody.pk}") == []


def test_filter_by_department(tech, nurse_medsurg):
    ed = make(nurse_medsurg, where="ED")
    medsurg = make(nurse_medsurg, where="MEDSURG")
    assert listed(tech, f"department={Department.objects.get(code='ED').pk}") == [ed]
    assert listed(tech, f"department={Department.objects.get(code='MEDSURG').pk}") == [medsurg]


def test_filter_by_several_priorities(tech, nurse_medsurg):
    by_priority = {
        p: make(nurse_medsurg, priority=p, due_in=timedelta(hours=p)) for p in range(1, 6)
    }
    assert listed(tech, "priority=2&priority=4") == [by_priority[2], by_priority[4]]
    assert listed(tech, "priority=5") == [by_priority[5]]


def test_filter_by_several_statuses(tech, nurse_medsurg):
    new = make(nurse_medsurg, status=S.NEW, due_in=timedelta(hours=1))
    working = make(nurse_medsurg, status=S.IN_PROGRESS, due_in=timedelta(hours=2))
    vendor = make(nurse_medsurg, status=S.WAITING_ON_VENDOR, due_in=timedelta(hours=3))
    assert listed(tech, "status=new&status=waiting_on_vendor") == [new, vendor]
    assert listed(tech, "status=in_progress") == [working]


def test_status_filter_offers_open_statuses_only(tech):
    data = QueryDict("status=resolved")
    request = RequestFactory().get("/queue/", data)
    request.user = tech
    filters = QueueFilter(data, queryset=Ticket.objects.all(), request=request, now=NOW)
    assert not filters.is_valid()
    assert "status" in filters.errors


def test_filter_by_assignee_mine_or_unassigned(tech, other_tech, nurse_medsurg):
    mine = make(nurse_medsurg, assignee=tech, status=S.ASSIGNED, due_in=timedelta(hours=1))
    theirs = make(nurse_medsurg, assignee=other_tech, status=S.ASSIGNED, due_in=timedelta(hours=2))
    nobodys = make(nurse_medsurg, due_in=timedelta(hours=3))
    assert listed(tech, "assignee=mine") == [mine]
    assert listed(other_tech, "assignee=mine") == [theirs]
    assert listed(tech, "assignee=unassigned") == [nobodys]
    assert listed(tech, "") == [mine, theirs, nobodys]


def test_search_by_ticket_number_with_or_without_prefix(tech, nurse_medsurg):
    wanted = make(nurse_medsurg, title="Badge tap not working on WOW-ED-07")
    make(nurse_medsurg, title="Discharge papers printing to the wrong printer")
    digits = str(wanted.pk + 1000)
    assert wanted.number == f"HD-{digits}"
    for text in (wanted.number, digits, f"  hd-{digits} ", wanted.number.lower()):
        assert listed(tech, urlencode({"q": text})) == [wanted], text


def test_ticket_number_parsing():
    assert parse_ticket_number("HD-1042") == 42
    assert parse_ticket_number("1042") == 42
    assert parse_ticket_number(" hd-1042 ") == 42
    assert parse_ticket_number("HD-") is None
    assert parse_ticket_number("printer") is None
    assert parse_ticket_number("9" * 20) is None  # no overflow into the database
    assert parse_ticket_number("HD-1000") is None  # numbers start at HD-1001
    # ASCII digits only: these are not another spelling of HD-1042, nor a server error.
    arabic_indic, full_width = "HD-\u0661\u0660\u0664\u0662", "HD-\uff11\uff10\uff14\uff12"
    for text in (arabic_indic, full_width, "HD-1042²", "HD-²", "①", "HD-+1042", "HD-10.42"):
        assert parse_ticket_number(text) is None, text


@pytest.mark.parametrize("text", ["²", "HD-①", "\u0661\u0660\u0664\u0662", "HD-1042²"])
def test_search_with_unicode_digits_is_a_text_search(tech, nurse_medsurg, text):
    make(nurse_medsurg, title="Badge tap not working on WOW-ED-07")
    found = make(nurse_medsurg, title=f"Label reads {text} instead of the bed")
    assert listed(tech, urlencode({"q": text})) == [found]


def test_search_by_number_of_a_closed_ticket_finds_nothing_in_the_queue(tech, nurse_medsurg):
    closed = make(nurse_medsurg, status=S.CLOSED)
    assert listed(tech, f"q={closed.number}") == []


def test_search_by_words_in_the_title_in_any_order_and_case(tech, nurse_medsurg):
    label = make(nurse_medsurg, title="PACU specimen label printer jammed")
    make(nurse_medsurg, title="Triage wristband printer printing blank bands")
    make(nurse_medsurg, title="Epic frozen on all triage PCs")
    assert listed(tech, "q=printer+LABEL") == [label]
    assert listed(tech, "q=jammed") == [label]
    assert len(listed(tech, "q=printer")) == 2
    assert len(listed(tech, "q=triage")) == 2


def test_search_for_unknown_text_or_number_finds_nothing(tech, nurse_medsurg):
    make(nurse_medsurg, title="Epic frozen on all triage PCs")
    assert listed(tech, "q=zebra") == []
    assert listed(tech, "q=HD-99999") == []
    assert listed(tech, "q=epic+zebra") == []  # every word must be in the title


def test_blank_search_lists_everything(tech, nurse_medsurg):
    tickets = [make(nurse_medsurg, due_in=timedelta(hours=h)) for h in (1, 2)]
    assert listed(tech, "q=+++") == tickets


# Saved views and their counts --------------------------------------------------------------


@pytest.fixture
def hand_made(tech, other_tech, nurse_medsurg):
    """Ten tickets at NOW; the comment on each says which views it belongs to."""
    t = {
        # mine
        "a": make(nurse_medsurg, assignee=tech, status=S.ASSIGNED, due_in=timedelta(hours=3)),
        # unassigned, critical (ED), breaching
        "b": make(nurse_medsurg, where="ED", due_in=timedelta(minutes=30)),
        # unassigned, critical (ICU is tier 1 without auto-escalation)
        "c": make(nurse_medsurg, where="ICU", due_in=timedelta(hours=5)),
        # breaching: already overdue
        "d": make(nurse_medsurg, assignee=other_tech, due_in=timedelta(minutes=-10)),
        # unassigned, needs triage (filed by e-mail); a minute past the breaching-soon hour
        "e": make(nurse_medsurg, where="HIM", due_in=timedelta(minutes=61), needs_triage=True),
        # mine, critical (OR), breaching by its resolution deadline (answered already)
        "f": make(
            nurse_medsurg,
            where="OR",
            assignee=tech,
            status=S.IN_PROGRESS,
            due_in=timedelta(hours=-2),
            responded=True,
            resolution_in=timedelta(minutes=45),
        ),
        # unassigned, breaching: exactly one hour left counts
        "g": make(nurse_medsurg, due_in=timedelta(hours=1)),
        # waiting on the nurse, someone else's, deadline far off
        "h": make(
            nurse_medsurg,
            assignee=other_tech,
            status=S.WAITING_ON_REQUESTER,
            responded=True,
            resolution_in=timedelta(hours=2),
            sla_paused_at=NOW,
        ),
        # not open: in no view at all, however urgent they look
        "resolved": make(nurse_medsurg, where="ED", status=S.RESOLVED, due_in=timedelta(0)),
        "closed": make(nurse_medsurg, assignee=tech, status=S.CLOSED, due_in=timedelta(0)),
    }
    return t


def test_view_counts_in_one_query(tech, hand_made, django_assert_num_queries):
    critical_department_ids()  # reference data, cached per process for a minute
    # One aggregate with a filtered COUNT per view: never one query per view.
    with django_assert_num_queries(1):
        counts = view_counts(tech, NOW)
    assert counts == {
        SavedView.ALL: 8,
        SavedView.MINE: 2,
        SavedView.UNASSIGNED: 4,
        SavedView.CRITICAL: 3,
        SavedView.BREACHING: 4,
        SavedView.TRIAGE: 1,
    }


def test_counts_are_made_once_per_version_of_the_queue(
    tech, other_tech, hand_made, django_assert_num_queries
):
    critical_department_ids()
    latest = latest_ticket_change()
    with django_assert_num_queries(1):
        first = current_view_counts(tech, NOW, latest)
    # The same technician, the same minute, no ticket written since: no query at all.
    with django_assert_num_queries(0):
        assert current_view_counts(tech, NOW, latest) == first
    # Another technician has a Mine of their own.
    with django_assert_num_queries(1):
        assert current_view_counts(other_tech, NOW, latest)[SavedView.MINE] == 2
    # The next minute counts again ("breaching soon" moves with the clock).
    with django_assert_num_queries(1):
        current_view_counts(tech, NOW + timedelta(minutes=1), latest)
    # Any write to a ticket moves the version: the claim shows in the counts at once.
    with time_machine.travel(NOW + timedelta(seconds=5), tick=False):
        ticket_claim(ticket=hand_made["b"], user=tech)
    assert latest_ticket_change() != latest
    after = current_view_counts(tech, NOW, latest_ticket_change())
    assert after[SavedView.MINE] == first[SavedView.MINE] + 1
    assert after[SavedView.UNASSIGNED] == first[SavedView.UNASSIGNED] - 1


def test_mine_is_counted_for_whoever_asks(other_tech, hand_made):
    counts = view_counts(other_tech, NOW)
    assert counts[SavedView.MINE] == 2
    assert counts[SavedView.ALL] == 8


def test_each_view_lists_what_its_count_says(tech, hand_made):
    counts = view_counts(tech, NOW)
    members = {
        SavedView.ALL: "abcdefgh",
        SavedView.MINE: "af",
        SavedView.UNASSIGNED: "bceg",
        SavedView.CRITICAL: "bcf",
        SavedView.BREACHING: "bdfg",
        SavedView.TRIAGE: "e",
    }
    for view, keys in members.items():
        rows = listed(tech, f"view={view}")
        assert {t.pk for t in rows} == {hand_made[k].pk for k in keys}, view
        assert len(rows) == counts[view], view


def test_breaching_soon_moves_with_the_clock(tech, hand_made):
    # Half an hour on, "e" (due in 61 min at NOW) is within the hour; "a" (3 h) is not yet.
    later = NOW + timedelta(minutes=30)
    with time_machine.travel(later, tick=False):
        assert view_counts(tech, later)[SavedView.BREACHING] == 5


def test_a_ticket_waiting_on_the_vendor_is_not_breaching_soon(tech, nurse_medsurg):
    make(
        nurse_medsurg,
        status=S.WAITING_ON_VENDOR,
        responded=True,
        resolution_in=timedelta(minutes=-20),
        sla_paused_at=NOW - timedelta(hours=3),
    )
    assert view_counts(tech, NOW)[SavedView.BREACHING] == 0


def test_critical_areas_are_ed_or_and_tier_one(reference_data):
    codes = set(
        Department.objects.filter(pk__in=critical_department_ids()).values_list("code", flat=True)
    )
    assert codes == {"ED", "OR", "ICU", "NICU", "LD", "CATH", "PHARM", "LAB", "RAD"}


def test_a_department_switched_to_auto_escalate_becomes_critical(tech, nurse_medsurg):
    ticket = make(nurse_medsurg, where="TELE")
    assert listed(tech, "view=critical") == []
    tele = Department.objects.get(code="TELE")
    tele.auto_escalate = True
    tele.save()  # moves the departments' version: every process reads them again
    assert listed(tech, "view=critical") == [ticket]


def test_latest_change_is_the_newest_update(nurse_medsurg):
    assert latest_ticket_change() is None
    first, second = make(nurse_medsurg), make(nurse_medsurg)
    Ticket.objects.filter(pk=first.pk).update(updated_at=NOW + timedelta(minutes=3))
    assert latest_ticket_change() == NOW + timedelta(minutes=3)
    Ticket.objects.filter(pk=second.pk).update(updated_at=NOW + timedelta(minutes=7))
    assert latest_ticket_change() == NOW + timedelta(minutes=7)
