"""The mailbox poll, run by Celery beat every minute (HELPDESK_MAIL_POLL_SECONDS). It carries no
arguments: the mailboxes come from the settings, one poll per mailbox at a time (the lease in
intake/polling.py), so two beats, or a beat and a poll by hand, never read a message twice."""

from __future__ import annotations

from celery import shared_task

from intake.imap import configured_mailboxes
from intake.polling import poll


@shared_task(name="intake.tasks.poll_mailboxes", soft_time_limit=120, time_limit=150)
def poll_mailboxes() -> list[str]:
    return [poll(config).summary for config in configured_mailboxes()]
