"""Roles are Django groups. Requesters are clinical staff; everyone else works in IT."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group


class Role(StrEnum):
    REQUESTER = "requester"
    TECHNICIAN = "technician"
    MANAGER = "manager"
    ADMIN = "admin"
    # A machine account: a monitoring system or another application filing tickets.
    INTEGRATION = "integration"


IT_ROLES = frozenset({Role.TECHNICIAN, Role.MANAGER, Role.ADMIN})


def role_names(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's group names, read once per user object (a request's user lives one request)."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_helpdesk_roles", None)
    if cached is None:
        cached = frozenset(Group.objects.filter(user=user.pk).values_list("name", flat=True))
        if getattr(user, "is_superuser", False):
            cached = cached | {Role.ADMIN}
        user._helpdesk_roles = cached  # type: ignore[attr-defined]
    return cached


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
