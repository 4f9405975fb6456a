"""Which units a person files tickets for as her own.

A ticket's department decides whether it escalates and pages the on-call, so where a nurse files
from matters. Her own units are her home department's locations and, when she files from a
workstation's link, the workstation's department. Filing for a location anywhere else is allowed
(a float nurse, a call for a colleague) but asked for explicitly and recorded on the ticket.
IT staff filing for a caller and machine accounts file for any unit; for them nothing is
"another unit".
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse
from django.utils.http import urlencode

from departments.models import Location, Profile, active_locations
from departments.roles import is_integration, is_it_staff


def home_department_id(user: AbstractBaseUser | AnonymousUser) -> int | None:
    """The department of the person's profile. The profile is read once per user object."""
    try:
        profile: Profile = user.profile  # type: ignore[union-attr]
    except (Profile.DoesNotExist, AttributeError):
        return None
    return profile.home_department_id


def home_unit(user: AbstractBaseUser | AnonymousUser) -> Location | None:
    """Where a ticket of hers starts: the first unit (by name) of her home department, or None
    when she has none. From the per-process copy of the locations: no query."""
    department_id = home_department_id(user)
    if department_id is None:
        return None
    units = [
        location
        for location in active_locations().values()
        if location.department_id == department_id and location.kind == Location.Kind.UNIT
    ]
    return min(units, key=lambda location: location.name, default=None)


def files_anywhere(user: AbstractBaseUser | AnonymousUser) -> bool:
    """IT staff (filing on someone's behalf) and machine accounts are never asked."""
    return is_it_staff(user) or is_integration(user)


def own_department_ids(
    user: AbstractBaseUser | AnonymousUser, *, workstation: Location | None = None
) -> frozenset[int]:
    """The departments whose locations are the person's own: her home department and the
    department of the workstation she files from."""
    own = {home_department_id(user), workstation.department_id if workstation else None}
    return frozenset(pk for pk in own if pk is not None)


def files_for_other_unit(
    user: AbstractBaseUser | AnonymousUser,
    location: Location,
    *,
    workstation: Location | None = None,
) -> bool:
    """The rule: whether filing for ``location`` is filing for another unit than her own."""
    if location.department_id in own_department_ids(user, workstation=workstation):
        return False
    return not files_anywhere(user)


def asks_for_unit(user: AbstractBaseUser | AnonymousUser) -> bool:
    """A requester with no unit is asked for hers once after sign-in (a directory that gives
    no unit for her groups leaves her without one); IT staff file for anyone and are not."""
    try:
        profile: Profile = user.profile  # type: ignore[union-attr]
    except (Profile.DoesNotExist, AttributeError):
        return False
    return (
        profile.home_department_id is None
        and profile.unit_asked_at is None
        and not files_anywhere(user)
    )


def after_sign_in(user: AbstractBaseUser | AnonymousUser, url: str) -> str:
    """Where a sign-in (by password or through the provider) leads: to ``url``, by way of the
    unit question for a requester who has none yet."""
    if asks_for_unit(user):
        return f"{reverse('choose_unit')}?{urlencode({'next': url})}"
    return url
