"""The admin: the log can be read there, never changed; and a deletion of several rows at once
(which Django records in bulk, telling no signal) is on the log like a single one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from audit.services import audit_record
from departments.models import DirectoryGroupMapping

pytestmark = pytest.mark.django_db
K = AuditEntry.Kind


def test_deleting_several_rows_in_admin_is_recorded_row_by_row(admin_client, admin_user):
    rows = [
        DirectoryGroupMapping.objects.create(group=f"GRP-{n}", role="requester") for n in (1, 2)
    ]
    changelist = reverse("admin:departments_directorygroupmapping_changelist")
    chosen = {"action": "delete_selected", "_selected_action": [str(row.pk) for row in rows]}
    assert admin_client.post(changelist, chosen).status_code == 200  # "Are you sure?"
    assert not AuditEntry.objects.filter(kind=K.ADMIN_CHANGE).exists()
    assert admin_client.post(changelist, {**chosen, "post": "yes"}).status_code == 302
    deleted = AuditEntry.objects.filter(kind=K.ADMIN_CHANGE).order_by("object_id")
    assert [(e.actor, e.object_type, e.object_id, e.detail) for e in deleted] == [
        (admin_user, "departments.directorygroupmapping", str(row.pk), {"action": "deleted"})
        for row in sorted(rows, key=lambda row: str(row.pk))
    ]


def test_deleting_one_row_in_admin_is_recorded_once(admin_client, admin_user):
    row = DirectoryGroupMapping.objects.create(group="GRP-1", role="requester")
    changelist = reverse("admin:departments_directorygroupmapping_changelist")
    chosen = {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"}
    assert admin_client.post(changelist, chosen).status_code == 302
    [entry] = AuditEntry.objects.filter(kind=K.ADMIN_CHANGE)
    assert (entry.object_id, entry.detail["action"]) == (str(row.pk), "deleted")


def test_the_log_is_read_only_in_admin(admin_client, tech):
    entry = audit_record(kind=K.SIGN_IN, actor=tech)
    assert admin_client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
    change = reverse("admin:audit_auditentry_change", args=[entry.pk])
    assert admin_client.post(change, {"kind": K.EXPORT}).status_code == 403
    delete = reverse("admin:audit_auditentry_delete", args=[entry.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).kind == K.SIGN_IN
