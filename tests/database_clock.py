"""The outbox judges how long a page or an e-mail has waited, and how long a worker has held
one, on the database's clock, which time-machine does not move. A test lets that time pass by
moving the rows' own times back by as much."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import DurationField, ExpressionWrapper, F
from django.db.models.functions import Now

from tickets.models import OutgoingEmail, Page

OUTBOX_TIMES = {Page: ("queued_at", "claimed_at"), OutgoingEmail: ("attempt_at", "claimed_at")}


def let_pass(by: timedelta) -> None:
    """As if ``by`` had passed on the database's clock for every page and e-mail."""
    for model, fields in OUTBOX_TIMES.items():
        model.objects.update(**{name: F(name) - by for name in fields})


def due_in(email: OutgoingEmail) -> timedelta:
    """How long the e-mail waits for its next attempt, by the database's clock."""
    left = ExpressionWrapper(F("attempt_at") - Now(), output_field=DurationField())
    wait: timedelta = (
        OutgoingEmail.objects.filter(pk=email.pk)
        .annotate(left=left)
        .values_list("left", flat=True)
        .get()
    )
    return wait
