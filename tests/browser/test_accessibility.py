"""axe-core, the accessibility engine, run in the browser on every page a nurse, a technician and
a manager use in a shift: it finds nothing to fix (WCAG 2.1 A and AA, and axe's best practices
such as every part of a page sitting in a landmark)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from departments.models import Department
from incidents.downtime import DowntimeNotice, downtime_schedule
from intake.models import InboundMessage
from tests.browser.conftest import login
from tests.factories import TicketFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_comment, ticket_resolve

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _nurse_ticket() -> Ticket:
    nurse = UserFactory(username="nurse.ed")
    return TicketFactory(requester=nurse, title="Badge tap not working on WOW-ED-07")


def _worked_ticket(*, resolved: bool = False) -> Ticket:
    """An open ticket (every workspace action on offer) with a reply and an internal note on
    its timeline, and another open one from the same unit; or the same, resolved."""
    tech = UserFactory(username="tech")
    ticket = TicketFactory(title="Triage wristband printer printing blank bands")
    ticket_comment(ticket=ticket, author=tech, text="Swapping the ribbon now.", internal=False)
    ticket_comment(ticket=ticket, author=tech, text="Ribbon lot 4471 is faulty.", internal=True)
    if resolved:
        ticket_resolve(ticket=ticket, actor=tech, code="fixed", note="New ribbon fitted.")
    TicketFactory(title="Discharge papers printing to wrong printer")
    return ticket


def _emailed_ticket() -> Ticket:
    """A ticket filed by e-mail, waiting for its three answers."""
    nurse = UserFactory(username="nurse.ed")
    return TicketFactory(
        requester=nurse,
        title="Printer on 4 West keeps jamming",
        source=Ticket.Source.EMAIL,
        needs_triage=True,
    )


def _my_tickets() -> str:
    _nurse_ticket()
    return "/tickets/mine/"


def _queue() -> str:
    TicketFactory.create_batch(3)
    return "/queue/"


def _report() -> str:
    _worked_ticket(resolved=True)
    return "/reports/compliance/"


def _held_mail() -> str:
    held = InboundMessage.objects.create(
        mailbox="main",
        message_key="<held-1@agency.example>",
        received_at=timezone.now(),
        sender="sam.lee@agency.example",
        sender_name="Sam Lee",
        subject="Cannot sign in to the EHR on 4 North",
        outcome=InboundMessage.Outcome.HELD,
        hold=InboundMessage.Hold.UNKNOWN_SENDER,
        body="Agency nurse, first shift today.\nThe EHR says my account is locked.",
        raw=b"From: sam.lee@agency.example\r\n\r\nAgency nurse\r\n",
    )
    return f"/mail/review/{held.pk}/"


def _downtimes(path: str) -> Callable[[], str]:
    """A downtime for the ED and a hospital-wide drill, then the page at ``path``."""

    def make() -> str:
        soon = timezone.now() + timedelta(days=2)
        for departments, drill in (([Department.objects.get(code="ED")], False), ([], True)):
            notice = DowntimeNotice(
                service="EHR (Epic)",
                reason="Upgrade",
                starts_at=soon,
                length=timedelta(hours=2),
                departments=departments,
                hospital_wide=not departments,
                procedure="Use the downtime forms.",
                is_drill=drill,
            )
            downtime_schedule(notice=notice, by=User.objects.get(username="tech"))
        return path

    return make


# Each page: who signs in, and what makes the data it shows and gives its path.
PAGES: dict[str, tuple[str | None, Callable[[], str]]] = {
    "login": (None, lambda: "/accounts/login/"),
    "filing": ("nurse.ed", lambda: "/file/"),
    "confirmation": ("nurse.ed", lambda: f"/tickets/{_nurse_ticket().pk}/filed/"),
    "my tickets": ("nurse.ed", _my_tickets),
    "ticket waiting for triage": ("nurse.ed", lambda: _emailed_ticket().get_absolute_url()),
    "three questions": ("nurse.ed", lambda: f"/tickets/{_emailed_ticket().pk}/questions/"),
    "queue": ("tech", _queue),
    "workspace": ("tech", lambda: _worked_ticket().get_absolute_url()),
    "compliance report": ("manager", _report),
    "e-mail in": ("tech", lambda: "/mail/"),
    "mail to review": ("tech", _held_mail),
    "upcoming downtimes": ("nurse.ed", _downtimes("/downtime/")),
    "planned downtime": ("tech", _downtimes("/downtime/manage/")),
    "schedule a downtime": ("tech", lambda: "/downtime/manage/new/"),
    "major incidents report": ("manager", lambda: "/reports/incidents/"),
}


def _violations(results: Any) -> list[str]:
    return [
        f"{violation['id']}: {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"])
        for violation in results.response["violations"]
    ]


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_accessibility_violations(
    name: str, page: Any, live_server: Any, nurse_ed: Any, tech: Any, manager: Any
) -> None:
    user, path = PAGES[name]
    target = path()
    if user is not None:
        login(page, live_server, user)
    page.goto(f"{live_server.url}{target}")
    expect(page.get_by_role("main")).to_be_visible()
    # The folded panels (the workspace's actions, the queue's filters) are checked open.
    page.evaluate("document.querySelectorAll('details').forEach((panel) => { panel.open = true; })")
    results = Axe().run(page)
    assert _violations(results) == []
