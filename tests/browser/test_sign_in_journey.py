"""Single sign-on in a real browser against a real OpenID Connect provider (its own process,
tests/departments/oidc_provider): the nurse taps "Sign in with <hospital>", signs in at the
directory and lands in the help desk with the account the directory's claims describe; refused
answers (a forged, expired or replayed one) end on the sign-in page with no session; a nurse
the provider switched off is signed out by the next session check."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from audit.models import AuditEntry
from departments.models import Department, Location, OidcSession
from departments.oidc import check_oidc_sessions
from departments.roles import Role
from tests.browser.test_filing_journey import category_tile, question
from tests.departments.oidc_provider.server import OidcProvider
from tickets.models import Ticket

pytestmark = pytest.mark.browser

SSO_BUTTON = "Sign in with Lakeside Regional Medical Center"


def start_sign_in(page: Any, live_server: Any, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name=SSO_BUTTON).click()
    page.get_by_label("Directory username").fill(username)
    page.get_by_label("Directory password").fill(password)
    page.get_by_role("button", name="Continue").click()


def sign_in(page: Any, live_server: Any, provider: OidcProvider, username: str) -> None:
    start_sign_in(page, live_server, username, provider.password)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def expect_refused(page: Any, live_server: Any, message: str) -> None:
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text(message)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto(f"{live_server.url}/tickets/mine/")
    assert urlsplit(page.url).path == "/accounts/login/"


def test_a_nurse_signs_in_with_the_directory_and_gets_her_account(
    page: Any, live_server: Any, oidc: OidcProvider
) -> None:
    sign_in(page, live_server, oidc, "nora.nurse")
    expect(page.get_by_role("link", name="Nora Lindqvist")).to_be_visible()
    # A requester: no queue.
    expect(page.get_by_role("link", name="Queue")).to_have_count(0)

    nora = User.objects.get(username="nora.nurse")
    assert (nora.email, nora.first_name, nora.last_name) == (
        "nora.lindqvist@lakeside.example",
        "Nora",
        "Lindqvist",
    )
    assert not nora.has_usable_password()
    assert set(nora.groups.values_list("name", flat=True)) == {Role.REQUESTER}
    assert nora.profile.home_department is not None
    assert nora.profile.home_department.code == "ED"
    assert nora.profile.callback == "x4411"
    assert OidcSession.objects.filter(subject__gt="").count() == 1


def test_a_nurse_files_from_a_workstation_link_after_signing_in_with_the_directory(
    page: Any, live_server: Any, oidc: OidcProvider
) -> None:
    Location.objects.create(
        department=Department.objects.get(code="ED"),
        code="WOW-ED-07",
        name="Workstation on wheels 7",
        kind=Location.Kind.WORKSTATION,
    )
    # The sticker's link, before she has signed in: the sign-in takes her back to it.
    page.goto(f"{live_server.url}/file/?ws=WOW-ED-07")
    page.get_by_role("link", name=SSO_BUTTON).click()
    page.get_by_label("Directory username").fill("nora.nurse")
    page.get_by_label("Directory password").fill(oidc.password)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Filing from workstation WOW-ED-07")).to_be_visible()

    category_tile(page, "Printers and labels").check()
    page.get_by_label("What's wrong, in one line?").fill("Triage wristband printer printing blank")
    question(page, "Is patient care delayed right now?").get_by_label("Yes").check()
    question(page, "Who is affected?").get_by_label("My unit").check()
    question(page, "Is there a workaround?").get_by_label("Yes").check()
    expect(page.get_by_label("Callback number")).to_have_value("x4411")  # from the directory
    page.get_by_role("button", name="Send to IT").click()

    expect(
        page.get_by_role("heading", name=re.compile(r"Your ticket number is HD-\d+"))
    ).to_be_visible()
    ticket = Ticket.objects.select_related("requester", "location").get()
    assert ticket.requester.username == "nora.nurse"
    assert ticket.location.code == "WOW-ED-07"


def test_the_it_group_makes_a_technician(page: Any, live_server: Any, oidc: OidcProvider) -> None:
    sign_in(page, live_server, oidc, "ivan.it")
    expect(page.get_by_role("link", name="Queue")).to_be_visible()
    assert set(User.objects.get(username="ivan.it").groups.values_list("name", flat=True)) == {
        Role.TECHNICIAN
    }


def test_a_sign_in_coming_back_with_another_state_is_refused(
    page: Any, live_server: Any, oidc: OidcProvider
) -> None:
    def tamper_with_the_state(route: Any) -> None:
        """The help desk's redirect to the provider, its state swapped for one this browser's
        session never issued: the provider sends it back with a good code."""
        response = route.fetch(max_redirects=0)
        location = urlsplit(response.headers["location"])
        query = parse_qs(location.query)
        query["state"] = ["a-state-this-browser-never-sent"]
        tampered = urlunsplit(location._replace(query=urlencode(query, doseq=True)))
        route.fulfill(response=response, headers={**response.headers, "location": tampered})

    page.route(re.compile(r".*/oidc/start/.*"), tamper_with_the_state)
    start_sign_in(page, live_server, "nora.nurse", oidc.password)
    expect_refused(page, live_server, "This sign-in was not started on this computer")
    assert not User.objects.filter(username="nora.nurse").exists()


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("forged", "not signed by a key the hospital's directory publishes"),
        ("expired", "the directory's answer had expired"),
    ],
)
def test_an_id_token_forged_or_expired_is_refused(
    page: Any, live_server: Any, oidc: OidcProvider, mode: str, message: str
) -> None:
    oidc.next_id_token(mode)
    start_sign_in(page, live_server, "nora.nurse", oidc.password)
    expect_refused(page, live_server, message)
    assert not User.objects.filter(username="nora.nurse").exists()


def test_a_provider_clock_a_minute_ahead_is_tolerated(
    page: Any, live_server: Any, oidc: OidcProvider
) -> None:
    oidc.next_id_token("skewed")
    sign_in(page, live_server, oidc, "nora.nurse")


def test_sign_in_goes_on_working_when_the_provider_rotates_its_key(
    browser: Any, page: Any, live_server: Any, oidc: OidcProvider
) -> None:
    sign_in(page, live_server, oidc, "nora.nurse")
    oidc.rotate_key()
    other = browser.new_context()
    try:
        next_nurse = other.new_page()
        sign_in(next_nurse, live_server, oidc, "ivan.it")
    finally:
        other.close()


def test_signing_out_ends_the_help_desk_session_and_the_next_sign_in_asks_for_a_password(
    page: Any, live_server: Any, oidc: OidcProvider
) -> None:
    sign_in(page, live_server, oidc, "nora.nurse")
    page.get_by_role("button", name="Not you? Switch user").click()
    expect(page.get_by_role("link", name=SSO_BUTTON)).to_be_visible()
    assert not OidcSession.objects.exists()
    page.goto(f"{live_server.url}/tickets/mine/")
    assert urlsplit(page.url).path == "/accounts/login/"

    # The provider still has Nora's session, but the next nurse is asked who she is.
    sign_in(page, live_server, oidc, "ivan.it")
    expect(page.get_by_role("link", name="Ivan Okafor")).to_be_visible()


def test_a_back_channel_logout_ends_her_session(
    page: Any, live_server: Any, oidc: OidcProvider
) -> None:
    sign_in(page, live_server, oidc, "nora.nurse")
    endpoint = f"{live_server.url}/oidc/backchannel-logout/"

    forged = oidc.back_channel_logout("nora.nurse", endpoint, forged=True)
    assert forged["status"] == 400
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    assert oidc.back_channel_logout("nora.nurse", endpoint)["status"] == 200
    page.reload()
    expect(page.get_by_role("link", name=SSO_BUTTON)).to_be_visible()
    assert urlsplit(page.url).path == "/accounts/login/"


def test_a_nurse_the_provider_switched_off_is_signed_out_by_the_next_session_check(
    page: Any, live_server: Any, oidc: OidcProvider
) -> None:
    sign_in(page, live_server, oidc, "nora.nurse")
    due = timezone.now() - timedelta(minutes=11)

    # Still in the directory: the check keeps her signed in.
    OidcSession.objects.update(checked_at=due)
    assert check_oidc_sessions().kept == 1
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # The hospital switches her off at the provider, which has no back-channel logout.
    oidc.disable("nora.nurse")
    OidcSession.objects.update(checked_at=due)
    assert check_oidc_sessions().ended == 1
    page.reload()
    expect(page.get_by_role("link", name=SSO_BUTTON)).to_be_visible()
    assert urlsplit(page.url).path == "/accounts/login/"
    assert AuditEntry.objects.filter(kind=AuditEntry.Kind.SIGNED_OUT_BY_PROVIDER).count() == 1


@pytest.mark.parametrize("local_sign_in", [True, False])
def test_the_sign_in_page_with_single_sign_on_has_no_accessibility_violations(
    page: Any, live_server: Any, oidc: OidcProvider, settings: Any, local_sign_in: bool
) -> None:
    settings.HELPDESK = {**settings.HELPDESK, "LOCAL_SIGN_IN": local_sign_in}
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("link", name=SSO_BUTTON)).to_be_visible()
    if not local_sign_in:
        page.get_by_text("Administrator sign-in (when the directory is down)").click()
    expect(page.get_by_label("Password")).to_be_visible()
    violations = Axe().run(page).response["violations"]
    assert [violation["id"] for violation in violations] == []
