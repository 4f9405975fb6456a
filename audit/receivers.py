"""What Django itself tells: sign-ins, failed sign-ins, group (role) changes and every change
made in the admin. Each becomes one audit entry; none carries what anyone typed."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import m2m_changed, post_save
from django.http import HttpRequest

from audit.services import TICKET_TYPE, Kind, audit_record, object_type

_ADMIN_ACTIONS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}
# A typed user name is not kept past this: a password typed into the wrong box is long.
_USERNAME_MAX = 150


def _signed_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    audit_record(kind=Kind.SIGN_IN, actor=user, about=user)


def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:_USERNAME_MAX]
    known = User.objects.filter(username=username).first() if username else None
    audit_record(
        kind=Kind.SIGN_IN_FAILED,
        about=known,
        detail={"username": username} if known is None else {},
    )


def _groups_changed(
    sender: Any,
    instance: User | Group,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    """A person's groups are her roles. Told from either side: ``user.groups.add(group)`` and
    ``group.user_set.add(user)``. A clear is told before it happens, so that what is taken
    away can still be read."""
    if action == "pre_clear":
        if isinstance(instance, User):
            names = sorted(instance.groups.values_list("name", flat=True))
            if names:
                audit_record(kind=Kind.GROUPS_CHANGED, about=instance, detail={"removed": names})
        else:
            for user_id in instance.user_set.values_list("pk", flat=True):
                _record_groups(user_id, "removed", [instance.name])
        return
    if action not in ("post_add", "post_remove") or not pk_set:
        return
    change = "added" if action == "post_add" else "removed"
    if isinstance(instance, User):
        names = sorted(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
        audit_record(kind=Kind.GROUPS_CHANGED, about=instance, detail={change: names})
    else:
        for user_id in sorted(pk_set):
            _record_groups(user_id, change, [instance.name])


def _record_groups(user_id: int, change: str, names: list[str]) -> None:
    audit_record(kind=Kind.GROUPS_CHANGED, about=User(pk=user_id), detail={change: names})


def _admin_changed(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    """Every change made in the admin: to people, rotations, escalation policies, calendars...
    Which row and which fields, never the row's name (a ticket's is its title)."""
    if not created:
        return
    detail: dict[str, Any] = {"action": _ADMIN_ACTIONS.get(instance.action_flag, "changed")}
    fields = _changed_fields(instance.change_message)
    if fields:
        detail["fields"] = fields
    model = (
        ContentType.objects.get_for_id(instance.content_type_id).model_class()
        if instance.content_type_id
        else None
    )
    label = object_type(model) if model is not None else ""
    object_id = instance.object_id or ""
    audit_record(
        kind=Kind.ADMIN_CHANGE,
        actor_id=instance.user_id,
        at=instance.action_time,
        ticket_id=int(object_id) if label == TICKET_TYPE and object_id.isdigit() else None,
        about_type=label,
        about_id=object_id,
        detail=detail,
    )


def _changed_fields(change_message: str) -> list[str]:
    """The field names the admin's change message lists ("changed": {"fields": [...]})."""
    try:
        parts = json.loads(change_message or "[]")
    except ValueError:
        return []
    fields: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        changed = part.get("changed") if isinstance(part, dict) else None
        if isinstance(changed, dict):
            fields += [str(name) for name in changed.get("fields", [])]
    return sorted(set(fields))


user_logged_in.connect(_signed_in, dispatch_uid="audit_signed_in")
user_login_failed.connect(_sign_in_failed, dispatch_uid="audit_sign_in_failed")
m2m_changed.connect(_groups_changed, sender=User.groups.through, dispatch_uid="audit_groups")
post_save.connect(_admin_changed, sender=LogEntry, dispatch_uid="audit_admin_changed")
