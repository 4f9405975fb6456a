"""Roles are Django groups. Requesters are clinical staff; everyone else works in IT."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, User
from django.db.models.signals import m2m_changed, post_delete, post_save

from core.reference_cache import ReferenceCache, reference_data_changed


class Role(StrEnum):
    REQUESTER = "requester"
    TECHNICIAN = "technician"
    MANAGER = "manager"
    ADMIN = "admin"
    # A machine account: a monitoring system or another application filing tickets.
    INTEGRATION = "integration"
    # Reviews the audit log: who read which ticket. Not IT, and not given with any other role.
    PRIVACY_OFFICER = "privacy_officer"


IT_ROLES = frozenset({Role.TECHNICIAN, Role.MANAGER, Role.ADMIN})
# The roles a directory group can give (a machine account is never a directory account).
DIRECTORY_ROLES = (
    Role.REQUESTER, Role.TECHNICIAN, Role.MANAGER, Role.ADMIN, Role.PRIVACY_OFFICER,
)  # fmt: skip

# The reference data about people: who is in which group, the flags that make or unmake a role,
# names, profiles. Every signed-in page reads a role.
PEOPLE = "people"
_roles: ReferenceCache[int, frozenset[str]] = ReferenceCache(PEOPLE)

# The user columns roles and names are read from. A sign-in writes only ``last_login``.
_PEOPLE_COLUMNS = frozenset(
    {"username", "first_name", "last_name", "is_active", "is_staff", "is_superuser"}
)


def role_names(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's group names (and admin for a superuser), held per process until people
    change."""
    if not user.is_authenticated:
        return frozenset()

    def read() -> frozenset[str]:
        names = frozenset(Group.objects.filter(user=user.pk).values_list("name", flat=True))
        return names | {Role.ADMIN} if getattr(user, "is_superuser", False) else names

    return _roles.get_or_set(user.pk, read)


def is_it_staff(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(role_names(user) & IT_ROLES)


def is_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(role_names(user) & {Role.MANAGER, Role.ADMIN})


def is_privacy_officer(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Only the role itself: a manager or an admin is not one unless given it."""
    return Role.PRIVACY_OFFICER in role_names(user)


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


def people_changed() -> None:
    """Tell every process that people changed: for bulk writes, which send no signals."""
    reference_data_changed(PEOPLE)


def _people_changed(**kwargs: Any) -> None:
    people_changed()


def _user_saved(update_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
    if update_fields is None or not update_fields.isdisjoint(_PEOPLE_COLUMNS):
        reference_data_changed(PEOPLE)


def _membership_changed(action: str, **kwargs: Any) -> None:
    if action.startswith("post_"):
        reference_data_changed(PEOPLE)


post_save.connect(_user_saved, sender=User, dispatch_uid="people_user_saved")
post_delete.connect(_people_changed, sender=User, dispatch_uid="people_user_deleted")
m2m_changed.connect(_membership_changed, sender=User.groups.through, dispatch_uid="people_groups")
post_save.connect(_people_changed, sender=Group, dispatch_uid="people_group_saved")
post_delete.connect(_people_changed, sender=Group, dispatch_uid="people_group_deleted")
post_save.connect(_people_changed, sender="departments.Profile", dispatch_uid="people_profile")
post_delete.connect(_people_changed, sender="departments.Profile", dispatch_uid="people_profile")
# What a directory group gives is part of who has which role.
_MAPPING = "departments.DirectoryGroupMapping"
post_save.connect(_people_changed, sender=_MAPPING, dispatch_uid="people_directory_mapping")
post_delete.connect(_people_changed, sender=_MAPPING, dispatch_uid="people_directory_mapping")
