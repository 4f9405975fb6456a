"""A real IMAP server for the e-mail tests: one dovecot for the whole run (see bench/dovecot.py),
emptied before each test, and the help desk's mailbox pointed at it as the environment would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.dovecot import USERNAME, MailServer, dovecot_available, running_mail_server
from helpdesk.settings import mailboxes_from_env
from intake.imap import MailboxConfig, mailbox_config
from tests.conftest import need
from tests.intake.identity_platform import CLIENT_ID, CLIENT_SECRET, TENANT, IdentityPlatform


@pytest.fixture(scope="session")
def dovecot() -> Iterator[MailServer]:
    need(dovecot_available(), "dovecot (IMAP server)")
    with running_mail_server() as server:
        yield server


def point_at(settings, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Configure the mailboxes as the environment ``env`` would (HELPDESK_MAILBOX*)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings.HELPDESK_MAILBOXES = mailboxes_from_env()


@pytest.fixture
def mail_server(dovecot: MailServer, settings, monkeypatch, reference_data) -> MailServer:
    """The help desk's mailbox "main", empty, read over implicit TLS; its tickets go to the
    Service Desk's "requests" category."""
    dovecot.empty()
    point_at(settings, monkeypatch, dovecot.env("MAIN"))
    settings.HELPDESK_MAIL_VENDOR_DOMAINS = ["pacs-vendor.example"]
    return dovecot


@pytest.fixture
def mailbox(mail_server: MailServer) -> MailboxConfig:
    config = mailbox_config("main")
    assert config is not None
    return config


@pytest.fixture(scope="session")
def oauth_mail() -> Iterator[tuple[MailServer, IdentityPlatform]]:
    """A dovecot that takes OAuth2 tokens (XOAUTH2) from a stand-in identity platform, as
    Microsoft 365 does; the platform serves with the mail server's test certificate."""
    need(dovecot_available(), "dovecot (IMAP server)")
    platform = IdentityPlatform(mailbox_user=USERNAME)
    try:
        with running_mail_server(oauth_tokeninfo_url=platform.tokeninfo_url) as server:
            platform.serve(server.folder)
            yield server, platform
    finally:
        platform.stop()


@pytest.fixture
def oauth_mailbox(oauth_mail, settings, monkeypatch, reference_data) -> MailboxConfig:
    """The mailbox "main" signing in with OAuth2: msal asks the stand-in platform (trusted
    through REQUESTS_CA_BUNDLE, as an operator behind a TLS-inspecting proxy would set it)."""
    server, platform = oauth_mail
    server.empty()
    env = server.env("MAIN")
    del env["HELPDESK_MAILBOX_MAIN_PASSWORD"]
    env |= {
        "HELPDESK_MAILBOX_MAIN_OAUTH_AUTHORITY": platform.base,
        "HELPDESK_MAILBOX_MAIN_OAUTH_TENANT": TENANT,
        "HELPDESK_MAILBOX_MAIN_OAUTH_CLIENT_ID": CLIENT_ID,
        "HELPDESK_MAILBOX_MAIN_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "REQUESTS_CA_BUNDLE": str(server.ca_file),
    }
    monkeypatch.delenv("HELPDESK_MAILBOX_MAIN_PASSWORD", raising=False)
    point_at(settings, monkeypatch, env)
    config = mailbox_config("main")
    assert config is not None
    return config
