"""The retention purge: exactly what is older than the retention leaves, and the purge itself
is recorded; run by beat every day and by a management command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from audit.models import AuditEntry
from audit.services import audit_purge, audit_record
from audit.tasks import purge_audit_log

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
K = AuditEntry.Kind


def test_the_default_retention_is_six_years():
    assert settings.HELPDESK_AUDIT_RETENTION_DAYS == 6 * 365


def test_the_purge_deletes_exactly_what_is_older_than_the_retention(tech, settings):
    settings.HELPDESK_AUDIT_RETENTION_DAYS = 30
    cutoff = NOW - timedelta(days=30)
    ages = {
        "long gone": cutoff - timedelta(days=400),
        "just past": cutoff - timedelta(microseconds=1),
        "on the line": cutoff,
        "just inside": cutoff + timedelta(seconds=1),
        "today": NOW,
    }
    kept = {}
    for label, at in ages.items():
        kept[label] = audit_record(kind=K.TICKET_VIEWED, actor=tech, ticket_id=1, at=at).pk
    deleted = audit_purge(now=NOW)
    assert deleted == 2
    left = set(AuditEntry.objects.filter(kind=K.TICKET_VIEWED).values_list("pk", flat=True))
    assert left == {kept["on the line"], kept["just inside"], kept["today"]}
    purge = AuditEntry.objects.get(kind=K.PURGE)
    assert (purge.at, purge.actor) == (NOW, None)
    assert purge.detail == {"deleted": 2, "before": cutoff.isoformat()}
    # Nothing more to purge: the second run deletes nothing and says so too.
    assert audit_purge(now=NOW) == 0
    assert AuditEntry.objects.filter(kind=K.PURGE).count() == 2


def test_the_command_purges_and_says_what_it_did(tech, settings):
    settings.HELPDESK_AUDIT_RETENTION_DAYS = 1
    old = audit_record(kind=K.SIGN_IN, actor=tech, at=NOW - timedelta(days=3))
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("purge_audit_log", stdout=out)
    assert out.getvalue() == ("Deleted 1 audit log entries from before 2026-12-05 (kept 1 days).\n")
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(kind=K.PURGE).count() == 1


def test_beat_runs_the_purge_every_day(tech, settings):
    settings.HELPDESK_AUDIT_RETENTION_DAYS = 1
    old = audit_record(kind=K.SIGN_IN, actor=tech, at=NOW - timedelta(days=3))
    entry = settings.CELERY_BEAT_SCHEDULE["audit-purge"]
    assert entry["task"] == purge_audit_log.name
    assert entry["schedule"].remaining_estimate(NOW) <= timedelta(days=1)
    with time_machine.travel(NOW, tick=False):
        purge_audit_log.apply()
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(kind=K.PURGE).count() == 1
