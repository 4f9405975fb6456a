"""The privacy officer's questions, answered from a small hand-made audit log (times are the
hospital's, America/Chicago, CDT = UTC-5 after 8 March 2026).

ticket  requester        read by (9 March unless said)
T1      nurse.medsurg    nurse.medsurg 10:00 (page), tech 11:00, nurse.other 12:00 (page) and
                         12:01 (an attachment), tech 23:30 (UTC: the 10th)
T2      nurse.ed         manager 13:00, nurse.medsurg 8 March 09:00 (API)
burst   tech opens T3..T7 between 14:00 and 14:04; manager opens 4 tickets (one short);
        tech opens T1 six times 16:00..16:05 (many views of one ticket is no burst)
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from audit.services import audit_record
from reports import privacy
from tests.conftest import need
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
K = AuditEntry.Kind
MARCH_8, MARCH_9 = date(2026, 3, 8), date(2026, 3, 9)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=CHICAGO)


@pytest.fixture
def log(settings, nurse_medsurg, nurse_ed, outsider, tech, manager):
    settings.HELPDESK_AUDIT_BURST_VIEWS = 5
    settings.HELPDESK_AUDIT_BURST_MINUTES = 10
    t1 = TicketFactory(requester=nurse_medsurg)
    t2 = TicketFactory(requester=nurse_ed)
    others = TicketFactory.create_batch(5, requester=nurse_ed)

    def view(who, ticket, when, **extra):
        return audit_record(kind=K.TICKET_VIEWED, actor=who, ticket_id=ticket.pk, at=when,
                            detail={"via": extra.get("via", "page")})  # fmt: skip

    view(nurse_medsurg, t1, at(9, 10))
    view(tech, t1, at(9, 11))
    view(outsider, t1, at(9, 12))
    audit_record(kind=K.ATTACHMENT_VIEWED, actor=outsider, ticket_id=t1.pk, at=at(9, 12, 1),
                 about_type="tickets.attachment", about_id="41")  # fmt: skip
    view(tech, t1, at(9, 23, 30))
    view(manager, t2, at(9, 13))
    view(nurse_medsurg, t2, at(8, 9), via="api")
    for minute, ticket in enumerate(others):
        view(tech, ticket, at(9, 14, minute))
    for minute, ticket in enumerate(others[:4]):
        view(manager, ticket, at(9, 15, minute))
    for minute in range(6):
        view(tech, t1, at(9, 16, minute))
    # Not a view: a sign-in on the same day.
    audit_record(kind=K.SIGN_IN, actor=outsider, at=at(9, 7))
    return {"t1": t1, "t2": t2, "others": others}


def test_who_viewed_a_ticket_newest_first_with_their_role(log, nurse_medsurg, outsider, tech):
    rows = privacy.ticket_access(ticket_id=log["t1"].pk)
    seen = [(row.at, row.actor_username, row.kind, row.actor_is_it) for row in rows]
    late = [(at(9, 16, minute), "tech", K.TICKET_VIEWED, True) for minute in reversed(range(6))]
    assert seen == [
        (at(9, 23, 30), "tech", K.TICKET_VIEWED, True),
        *late,
        (at(9, 12, 1), "nurse.other", K.ATTACHMENT_VIEWED, False),
        (at(9, 12), "nurse.other", K.TICKET_VIEWED, False),
        (at(9, 11), "tech", K.TICKET_VIEWED, True),
        (at(9, 10), "nurse.medsurg", K.TICKET_VIEWED, False),
    ]
    assert {row.requester_id for row in rows} == {nurse_medsurg.pk}
    assert rows[-1].actor_name.startswith("Maya Tester")
    assert rows[-4].what == "attachment 41"
    assert privacy.ticket_access(ticket_id=log["t2"].pk, limit=1)[0].actor_username == "manager"


def test_what_a_person_viewed_between_two_days(log, outsider, nurse_medsurg):
    rows = privacy.person_activity(user_id=outsider.pk, start=MARCH_9, end=MARCH_9)
    assert [(row.kind, row.ticket_id) for row in rows] == [
        (K.ATTACHMENT_VIEWED, log["t1"].pk),
        (K.TICKET_VIEWED, log["t1"].pk),
        (K.SIGN_IN, None),
    ]
    assert privacy.person_activity(user_id=outsider.pk, start=MARCH_8, end=MARCH_8) == []
    both_days = privacy.person_activity(user_id=nurse_medsurg.pk, start=MARCH_8, end=MARCH_9)
    assert [(row.ticket_id, row.via) for row in both_days] == [
        (log["t1"].pk, "page"),
        (log["t2"].pk, "api"),
    ]


def test_a_day_is_the_hospitals_day(log, tech):
    # 23:30 on the 9th in Chicago is the 10th in UTC: it belongs to the 9th.
    ninth = privacy.person_activity(user_id=tech.pk, start=MARCH_9, end=MARCH_9)
    assert ninth[0].at == at(9, 23, 30)
    assert privacy.person_activity(user_id=tech.pk, start=date(2026, 3, 10),
                                   end=date(2026, 3, 10)) == []  # fmt: skip


def test_reads_by_someone_outside_it_who_is_not_the_requester(log, outsider, nurse_medsurg):
    ninth = privacy.outside_reads(start=MARCH_9, end=MARCH_9)
    assert [(row.actor_username, row.kind, row.ticket_id) for row in ninth] == [
        ("nurse.other", K.ATTACHMENT_VIEWED, log["t1"].pk),
        ("nurse.other", K.TICKET_VIEWED, log["t1"].pk),
    ]
    assert {row.requester_id for row in ninth} == {nurse_medsurg.pk}
    both = privacy.outside_reads(start=MARCH_8, end=MARCH_9)
    assert [(row.actor_username, row.ticket_id, row.via) for row in both][-1] == (
        "nurse.medsurg",
        log["t2"].pk,
        "api",
    )
    assert len(both) == 3


def test_a_burst_is_many_different_tickets_in_a_short_time(log, tech, settings):
    [burst] = privacy.bursts(start=MARCH_9, end=MARCH_9)
    assert (burst.actor_username, burst.first_at, burst.last_at) == (
        "tech",
        at(9, 14),
        at(9, 14, 4),
    )
    assert (burst.tickets, burst.views) == (5, 5)
    # One ticket fewer than the threshold is no burst; a lower threshold makes the manager's one.
    settings.HELPDESK_AUDIT_BURST_VIEWS = 4
    found = privacy.bursts(start=MARCH_9, end=MARCH_9)
    assert [(b.actor_username, b.tickets) for b in found] == [("tech", 5), ("manager", 4)]
    # Spread out over more than the window, the same views are no burst.
    settings.HELPDESK_AUDIT_BURST_MINUTES = 3
    settings.HELPDESK_AUDIT_BURST_VIEWS = 5
    assert privacy.bursts(start=MARCH_9, end=MARCH_9) == []


@pytest.mark.services
@pytest.mark.parametrize(
    ("question", "index"),
    [
        (lambda users: privacy.ticket_access(ticket_id=1), "audit_ticket_at"),
        (lambda users: privacy.person_activity(user_id=users["tech"].pk, start=MARCH_8,
                                               end=MARCH_9), "audit_actor_at"),
        (lambda users: privacy.outside_reads(start=MARCH_8, end=MARCH_9), "audit_kind_at"),
        (lambda users: privacy.bursts(start=MARCH_8, end=MARCH_9), "audit_kind_at"),
    ],
)  # fmt: skip
def test_each_question_is_answered_from_its_index(log, tech, question, index):
    """Whatever the size of the log, each answer reads its index (here with sequential scans
    made too dear to choose, as a log of millions of rows makes them)."""
    need(connection.vendor == "postgresql", "PostgreSQL")
    with CaptureQueriesContext(connection) as queries:
        question({"tech": tech})
    audit_reads = [query["sql"] for query in queries if '"audit_auditentry"' in query["sql"]]
    assert audit_reads
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {audit_reads[0]}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
