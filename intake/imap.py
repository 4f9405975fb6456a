"""The connection to a mailbox: IMAP over implicit TLS or STARTTLS, signed in with a password or,
for Microsoft 365 / Exchange Online (where basic authentication is off), with an OAuth2 token
(XOAUTH2) that ``msal`` obtains with the help desk's client credentials.

``imap-tools`` does the protocol; the messages are fetched by UID as the bytes the server holds,
and left unread (BODY.PEEK): only moving a message marks it as dealt with.
"""

from __future__ import annotations

import contextlib
import re
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import msal
from django.conf import settings
from imap_tools import BaseMailBox, MailBox, MailBoxStartTls

# Seconds one IMAP command may take before the poll gives up (and tries again next minute).
TIMEOUT_SECONDS = 30
GRAPH_SCOPE = "https://outlook.office365.com/.default"
_FETCHED_UID = re.compile(rb"UID (\d+)")


class MailboxUnavailable(Exception):
    """The mailbox could not be reached or signed in to; the message says why, without secrets."""


@dataclass(frozen=True, slots=True)
class MailboxConfig:
    name: str
    host: str
    port: int
    security: str
    ca_file: str
    username: str
    password: str
    oauth_tenant: str
    oauth_client_id: str
    oauth_client_secret: str
    oauth_authority: str
    folder: str
    processed_folder: str
    failed_folder: str
    category: str
    location: str

    @classmethod
    def from_settings(cls, values: dict[str, Any]) -> MailboxConfig:
        return cls(**{key.lower(): value for key, value in values.items()})

    @property
    def uses_oauth(self) -> bool:
        return bool(self.oauth_tenant)


def configured_mailboxes() -> list[MailboxConfig]:
    return [MailboxConfig.from_settings(values) for values in settings.HELPDESK_MAILBOXES.values()]


def mailbox_config(name: str) -> MailboxConfig | None:
    values = settings.HELPDESK_MAILBOXES.get(name)
    return MailboxConfig.from_settings(values) if values else None


def _ssl_context(config: MailboxConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=config.ca_file or None)


def oauth_token(config: MailboxConfig) -> str:
    """An access token for the mailbox from the tenant's identity platform (client credentials
    grant); msal keeps it, and asks again only when it is about to expire."""
    app = _oauth_app(config)
    result = app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
    token = result.get("access_token") if isinstance(result, dict) else None
    if not token:
        error = result.get("error", "no token") if isinstance(result, dict) else "no token"
        raise MailboxUnavailable(f"OAuth2 token refused for {config.name}: {error}")
    return str(token)


# One client per registration, for the process: msal's token cache lives in it.
_oauth_apps: dict[tuple[str, str, str], msal.ConfidentialClientApplication] = {}


def _oauth_app(config: MailboxConfig) -> msal.ConfidentialClientApplication:
    authority = f"{config.oauth_authority}/{config.oauth_tenant}"
    key = (authority, config.oauth_client_id, config.oauth_client_secret)
    if key not in _oauth_apps:
        _oauth_apps[key] = msal.ConfidentialClientApplication(
            config.oauth_client_id,
            client_credential=config.oauth_client_secret,
            authority=authority,
            # The authority is configured, not typed by anyone: no need to ask Microsoft's
            # instance discovery whether it is one of theirs.
            instance_discovery=False,
            timeout=TIMEOUT_SECONDS,
        )
    return _oauth_apps[key]


@contextmanager
def connected(config: MailboxConfig) -> Iterator[BaseMailBox]:
    """A signed-in connection with the folder to read selected; signed out afterwards."""
    kind = MailBox if config.security == "tls" else MailBoxStartTls
    try:
        client = kind(
            config.host, config.port, timeout=TIMEOUT_SECONDS, ssl_context=_ssl_context(config)
        )
        if config.uses_oauth:
            client.xoauth2(config.username, oauth_token(config), initial_folder=config.folder)
        else:
            client.login(config.username, config.password, initial_folder=config.folder)
    except MailboxUnavailable:
        raise
    except Exception as error:  # socket, TLS, protocol and sign-in errors alike
        raise MailboxUnavailable(
            f"{config.host}:{config.port} ({config.security}): {type(error).__name__}: "
            f"{_first_line(error)}"
        ) from error
    try:
        for folder in (config.processed_folder, config.failed_folder):
            if not client.folder.exists(folder):
                client.folder.create(folder)
        yield client
    finally:
        # The poll's work is done: a logout the server drops changes nothing.
        with contextlib.suppress(Exception):
            client.logout()


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0][:200] if str(error) else ""


def fetch_raw(client: BaseMailBox, uids: Sequence[str]) -> Iterator[tuple[str, bytes]]:
    """The messages with these UIDs, as (uid, the bytes the server holds), left unread. A server
    may give a message's UID before its bytes or after them, in the line that closes it."""
    status, data = client.client.uid("FETCH", ",".join(uids), "(UID BODY.PEEK[])")
    if status != "OK":
        raise MailboxUnavailable(f"FETCH failed: {status}")
    pending: bytes | None = None
    for item in data:
        if isinstance(item, tuple):
            head, pending = item[0], item[1]
            match = _FETCHED_UID.search(head)
        elif pending is not None and isinstance(item, bytes):
            match = _FETCHED_UID.search(item)
        else:
            continue
        if match:
            yield match[1].decode(), pending
            pending = None


def move(client: BaseMailBox, uids: Sequence[str], folder: str) -> None:
    if uids:
        client.move(list(uids), folder)
