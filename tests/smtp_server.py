"""A real SMTP server on a free port of 127.0.0.1 (aiosmtpd), standing in for the hospital's
mail relay: Django's SMTP backend talks to it over a socket, and every message is kept as the
bytes that arrived, which is what a mailbox (and a mail client threading it) reads.

    with SmtpServer() as server:
        ...send mail to 127.0.0.1:server.port...
        server.mails[0].message["In-Reply-To"]

Tests use the ``smtp_server`` fixture of ``tests/conftest.py``, which also points Django's mail
settings at it.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["ReceivedMail", "SmtpServer"]


@dataclass(frozen=True)
class ReceivedMail:
    sender: str  # the envelope's MAIL FROM
    recipients: list[str]  # the envelope's RCPT TO
    data: bytes  # the message exactly as it arrived
    message: EmailMessage = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parsed = message_from_bytes(self.data, policy=policy.default)
        object.__setattr__(self, "message", parsed)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        """Everything a reader sees: the decoded subject and body."""
        body = self.message.get_body(preferencelist=("plain",))
        content = body.get_content() if body is not None else ""
        return f"{self.subject}\n{content}"


class _Recorder:
    def __init__(self) -> None:
        self.mails: list[ReceivedMail] = []
        self.refused: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = ReceivedMail(
            sender=envelope.mail_from,
            recipients=list(envelope.rcpt_tos),
            data=envelope.original_content,
        )
        with self.lock:
            self.mails.append(mail)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """Accepts every message, keeps it in ``mails`` (in arrival order), and stops on exit."""

    def __init__(self) -> None:
        self._recorder = _Recorder()
        self.port = _free_port()
        self._controller = Controller(self._recorder, hostname="127.0.0.1", port=self.port)

    @property
    def mails(self) -> list[ReceivedMail]:
        with self._recorder.lock:
            return list(self._recorder.mails)

    def refuse(self, address: str) -> None:
        """Answer RCPT TO ``address`` with 550, as a relay does for a mailbox that does not
        exist."""
        self._recorder.refused.add(address.lower())

    def to(self, address: str) -> list[ReceivedMail]:
        """The messages whose envelope named ``address``."""
        return [mail for mail in self.mails if address in mail.recipients]

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._controller.stop()
