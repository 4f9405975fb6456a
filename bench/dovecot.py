"""A throwaway IMAP server for the tests and the bench: Debian's ``dovecot`` (dovecot-imapd) on
free ports, run as the current user in the foreground with a configuration, a maildir and a
base_dir of its own in a temporary folder, and one mailbox user with a password (passwd-file).

It speaks IMAP with STARTTLS on ``port`` and implicit TLS on ``tls_port``, with a certificate for
127.0.0.1 signed by a CA of its own (``ca_file``), as a hospital's mail server would. Messages
are placed with IMAP APPEND, as a mail server delivers them.
"""

from __future__ import annotations

import getpass
import grp
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imap_tools import MailBox, MailBoxStartTls

from bench.slapd import free_port, make_certificates

DOVECOT = "/usr/sbin/dovecot"
IMAP_BINARY = "/usr/lib/dovecot/imap"

USERNAME = "helpdesk"
PASSWORD = "mailbox-secret-42"
FOLDERS = ("INBOX", "Processed", "Failed")


def dovecot_available() -> bool:
    return os.access(DOVECOT, os.X_OK) and os.access(IMAP_BINARY, os.X_OK)


def _accounts() -> tuple[str, str, int, int]:
    """Who dovecot's processes run as: the current user; as root (CI), the package's own
    unprivileged users, since dovecot refuses to run its login and mail processes as root.
    Returns the login user, the internal user and the mail's uid and gid."""
    if os.getuid() != 0:
        user = getpass.getuser()
        return user, user, os.getuid(), os.getgid()
    internal = pwd.getpwnam("dovecot")
    return "dovenull", "dovecot", internal.pw_uid, internal.pw_gid


class MailServer:
    """A running dovecot. ``mailbox()`` is a signed-in IMAP client to the test user's mail."""

    def __init__(self, folder: Path, *, oauth_tokeninfo_url: str = "") -> None:
        """``oauth_tokeninfo_url``: also take OAuth2 bearer tokens (XOAUTH2, OAUTHBEARER), checked
        at this URL (``...?access_token=``, over HTTPS with this server's CA) as Microsoft 365's
        mail servers check theirs."""
        self.folder = folder
        self.port = free_port()
        self.tls_port = free_port()
        self.ca_file = make_certificates(folder)
        self.process: subprocess.Popen[bytes] | None = None
        login_user, internal_user, uid, gid = _accounts()
        for sub in ("run", "state", "mail"):
            (folder / sub).mkdir()
        os.chown(folder / "mail", uid, gid)
        # dovecot's auth and mail processes reach their files through the folder.
        folder.chmod(0o711)
        (folder / "users").write_text(
            f"{USERNAME}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{folder / 'mail'}\n"
        )
        self.config = folder / "dovecot.conf"
        self.config.write_text(
            "\n".join(
                [
                    f"base_dir = {folder / 'run'}",
                    f"state_dir = {folder / 'state'}",
                    f"log_path = {folder / 'dovecot.log'}",
                    "protocols = imap",
                    "listen = 127.0.0.1",
                    f"default_internal_user = {internal_user}",
                    f"default_login_user = {login_user}",
                    f"default_internal_group = {grp.getgrgid(gid).gr_name}",
                    "first_valid_uid = 0",
                    "first_valid_gid = 0",
                    "ssl = yes",
                    f"ssl_cert = <{folder / 'server.pem'}",
                    f"ssl_key = <{folder / 'server.key'}",
                    f"auth_mechanisms = plain login{' xoauth2' if oauth_tokeninfo_url else ''}",
                    f"mail_location = maildir:{folder / 'mail'}",
                    "passdb {",
                    "  driver = passwd-file",
                    "  mechanisms = plain login",
                    f"  args = scheme=PLAIN username_format=%u {folder / 'users'}",
                    "}",
                    *(self._oauth_passdb(oauth_tokeninfo_url) if oauth_tokeninfo_url else []),
                    "userdb {",
                    "  driver = passwd-file",
                    f"  args = username_format=%u {folder / 'users'}",
                    "}",
                    "service imap-login {",
                    f"  inet_listener imap {{\n    port = {self.port}\n  }}",
                    f"  inet_listener imaps {{\n    port = {self.tls_port}\n    ssl = yes\n  }}",
                    "}",
                    "service stats {\n  unix_listener stats-reader {\n    mode = 0600\n  }",
                    "  unix_listener stats-writer {\n    mode = 0600\n  }\n}",
                    "",
                ]
            )
        )

    def _oauth_passdb(self, tokeninfo_url: str) -> list[str]:
        settings = self.folder / "oauth2.conf.ext"
        settings.write_text(
            f"tokeninfo_url = {tokeninfo_url}\n"
            "username_attribute = email\n"
            f"tls_ca_cert_file = {self.ca_file}\n"
        )
        return [
            "passdb {",
            "  driver = oauth2",
            "  mechanisms = xoauth2",
            f"  args = {settings}",
            "}",
        ]

    def start(self) -> None:
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                with self.mailbox() as mailbox:
                    for name in FOLDERS[1:]:
                        if not mailbox.folder.exists(name):
                            mailbox.folder.create(name)
                return
            except (OSError, ssl.SSLError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.folder / "dovecot.log"
                    detail = log.read_text()[-2000:] if log.exists() else ""
                    raise RuntimeError(f"dovecot did not start on {self.port}: {detail}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def mailbox(self, folder: str = "INBOX") -> MailBox:
        """A signed-in client on the implicit-TLS port (use it in a ``with`` block)."""
        client = MailBox("127.0.0.1", self.tls_port, ssl_context=self.ssl_context())
        client.login(USERNAME, PASSWORD, initial_folder=folder)
        return client

    def starttls_mailbox(self) -> MailBoxStartTls:
        client = MailBoxStartTls("127.0.0.1", self.port, ssl_context=self.ssl_context())
        client.login(USERNAME, PASSWORD)
        return client

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        """Place messages in a folder, as the mail server does when mail arrives."""
        with self.mailbox() as mailbox:
            for message in messages:
                mailbox.append(message, folder)

    def uids(self, folder: str) -> list[str]:
        with self.mailbox(folder) as mailbox:
            return list(mailbox.uids())

    def empty(self) -> None:
        """Every folder emptied, for the next test."""
        with self.mailbox() as mailbox:
            for name in FOLDERS:
                mailbox.folder.set(name)
                uids = mailbox.uids()
                if uids:
                    mailbox.delete(uids)

    def env(self, name: str = "MAIN", *, starttls: bool = False) -> dict[str, str]:
        """The HELPDESK_MAILBOX_* variables that point a mailbox called ``name`` at this server."""
        prefix = f"HELPDESK_MAILBOX_{name}_"
        return {
            "HELPDESK_MAILBOXES": name.lower(),
            f"{prefix}HOST": "127.0.0.1",
            f"{prefix}PORT": str(self.port if starttls else self.tls_port),
            f"{prefix}SECURITY": "starttls" if starttls else "tls",
            f"{prefix}CA_FILE": str(self.ca_file),
            f"{prefix}USERNAME": USERNAME,
            f"{prefix}PASSWORD": PASSWORD,
        }


@contextmanager
def running_mail_server(*, oauth_tokeninfo_url: str = "") -> Iterator[MailServer]:
    """A started dovecot, stopped and wiped afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    server = MailServer(folder, oauth_tokeninfo_url=oauth_tokeninfo_url)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
