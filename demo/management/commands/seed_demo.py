"""``manage.py seed_demo``: fill a demo installation with Lakeside Regional Medical Center's help
desk. Safe to run on every start: it seeds once and then says so."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.data import DEMO_PASSWORD
from demo.generate import DemoRefused, seed_demo


class Command(BaseCommand):
    help = (
        "Seed demo accounts, locations and three months of tickets (only with DEBUG or "
        "HELPDESK_DEMO on, and only once)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            summary = seed_demo()
        except DemoRefused as refused:
            raise CommandError(str(refused)) from None
        if not summary.created:
            self.stdout.write("Demo data already present.")
            return
        seconds = time.monotonic() - started
        hospital = settings.HELPDESK["HOSPITAL_NAME"]
        self.stdout.write(
            self.style.SUCCESS(f"Seeded the {hospital} demo in {seconds:.1f} s: ")
            + f"{summary.users} users, {summary.locations} locations, "
            f"{summary.tickets} tickets ({summary.open_tickets} open), "
            f"{summary.events} timeline events."
        )
        self.stdout.write(f'Demo accounts (password "{DEMO_PASSWORD}"):')
        for username, who in summary.accounts:
            self.stdout.write(f"  {username:<14} {who}")
