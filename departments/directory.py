"""Sign-in against the hospital's LDAP / Active Directory, and the nightly check that shuts
leavers out.

django-auth-ldap finds the person (search with the service account), checks her password (a
bind as her) and reads her groups; the help desk's own ``provision_directory_user`` makes or
refreshes the account. The directory is asked at sign-in and by the nightly check, never per
request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import ldap
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_auth_ldap.backend import LDAPBackend, ldap_error

from departments.models import AccountSource, Profile
from departments.services import (
    DirectoryAccountRefused,
    deactivate_directory_users,
    provision_directory_user,
)

logger = logging.getLogger(__name__)

# userAccountControl's ACCOUNTDISABLE flag (Active Directory).
AD_ACCOUNT_DISABLED = 0x2

DIRECTORY_DOWN = (
    "The hospital directory is not answering; try again in a minute, or ask the service desk."
)


class DirectoryAccountDisabled(PermissionDenied):
    """The directory has the person, with her account disabled or locked."""


def account_disabled(attrs: dict[str, list[str]]) -> bool:
    """A disabled Active Directory account, or an OpenLDAP account its password policy locked."""
    for value in attrs.get("userAccountControl", []):
        try:
            if int(value) & AD_ACCOUNT_DISABLED:
                return True
        except ValueError:
            return True
    return bool(attrs.get("pwdAccountLockedTime"))


def _first(attrs: dict[str, list[str]], name: str | None) -> str:
    values = attrs.get(name, []) if name else []
    return values[0] if values else ""


class DirectoryBackend(LDAPBackend):
    """django-auth-ldap, with accounts made and refreshed by the help desk's provisioning."""

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[User, bool]:
        attrs = ldap_user.attrs
        if account_disabled(attrs):
            raise DirectoryAccountDisabled(f"{username} is disabled in the directory.")
        mapped = settings.HELPDESK_LDAP_ATTRIBUTES
        try:
            user = provision_directory_user(
                source=AccountSource.LDAP,
                username=username,
                email=_first(attrs, mapped.get("email")),
                first_name=_first(attrs, mapped.get("first_name")),
                last_name=_first(attrs, mapped.get("last_name")),
                phone=_first(attrs, mapped.get("phone")),
                groups=sorted(ldap_user.group_names),
                department_hint=_first(attrs, mapped.get("department")),
            )
        except DirectoryAccountRefused as refused:
            raise PermissionDenied(str(refused)) from None
        # Saved already: django-auth-ldap neither builds nor populates it.
        return user, False

    def get_user(self, user_id: int) -> User | None:
        user: User | None = super().get_user(user_id)
        return user if user is not None and user.is_active else None


def _directory_error(request: HttpRequest | None = None, **kwargs: Any) -> None:
    """django-auth-ldap reports a directory it could not reach or search (it logs the error);
    the sign-in form then says so instead of "wrong password"."""
    if request is not None:
        request.directory_unreachable = True  # type: ignore[attr-defined]


ldap_error.connect(_directory_error, dispatch_uid="directory_unreachable_at_sign_in")


def directory_unreachable(request: HttpRequest | None) -> bool:
    return bool(getattr(request, "directory_unreachable", False))


@dataclass
class LeaverCheck:
    checked: int = 0
    refreshed: int = 0
    deactivated: list[int] = field(default_factory=list)
    unreachable: bool = False


@contextmanager
def _errors_reported() -> Iterator[list[Exception]]:
    errors: list[Exception] = []

    def record(exception: Exception, **kwargs: Any) -> None:
        errors.append(exception)

    ldap_error.connect(record, sender=DirectoryBackend, weak=False, dispatch_uid="leaver_check")
    try:
        yield errors
    finally:
        ldap_error.disconnect(sender=DirectoryBackend, dispatch_uid="leaver_check")


def _directory_answers() -> bool:
    """A bind with the service account: whether the directory is there to ask at all."""
    connection = ldap.initialize(settings.AUTH_LDAP_SERVER_URI)
    try:
        for option, value in settings.AUTH_LDAP_CONNECTION_OPTIONS.items():
            connection.set_option(option, value)
        if settings.AUTH_LDAP_START_TLS:
            connection.start_tls_s()
        connection.simple_bind_s(settings.AUTH_LDAP_BIND_DN, settings.AUTH_LDAP_BIND_PASSWORD)
    except ldap.LDAPError as error:
        logger.warning("The directory did not answer the leaver check: %s", type(error).__name__)
        return False
    finally:
        connection.unbind_s()
    return True


def check_directory_leavers() -> LeaverCheck:
    """Ask the directory about every active LDAP account: refresh those it still has, and
    deactivate those it no longer has or has disabled (sessions ended, API tokens revoked;
    nothing deleted). A directory that does not answer changes nothing."""
    result = LeaverCheck()
    if not settings.AUTH_LDAP_SERVER_URI:
        return result
    if not _directory_answers():
        result.unreachable = True
        return result
    backend = DirectoryBackend()
    leavers: list[int] = []
    accounts = Profile.objects.filter(source=AccountSource.LDAP, user__is_active=True)
    with _errors_reported() as errors:
        for user_id, username in accounts.values_list("user_id", "user__username"):
            result.checked += 1
            try:
                found: AbstractBaseUser | None = backend.populate_user(username)
            except DirectoryAccountDisabled:
                found = None
            except PermissionDenied:
                continue
            if errors:
                logger.warning(
                    "The directory stopped answering during the leaver check; "
                    "stopped after %d accounts, nobody deactivated",
                    result.checked,
                )
                result.unreachable = True
                return result
            if found is None:
                leavers.append(user_id)
            else:
                result.refreshed += 1
    result.deactivated = deactivate_directory_users(leavers)
    logger.info(
        "Leaver check: %d directory accounts checked, %d deactivated",
        result.checked,
        len(result.deactivated),
    )
    return result
