"""Roles are Django groups. Requesters are clinical staff; everyone else works in IT."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from helpdesk.reference_cache import PerUserCache, forget_reference_data


class Role(StrEnum):
    REQUESTER = "requester"
    TECHNICIAN = "technician"
    MANAGER = "manager"
    ADMIN = "admin"
    # A machine account: a monitoring system or another application filing tickets.
    INTEGRATION = "integration"


IT_ROLES = frozenset({Role.TECHNICIAN, Role.MANAGER, Role.ADMIN})


# Read on every signed-in page: cached per person, forgotten when their groups change.
_group_names: PerUserCache[frozenset[str]] = PerUserCache("roles")


def role_names(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's group names, read from the cache once per user object (a request's user lives
    one request)."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_helpdesk_roles", None)
    if cached is None:
        cached = _group_names.get_or_set(
            user.pk,
            lambda: frozenset(Group.objects.filter(user=user.pk).values_list("name", flat=True)),
        )
        if getattr(user, "is_superuser", False):
            cached = cached | {Role.ADMIN}
        user._helpdesk_roles = cached  # type: ignore[attr-defined]
    return cached


def forget_roles(user_ids: Iterable[int]) -> None:
    """Forget the cached roles of these people, and the lists of people that name roles (the
    assign form's choices)."""
    _group_names.forget(user_ids)
    forget_reference_data()


def _groups_changed(
    instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """``user.groups.add(...)`` (forward) or ``group.user_set.add(...)`` (reverse)."""
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not reverse:
        instance.__dict__.pop("_helpdesk_roles", None)
        forget_roles([instance.pk])
    elif action == "pre_clear":
        # After the clear the group has no members left to name.
        forget_roles(instance.user_set.values_list("pk", flat=True))
    elif pk_set:
        forget_roles(pk_set)


def _user_changed(instance: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
    # Signing in saves the last sign-in time, which names no role.
    if update_fields is not None and set(update_fields) == {"last_login"}:
        return
    instance.__dict__.pop("_helpdesk_roles", None)
    forget_roles([instance.pk])


def _group_changed(instance: Group, **kwargs: Any) -> None:
    """A renamed or deleted group changes the roles of everyone in it."""
    forget_roles(instance.user_set.values_list("pk", flat=True))


def watch_role_changes() -> None:
    """Connected once, when the app is ready."""
    user_model = get_user_model()
    m2m_changed.connect(_groups_changed, sender=user_model.groups.through)
    post_save.connect(_user_changed, sender=user_model)
    post_delete.connect(_user_changed, sender=user_model)
    post_save.connect(_group_changed, sender=Group)
    pre_delete.connect(_group_changed, sender=Group)


def is_it_staff(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(role_names(user) & IT_ROLES)


def is_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(role_names(user) & {Role.MANAGER, Role.ADMIN})


def is_integration(user: AbstractBaseUser | AnonymousUser) -> bool:
    return Role.INTEGRATION in role_names(user)


def display_name(user: AbstractBaseUser) -> str:
    """How a person is named on pages, timelines, pages and exports: full name, else username."""
    return person_name(
        getattr(user, "first_name", ""), getattr(user, "last_name", ""), user.get_username()
    )


def person_name(first_name: str, last_name: str, username: str) -> str:
    """``display_name`` from the columns, for lists read without loading users."""
    return f"{first_name} {last_name}".strip() or username
