"""The demo hospital's major incident: last week's EHR outage, declared, updated, joined by the
units it stopped, and resolved with its recovery checklist ticked off. Made through the same
services the pages call."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User

from incidents.services import declare, join, post_update, recovery_tick, resolve
from tickets.models import Category

# Who said "me too", by username (clinical staff of the demo hospital).
AFFECTED = ("nurse.ed", "rn.jlopez", "rn.dokafor", "nurse.or", "rn.sfischer", "nurse.medsurg")


def seed_incidents(*, now: datetime, users: dict[str, User]) -> None:
    tech = users["tech"]
    began = (now - timedelta(days=6)).replace(hour=14, minute=5, second=0, microsecond=0)
    incident = declare(
        by=tech,
        service="EHR (Epic)",
        category=Category.objects.get(slug="ehr"),
        message="Epic is down across the hospital: charts, orders and results cannot be opened.",
        workaround=(
            "Use downtime forms; the read-only BCA workstation is at the charge nurse desk. "
            "Call the lab and pharmacy for results and orders."
        ),
        next_update_at=began + timedelta(minutes=30),
        now=began,
    )
    for minutes, username in enumerate(AFFECTED, start=3):
        join(
            incident=incident,
            user=users[username],
            now=began + timedelta(minutes=minutes),
        )
    post_update(
        incident=incident,
        by=tech,
        text="The vendor found a failed database node and is failing over to the standby.",
        next_update_at=began + timedelta(minutes=75),
        now=began + timedelta(minutes=28),
    )
    post_update(
        incident=incident,
        by=tech,
        text="Failover done; Epic is coming back unit by unit. Keep using downtime forms.",
        next_update_at=began + timedelta(minutes=110),
        now=began + timedelta(minutes=72),
    )
    ended = began + timedelta(minutes=96)
    resolve(
        incident=incident,
        by=tech,
        resolution="The EHR is back. Re-enter the orders and notes from the downtime forms.",
        now=ended,
    )
    for item in incident.recovery.all():
        recovery_tick(item=item, by=tech, now=ended + timedelta(minutes=45))
