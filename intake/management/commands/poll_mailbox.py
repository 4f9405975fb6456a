"""Read the help desk's mailboxes once, now: ``manage.py poll_mailbox [NAME ...]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from intake.imap import configured_mailboxes
from intake.polling import poll


class Command(BaseCommand):
    help = "Read the help desk's mailboxes once (all of them, or those named)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="mailbox names, as in HELPDESK_MAILBOXES")

    def handle(self, *args: Any, names: list[str], **options: Any) -> None:
        mailboxes = configured_mailboxes()
        if not mailboxes:
            raise CommandError(
                "No mailbox is configured: set HELPDESK_MAILBOXES (README, E-mail in)."
            )
        unknown = set(names) - {config.name for config in mailboxes}
        if unknown:
            raise CommandError(f"No mailbox called {', '.join(sorted(unknown))}.")
        failed = False
        for config in mailboxes:
            if names and config.name not in names:
                continue
            result = poll(config)
            failed |= bool(result.error)
            self.stdout.write(result.summary)
        if failed:
            raise CommandError("A mailbox could not be read (see above).")
