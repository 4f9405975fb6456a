"""The demo hospital's major incident: last week's EHR outage, declared, updated, joined by the
units it stopped, and resolved with its recovery checklist ticked off. Made through the same
services the pages call."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User

from departments.models import Team
from incidents.services import declare, join, post_update, recovery_tick, resolve
from oncall.models import EscalationPolicy, EscalationStep
from tickets.models import Category, OutgoingEmail

# Who said "me too", by username (clinical staff of the demo hospital).
AFFECTED = ("nurse.ed", "rn.jlopez", "rn.dokafor", "nurse.or", "rn.sfischer", "nurse.medsurg")


def _commander_ladder(team: Team) -> None:
    """A team that has major incidents finds their commander through a ladder of its own: the
    manager on call (re-paged every 5 minutes), after 10 minutes the primary on call."""
    policy = EscalationPolicy.objects.create(
        team=team, purpose=EscalationPolicy.Purpose.COMMANDER, repeat_count=2
    )
    EscalationStep.objects.bulk_create(
        EscalationStep(
            policy=policy, position=position, target=target, repage_minutes=5, wait_minutes=10
        )
        for position, target in enumerate(
            [EscalationStep.Target.MANAGER, EscalationStep.Target.PRIMARY]
        )
    )


def seed_incidents(*, now: datetime, users: dict[str, User]) -> None:
    tech = users["tech"]
    ehr = Category.objects.select_related("team").get(slug="ehr")
    _commander_ladder(ehr.team)
    began = (now - timedelta(days=6)).replace(hour=14, minute=5, second=0, microsecond=0)
    incident = declare(
        by=tech,
        service="EHR (Epic)",
        category=ehr,
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
    # History: nobody is mailed today about last week's outage.
    OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).update(
        status=OutgoingEmail.Status.SKIPPED
    )
