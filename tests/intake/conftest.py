"""A real IMAP server for the e-mail tests: one dovecot for the whole run (see bench/dovecot.py),
emptied before each test, and the help desk's mailbox pointed at it as the environment would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.dovecot import MailServer, dovecot_available, running_mail_server
from helpdesk.settings import mailboxes_from_env
from intake.imap import MailboxConfig, mailbox_config
from tests.conftest import need


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
