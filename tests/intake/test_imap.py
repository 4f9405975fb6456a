"""Signing in to a mailbox: OAuth2 (XOAUTH2) with a token from the identity platform through
msal, as Microsoft 365 mailboxes need, against a dovecot that checks the token."""

from __future__ import annotations

import dataclasses

import pytest

from intake import imap
from intake.polling import poll
from tests.intake.identity_platform import CLIENT_SECRET
from tests.intake.messages import mail
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_an_oauth2_mailbox_is_read_with_a_token_from_the_identity_platform(
    oauth_mail, oauth_mailbox, nurse_ed
):
    server, platform = oauth_mail
    server.deliver(mail().as_bytes())

    result = poll(oauth_mailbox)

    assert result.outcomes == {"filed": 1}
    assert Ticket.objects.get().requester == nurse_ed
    assert server.uids("INBOX") == []
    assert platform.issued  # the mail server took the platform's token, not a password


def test_the_token_is_kept_until_it_expires(oauth_mail, oauth_mailbox):
    _, platform = oauth_mail
    imap.oauth_token(oauth_mailbox)
    asked = platform.token_requests

    poll(oauth_mailbox)
    poll(oauth_mailbox)

    assert platform.token_requests == asked


def test_a_refused_client_secret_is_the_poll_s_error(oauth_mail, oauth_mailbox):
    refused = dataclasses.replace(oauth_mailbox, oauth_client_secret="not-" + CLIENT_SECRET)

    result = poll(refused)

    assert result.error == "OAuth2 token refused for main: invalid_client"
