"""The help desk's mailboxes as the environment describes them (HELPDESK_MAILBOX*): what is read
for each, and the start-up refusing a mailbox that cannot work, with the variable's name."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from helpdesk.settings import mailboxes_from_env

PASSWORD_MAILBOX = {
    "HELPDESK_MAILBOXES": "servicedesk",
    "HELPDESK_MAILBOX_SERVICEDESK_HOST": "mail.lakeside.example",
    "HELPDESK_MAILBOX_SERVICEDESK_USERNAME": "helpdesk@lakeside.example",
    "HELPDESK_MAILBOX_SERVICEDESK_PASSWORD": "app-password",
}
OAUTH_MAILBOX = {
    "HELPDESK_MAILBOX_PACS_HOST": "outlook.office365.com",
    "HELPDESK_MAILBOX_PACS_USERNAME": "pacs-help@lakeside.example",
    "HELPDESK_MAILBOX_PACS_OAUTH_TENANT": "7d1c-tenant",
    "HELPDESK_MAILBOX_PACS_OAUTH_CLIENT_ID": "9f3e-helpdesk",
    "HELPDESK_MAILBOX_PACS_OAUTH_CLIENT_SECRET": "client-secret",
    "HELPDESK_MAILBOX_PACS_CATEGORY": "pacs",
}


@pytest.fixture
def env(monkeypatch):
    for name in (*PASSWORD_MAILBOX, *OAUTH_MAILBOX):
        monkeypatch.delenv(name, raising=False)

    def setenv(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return setenv


def test_no_mailbox_until_one_is_named(env):
    assert mailboxes_from_env() == {}


def test_a_mailbox_with_a_password_over_implicit_tls_by_default(env):
    env(PASSWORD_MAILBOX)

    mailbox = mailboxes_from_env()["servicedesk"]

    assert (mailbox["PORT"], mailbox["SECURITY"]) == (993, "tls")
    assert (mailbox["FOLDER"], mailbox["PROCESSED_FOLDER"], mailbox["FAILED_FOLDER"]) == (
        "INBOX",
        "Processed",
        "Failed",
    )
    assert mailbox["CATEGORY"] == "requests"


def test_several_mailboxes_feed_several_teams(env):
    env({**PASSWORD_MAILBOX, **OAUTH_MAILBOX, "HELPDESK_MAILBOXES": "servicedesk, PACS"})
    env({"HELPDESK_MAILBOX_SERVICEDESK_SECURITY": "starttls"})

    mailboxes = mailboxes_from_env()

    assert list(mailboxes) == ["servicedesk", "pacs"]
    assert (mailboxes["servicedesk"]["SECURITY"], mailboxes["servicedesk"]["PORT"]) == (
        "starttls",
        143,
    )
    assert mailboxes["pacs"]["OAUTH_TENANT"] == "7d1c-tenant"
    assert mailboxes["pacs"]["CATEGORY"] == "pacs"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"HELPDESK_MAILBOXES": "service desk"}, "HELPDESK_MAILBOXES must list names"),
        ({"HELPDESK_MAILBOXES": "servicedesk,servicedesk"}, "names a mailbox twice"),
        ({"HELPDESK_MAILBOX_SERVICEDESK_HOST": ""}, "HELPDESK_MAILBOX_SERVICEDESK_HOST"),
        ({"HELPDESK_MAILBOX_SERVICEDESK_SECURITY": "ssl"}, "_SECURITY must be tls"),
        ({"HELPDESK_MAILBOX_SERVICEDESK_PORT": "imap"}, "_PORT must be a whole number"),
        ({"HELPDESK_MAILBOX_SERVICEDESK_PASSWORD": ""}, "signs in with"),
        (
            {"HELPDESK_MAILBOX_SERVICEDESK_OAUTH_TENANT": "7d1c-tenant"},
            "needs HELPDESK_MAILBOX_SERVICEDESK_OAUTH_TENANT",
        ),
        ({"HELPDESK_MAILBOX_SERVICEDESK_CA_FILE": "/nowhere/ca.pem"}, "_CA_FILE: no such file"),
        (
            {"HELPDESK_MAILBOX_SERVICEDESK_OAUTH_AUTHORITY": "http://login.example"},
            "_OAUTH_AUTHORITY must be the identity platform's https:// address",
        ),
        (
            {"HELPDESK_MAILBOX_SERVICEDESK_PROCESSED_FOLDER": "INBOX"},
            "three different folders",
        ),
    ],
)
def test_a_mailbox_that_cannot_work_stops_the_start(env, change, complaint):
    env({**PASSWORD_MAILBOX, **change})

    with pytest.raises(ImproperlyConfigured, match=complaint):
        mailboxes_from_env()


def test_password_and_oauth_together_are_refused(env):
    env(
        {
            **PASSWORD_MAILBOX,
            **{
                key.replace("_PACS_", "_SERVICEDESK_"): value
                for key, value in OAUTH_MAILBOX.items()
                if "OAUTH" in key
            },
        }
    )

    with pytest.raises(ImproperlyConfigured, match="not both"):
        mailboxes_from_env()
