"""A small hand-made help desk for the report tests: ten tickets filed from Monday 2 February to
Sunday 15 February 2026 (two whole weeks, America/Chicago, CST = UTC-6, no DST change), plus
tickets just outside the range on both sides and two old open ones for the backlog.

Every stored fact is set by hand (not by the SLA engine), so the tests' expected answers are
worked out from this table alone. Times are local; durations in seconds.

ticket  dept P  filed (local)     team            status       response       resolution
A1      ED   1  Mon 2 Feb 08:00   clinical-apps   closed       met 300/300    met 7200/7200
A2      ED   1  Tue 3 Feb 16:00   field-services  resolved     LATE 1500      met 10800
A3      ED   1  Sat 7 Feb 02:00   clinical-apps   closed       met 600        LATE 18000
A4      ED   2  Tue 10 Feb 12:00  service-desk    in_progress  met 900        reopened, open
A5      ED   2  Sun 15 Feb 23:59  clinical-apps   new          LATE, no reply -
B1      MS   3  Wed 4 Feb 09:00   field-services  closed       met 3600/3600  met 86400/28800
B2      MS   3  Wed 4 Feb 10:00   field-services  closed       met 7200/7200  met 172800/57600
B3      MS   3  Wed 11 Feb 22:00  service-desk    resolved     met 36000/3600 LATE 345600/115200
B4      MS   4  Sat 14 Feb 15:00  field-services  cancelled    -              -
C1      ICU  2  Mon 9 Feb 07:00   biomed          closed       met 1200       met 14400
X1      ED   1  Sun 1 Feb 23:59 (before the range), X2 ED 1 Mon 16 Feb 00:00 (after it)
O1, O2  MS   3  5 Jan and 25 Jan, still waiting on a vendor (the backlog)

Times are wall-clock/business seconds (one number: both the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

from departments.models import Department, Location
from tests.factories import TicketFactory, UserFactory
from tickets.models import Category, Page, PageChain, Ticket, TicketEvent

CHICAGO = ZoneInfo("America/Chicago")
START = date(2026, 2, 2)
END = date(2026, 2, 15)
# The reports are read the morning after the range.
NOW = datetime(2026, 2, 16, 6, 0, tzinfo=CHICAGO)

S = Ticket.Status
Kind = TicketEvent.Kind


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CHICAGO)


def seconds(ticket_time: datetime, offset: float) -> datetime:
    return ticket_time + timedelta(seconds=offset)


@dataclass
class DataSet:
    tickets: dict[str, Ticket]
    tech: User
    tech2: User
    manager: User

    def __getitem__(self, name: str) -> Ticket:
        return self.tickets[name]

    def pks(self, *names: str) -> set[int]:
        return {self.tickets[name].pk for name in names}


def _ticket(
    location: str,
    category: str,
    priority: int,
    created: datetime,
    status: str,
    *,
    assignee: User | None = None,
    title: str = "",
    **facts: Any,
) -> Ticket:
    ticket = TicketFactory(
        location=Location.objects.get(code=location),
        category=Category.objects.get(slug=category),
        priority=priority,
        created_at=created,
        status=status,
        assignee=assignee,
        **({"title": title} if title else {}),
        description="Patient Jane Doe MRN 12345678 in bed 4",
    )
    # The facts the SLA engine would have stored, set by hand. update() leaves updated_at alone.
    Ticket.objects.filter(pk=ticket.pk).update(**facts)
    ticket.refresh_from_db()
    return ticket


def responded(created: datetime, wall: float, business: float, *, met: bool) -> dict[str, Any]:
    return {
        "first_response_at": seconds(created, wall),
        "response_seconds": wall,
        "response_business_seconds": business,
        "response_met": met,
    }


def resolved(created: datetime, wall: float, business: float, *, met: bool) -> dict[str, Any]:
    return {
        "resolved_at": seconds(created, wall),
        "resolution_seconds": wall,
        "resolution_business_seconds": business,
        "resolution_met": met,
    }


def event(ticket: Ticket, offset: float, kind: str, actor: User | None, **fields: Any) -> None:
    TicketEvent.objects.create(
        ticket=ticket, at=seconds(ticket.created_at, offset), kind=kind, actor=actor, **fields
    )


def reopen(ticket: Ticket, resolved_at: float, reopened_at: float, actor: User) -> None:
    event(ticket, resolved_at, Kind.STATUS, actor, is_public=True,
          old_value=S.IN_PROGRESS, new_value=S.RESOLVED)  # fmt: skip
    event(ticket, reopened_at, Kind.STATUS, ticket.requester, is_public=True,
          old_value=S.RESOLVED, new_value=S.IN_PROGRESS)  # fmt: skip


def chain(ticket: Ticket, *, status: str, ack_after: float | None = None, step: int = 0,
          round: int = 0, sent: int = 0, other: tuple[str, ...] = (),
          recipient: User) -> PageChain:  # fmt: skip
    found = PageChain.objects.create(
        ticket=ticket,
        team=ticket.team,
        reason=PageChain.Reason.P1_FILED,
        status=status,
        started_at=ticket.created_at,
        step_started_at=ticket.created_at,
        step=step,
        round=round,
        acknowledged_at=None if ack_after is None else seconds(ticket.created_at, ack_after),
    )
    statuses = [Page.Status.SENT] * sent + list(other)
    for repeat, page_status in enumerate(statuses):
        Page.objects.create(
            chain=found, ticket=ticket, step=0, round=0, repeat=repeat, target="primary",
            recipient=recipient, channel="console", status=page_status,
        )  # fmt: skip
    return found


@pytest.fixture
def dataset(reference_data: None, tech: User, manager: User) -> DataSet:
    tech2 = UserFactory(username="tech2", first_name="Jordan", last_name="Reyes",
                        role="technician")  # fmt: skip
    tech.last_name = "Nguyen"
    tech.save(update_fields=["last_name"])
    ed = Department.objects.get(code="ED")
    medsurg = Department.objects.get(code="MEDSURG")
    Location.objects.create(department=ed, code="WOW-ED-07", name="ED WOW 07",
                            kind=Location.Kind.WORKSTATION)  # fmt: skip
    Location.objects.create(department=medsurg, code="MS-8N", name="Med-Surg 8 North")
    t: dict[str, Ticket] = {}

    c = local(2, 2, 8)
    t["A1"] = _ticket("WOW-ED-07", "ehr-2", 1, c, S.CLOSED, assignee=tech,
                      title="Epic frozen on all triage PCs",
                      closed_at=seconds(c, 3 * 86400),
                      **responded(c, 300, 300, met=True),
                      **resolved(c, 7200, 7200, met=True))  # fmt: skip
    c = local(2, 3, 16)
    t["A2"] = _ticket("ED", "printers-1", 1, c, S.RESOLVED, assignee=tech,
                      title="=HYPERLINK(\"http://x\") wristband printer",
                      response_due_at=seconds(c, 900), response_breached_at=seconds(c, 930),
                      resolution_due_at=seconds(c, 14400),
                      **responded(c, 1500, 1500, met=False),
                      **resolved(c, 10800, 10800, met=True))  # fmt: skip
    c = local(2, 7, 2)
    t["A3"] = _ticket("WOW-ED-07", "ehr-2", 1, c, S.CLOSED, assignee=tech2,
                      closed_at=seconds(c, 4 * 86400),
                      resolution_due_at=seconds(c, 14400),
                      resolution_breached_at=seconds(c, 14410),
                      **responded(c, 600, 600, met=True),
                      **resolved(c, 18000, 18000, met=False))  # fmt: skip
    c = local(2, 10, 12)
    t["A4"] = _ticket("WOW-ED-07", "identity-3", 2, c, S.IN_PROGRESS, assignee=tech,
                      **responded(c, 900, 900, met=True))  # fmt: skip
    c = local(2, 15, 23, 59)
    t["A5"] = _ticket("WOW-ED-07", "ehr-2", 2, c, S.NEW,
                      response_due_at=seconds(c, 1800),
                      response_breached_at=seconds(c, 1805))  # fmt: skip
    c = local(2, 4, 9)
    # The ward's printer trouble came in by e-mail, the monitors' through the API, and one
    # call by phone: the sources report's channels.
    t["B1"] = _ticket("MS-8N", "printers-4", 3, c, S.CLOSED, assignee=tech,
                      source=Ticket.Source.EMAIL, closed_at=seconds(c, 5 * 86400),
                      **responded(c, 3600, 3600, met=True),
                      **resolved(c, 86400, 28800, met=True))  # fmt: skip
    c = local(2, 4, 10)
    t["B2"] = _ticket("MS-8N", "printers-4", 3, c, S.CLOSED, assignee=tech,
                      source=Ticket.Source.EMAIL, closed_at=seconds(c, 6 * 86400),
                      **responded(c, 7200, 7200, met=True),
                      **resolved(c, 172800, 57600, met=True))  # fmt: skip
    c = local(2, 11, 22)
    t["B3"] = _ticket("MEDSURG", "identity", 3, c, S.RESOLVED, assignee=tech2,
                      resolution_due_at=seconds(c, 259200),
                      resolution_breached_at=seconds(c, 259230),
                      **responded(c, 36000, 3600, met=True),
                      **resolved(c, 345600, 115200, met=False))  # fmt: skip
    c = local(2, 14, 15)
    t["B4"] = _ticket("MEDSURG", "workstations-1", 4, c, S.CANCELLED,
                      source=Ticket.Source.PHONE, updated_at=seconds(c, 3600))  # fmt: skip
    c = local(2, 9, 7)
    t["C1"] = _ticket("ICU", "devices-1", 2, c, S.CLOSED, assignee=tech2,
                      source=Ticket.Source.API, closed_at=seconds(c, 3 * 86400),
                      **responded(c, 1200, 1200, met=True),
                      **resolved(c, 14400, 14400, met=True))  # fmt: skip
    # Just outside the range, on both sides of it.
    c = local(2, 1, 23, 59)
    t["X1"] = _ticket("ED", "ehr-2", 1, c, S.CLOSED, assignee=tech,
                      closed_at=seconds(c, 86400),
                      **responded(c, 120, 120, met=True),
                      **resolved(c, 7200, 7200, met=True))  # fmt: skip
    c = local(2, 16, 0, 0)
    t["X2"] = _ticket("ED", "ehr-2", 1, c, S.NEW,
                      response_due_at=seconds(c, 900),
                      response_breached_at=seconds(c, 905))  # fmt: skip
    # Old tickets still open: the backlog.
    t["O1"] = _ticket("MEDSURG", "printers-4", 3, local(1, 5, 12), S.WAITING_ON_VENDOR,
                      assignee=tech2)  # fmt: skip
    t["O2"] = _ticket("MEDSURG", "printers-4", 3, local(1, 25, 12), S.WAITING_ON_VENDOR,
                      assignee=tech2)  # fmt: skip

    # Timelines: IT replies (for first-contact resolution) and reopens.
    event(t["A1"], 7200, Kind.STATUS, tech, is_public=True,
          old_value=S.IN_PROGRESS, new_value=S.RESOLVED)  # fmt: skip
    event(t["A1"], 3 * 86400, Kind.STATUS, None, is_public=True,
          old_value=S.RESOLVED, new_value=S.CLOSED)  # fmt: skip
    event(t["A2"], 1500, Kind.COMMENT, tech, is_public=True, text="On my way.")
    event(t["A2"], 3000, Kind.COMMENT, manager, is_public=True, text="Vendor called.")
    event(t["B1"], 1800, Kind.COMMENT, tech, is_public=True, text="Fixed the tray.")
    event(t["B1"], 2000, Kind.INTERNAL_NOTE, tech, text="Tray spring worn.")
    event(t["B3"], 5000, Kind.COMMENT, t["B3"].requester, is_public=True, text="Still locked.")
    event(t["C1"], 100, Kind.COMMENT, tech2, is_public=True, text="Looking now.")
    event(t["C1"], 20000, Kind.COMMENT, tech2, is_public=True, text="All good since?")
    reopen(t["B2"], 86400, 90000, tech)
    reopen(t["A3"], 10800, 12600, tech2)
    reopen(t["A4"], 3600, 7200, tech)

    # Paging for the critical areas.
    chain(t["A1"], status=PageChain.Status.ACKNOWLEDGED, ack_after=240, sent=1, recipient=tech)
    chain(t["A2"], status=PageChain.Status.ACKNOWLEDGED, ack_after=1200, step=1, sent=2,
          other=(Page.Status.CANCELLED,), recipient=tech)  # fmt: skip
    chain(t["A3"], status=PageChain.Status.UNANSWERED, step=2, round=1, sent=6,
          other=(Page.Status.FAILED,), recipient=tech)  # fmt: skip
    chain(t["A5"], status=PageChain.Status.ACTIVE, sent=1, other=(Page.Status.PENDING,),
          recipient=tech)  # fmt: skip
    chain(t["C1"], status=PageChain.Status.ACKNOWLEDGED, ack_after=600, sent=1, recipient=tech)
    chain(t["X2"], status=PageChain.Status.ACKNOWLEDGED, ack_after=60, sent=1, recipient=tech)
    return DataSet(tickets=t, tech=tech, tech2=tech2, manager=manager)


@pytest.fixture
def more_tickets(dataset: DataSet) -> int:
    """Thirty more tickets in the range, across departments, teams and outcomes: the "bigger"
    data set of the query-count tests."""
    places = ["ED", "ICU", "MEDSURG", "OR", "HIM", "WOW-ED-07"]
    categories = ["ehr-2", "printers-1", "identity", "devices-1", "network-1", "pacs-1"]
    for n in range(30):
        created = local(2, 2 + n % 14, (n * 5) % 24, n % 60)
        _ticket(places[n % len(places)], categories[n % len(categories)], 1 + n % 5, created,
                [S.CLOSED, S.IN_PROGRESS, S.NEW][n % 3],
                assignee=[dataset.tech, dataset.tech2, None][n % 3],
                **responded(created, 60.0 * (n + 1), 50.0 * (n + 1), met=n % 4 != 0),
                **(resolved(created, 3600.0 * (n + 1), 1800.0 * (n + 1), met=n % 3 != 1)
                   if n % 3 == 0 else {}))  # fmt: skip
    return 30


@pytest.fixture
def fixed_answers(dataset: DataSet) -> DataSet:
    """The requesters' answers to "Fixed?" (fixed_confirmed: True yes, False still broken, None
    unanswered; still_broken_count: times she said still broken).

    team            ticket  answer          still broken  counted as answered
    field-services  A2      yes             0             yes
    field-services  B1      yes             0             yes
    field-services  B2      yes             1 (2nd try)   yes, still broken once
    field-services  F1      still broken    1             yes, still broken
    field-services  F2      -               0             no (never answered)
    field-services  F3      - (reopened)    2             yes, still broken
    clinical-apps   A1      yes             0             yes
    clinical-apps   A3      still broken    1             yes, still broken
    clinical-apps   X1      yes             1             no: filed before the range
    -> field services 3 of 5 (60.0%); clinical applications 1 of 2 (too few to judge).
    """
    for name in ("F1", "F2", "F3"):
        created = local(2, 12, 10)
        dataset.tickets[name] = _ticket("ED", "printers-1", 3, created, S.RESOLVED,
                                        assignee=dataset.tech,
                                        **resolved(created, 3600, 3600, met=True))  # fmt: skip
    answers = {
        "A2": (True, 0), "B1": (True, 0), "B2": (True, 1), "F1": (False, 1), "F2": (None, 0),
        "F3": (None, 2), "A1": (True, 0), "A3": (False, 1), "X1": (True, 1),
    }  # fmt: skip
    for name, (confirmed, still_broken) in answers.items():
        Ticket.objects.filter(pk=dataset[name].pk).update(
            fixed_confirmed=confirmed, still_broken_count=still_broken
        )
    return dataset
