"""Every Celery task of the app, for the worker's autodiscovery (it imports ``tickets.tasks``).

Each task lives with the work it does and keeps the name it was first published under, so
messages already queued, the beat schedule and unpublished-task rows still find it. Tasks are
thin: each takes ids, loads rows and calls into the app; none carries text."""

from tickets.attachments import attachment_orphan_sweep
from tickets.notifications import (
    deliver_sla_alert,
    deliver_sla_alerts,
    notify_requester_of_reply,
    notify_requester_resolved,
    notify_ticket_filed,
    notify_tickets_filed,
)
from tickets.outgoing import send_email, send_emails
from tickets.paging import deliver_page, deliver_pages
from tickets.sweep import sla_sweep_task

__all__ = [
    "attachment_orphan_sweep",
    "deliver_page",
    "deliver_pages",
    "deliver_sla_alert",
    "deliver_sla_alerts",
    "notify_requester_of_reply",
    "notify_requester_resolved",
    "notify_ticket_filed",
    "notify_tickets_filed",
    "send_email",
    "send_emails",
    "sla_sweep_task",
]
