"""Accounts that come from the hospital directory.

One function, ``provision_directory_user``, makes a person's account the first time the directory
vouches for her and refreshes it every time after: LDAP / Active Directory sign-in, single
sign-on and the nightly leaver check all go through it.

Directory accounts are the directory's: their name, e-mail, phone, roles and unit are what the
directory and the group mapping say at the last sign-in. Roles a directory account was given
by hand are taken away at the next sign-in (the mapping is the one place to give them), and the
directory never touches a local account: a directory username equal to a local account's is
refused, so that nobody takes over a break-glass admin by creating that name in the directory.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import audit_record, object_type
from core.reference_cache import ReferenceCache
from departments.models import (
    AccountSource,
    ApiToken,
    Department,
    DirectoryGroupMapping,
    Profile,
)
from departments.roles import DIRECTORY_ROLES, Role

logger = logging.getLogger(__name__)


class DirectoryAccountRefused(Exception):
    """The directory vouched for a person this help desk will not let in through it."""


@dataclass(frozen=True)
class Grant:
    """What one directory group gives: a role, a unit (department id), or both."""

    role: str
    department_id: int | None


@dataclass(frozen=True)
class Grants:
    """What all of a person's groups give together."""

    roles: frozenset[str]
    department_id: int | None


_mappings: ReferenceCache[str, dict[str, Grant]] = ReferenceCache(DirectoryGroupMapping, Department)


def _build_mapping() -> dict[str, Grant]:
    configured = settings.HELPDESK_DIRECTORY
    departments = {code.lower(): pk for code, pk in Department.objects.values_list("code", "pk")}
    mapping: dict[str, Grant] = {}
    for group, role in configured["GROUP_ROLES"].items():
        mapping[group.casefold()] = Grant(role=role, department_id=None)
    for group, code in configured["GROUP_UNITS"].items():
        department_id = departments.get(code.lower())
        if department_id is None:
            logger.warning(
                "HELPDESK_DIRECTORY_GROUP_UNITS maps %s to %s, which is no department code",
                group,
                code,
            )
        role = mapping.get(group.casefold(), Grant("", None)).role
        mapping[group.casefold()] = Grant(role=role, department_id=department_id)
    for row in DirectoryGroupMapping.objects.all():
        mapping[row.group.casefold()] = Grant(role=row.role, department_id=row.department_id)
    return mapping


def directory_mapping() -> dict[str, Grant]:
    """Directory group (case-folded) -> what it gives: the settings' mapping with the admin's
    rows over it. Held per process until a mapping row or a department changes."""
    return _mappings.get_or_set("mapping", _build_mapping)


def directory_grants(groups: Iterable[str]) -> Grants:
    """The roles and the unit a person in ``groups`` has. Nobody gets a role the mapping does
    not give; in no mapped group she is a requester with no unit. In several units' groups, the
    first group by name gives the unit."""
    mapping = directory_mapping()
    granted = [mapping[group.casefold()] for group in sorted(groups) if group.casefold() in mapping]
    roles = frozenset(grant.role for grant in granted if grant.role) or frozenset({Role.REQUESTER})
    units = [grant.department_id for grant in granted if grant.department_id is not None]
    return Grants(roles=roles, department_id=units[0] if units else None)


def _apply_roles(user: User, roles: frozenset[str], *, new: bool) -> None:
    managed = [str(role) for role in DIRECTORY_ROLES] + [Role.INTEGRATION]
    held = (
        set() if new else set(user.groups.filter(name__in=managed).values_list("name", flat=True))
    )
    if held - roles:
        user.groups.remove(*Group.objects.filter(name__in=held - roles))
    if roles - held:
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in roles - held))


def _unit_fields(profile: Profile, grants: Grants) -> dict[str, object]:
    """The unit the mapping gives wins. A unit she chose herself stays when the mapping gives
    none; one the mapping gave and gives no more is taken away, and she is asked again."""
    if grants.department_id is not None:
        return {"home_department_id": grants.department_id, "unit_from_directory": True}
    if profile.unit_from_directory:
        return {"home_department_id": None, "unit_from_directory": False, "unit_asked_at": None}
    return {}


def _save_changed(profile: Profile, wanted: dict[str, object]) -> None:
    """Saves only what changed: a profile save tells every process that people changed."""
    changed = [field for field, value in wanted.items() if getattr(profile, field) != value]
    for field in changed:
        setattr(profile, field, wanted[field])
    if profile.pk is None:
        profile.save()
    elif changed:
        profile.save(update_fields=[field.removesuffix("_id") for field in changed])


def _provision(
    source: str,
    username: str,
    details: dict[str, str],
    phone: str,
    groups: Collection[str],
    grants: Grants,
) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username__iexact=username).first()
        profile = Profile.objects.filter(user=user).first() if user is not None else None
        if user is not None and (profile is None or not profile.from_directory):
            logger.warning(
                "Directory sign-in refused for %s: a local account has this username", username
            )
            raise DirectoryAccountRefused(
                f"{username} is a local account here; the directory cannot sign it in."
            )
        new = user is None
        if user is None:
            user = User(username=username, **details)
            user.set_unusable_password()
            user.save()
        else:
            changed = [field for field, value in details.items() if getattr(user, field) != value]
            if changed:
                for field in changed:
                    setattr(user, field, details[field])
                user.save(update_fields=changed)
        if profile is None:
            profile = Profile(user=user)
        wanted: dict[str, object] = {"source": source, **_unit_fields(profile, grants)}
        if phone:
            wanted["callback"] = phone
        _save_changed(profile, wanted)
        _apply_roles(user, grants.roles, new=new)
        # The groups and the time of the sync change nobody's role: written without the
        # profile's save, which would tell every process to read people again.
        profile.directory_groups = sorted(groups)
        profile.directory_synced_at = timezone.now()
        Profile.objects.filter(pk=profile.pk).update(
            directory_groups=profile.directory_groups,
            directory_synced_at=profile.directory_synced_at,
        )
    return user


def provision_directory_user(
    *,
    source: str,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    groups: Collection[str] = (),
    department_hint: str = "",
) -> User:
    """Make (first sign-in) or refresh (every sign-in after) the account of a person the
    directory vouched for. ``department_hint`` is what the directory says her department or
    cost centre is (AD's ``department``, a claim): the mapping may give it a unit like a group.
    Returns the user, saved; raises ``DirectoryAccountRefused`` and
    changes nothing when ``username`` belongs to a local account. The user's ``is_active`` is
    left alone: an account the leaver check or an admin turned off stays off."""
    if source not in AccountSource.values or source == AccountSource.LOCAL:
        raise ValueError(f"{source!r} is not a directory")
    username = username.strip().lower()
    if not username:
        raise DirectoryAccountRefused("The directory gave no username.")
    grants = directory_grants([*groups, department_hint] if department_hint.strip() else groups)
    details = {
        "email": email.strip()[:254],
        "first_name": first_name.strip()[:150],
        "last_name": last_name.strip()[:150],
    }
    try:
        return _provision(source, username, details, phone.strip()[:60], groups, grants)
    except IntegrityError:
        # Two first sign-ins of one person at the same moment (a double-tapped badge): the
        # other made the account; this one refreshes it.
        return _provision(source, username, details, phone.strip()[:60], groups, grants)


def reapply_directory_mapping(groups: Collection[str]) -> int:
    """After the mapping of ``groups`` changed (admin): give the directory accounts in those
    groups the roles and unit the mapping now gives, from the groups their last sign-in
    brought. Returns how many accounts were looked at."""
    changed = {group.casefold() for group in groups}
    profiles = [
        profile
        for profile in Profile.objects.exclude(source=AccountSource.LOCAL).select_related("user")
        if changed & {group.casefold() for group in profile.directory_groups}
    ]
    with transaction.atomic():
        for profile in profiles:
            grants = directory_grants(profile.directory_groups)
            _save_changed(profile, _unit_fields(profile, grants))
            _apply_roles(profile.user, grants.roles, new=False)
    return len(profiles)


def deactivate_directory_users(user_ids: Collection[int]) -> list[int]:
    """Shut out people the directory no longer has (or has disabled): the account is turned
    off, its sessions end and its API tokens are revoked. Nothing is deleted: their tickets
    keep their names. Only directory accounts are touched. Returns the ids turned off."""
    users = list(
        User.objects.filter(pk__in=user_ids, is_active=True).exclude(
            profile__source=AccountSource.LOCAL
        )
    )
    if not users:
        return []
    now = timezone.now()
    ids = {str(user.pk) for user in users}
    with transaction.atomic():
        for user in users:
            user.is_active = False
            user.save(update_fields=["is_active"])
        token_revoke(tokens=ApiToken.objects.filter(user__in=users, revoked_at__isnull=True))
        # Sessions are kept in the database, signed and encoded: read each live one once.
        ended = [
            session.pk
            for session in Session.objects.filter(expire_date__gt=now).iterator()
            if session.get_decoded().get(SESSION_KEY) in ids
        ]
        Session.objects.filter(pk__in=ended).delete()
    for user in users:
        logger.info("Deactivated directory account %s (left the directory)", user.username)
    return [user.pk for user in users]


def end_refused_session(session_key: str, *, reason: str) -> bool:
    """End one help desk session whose person the hospital's provider no longer vouches for
    (single sign-on's session check): the session goes, and the audit log says whose and why
    (``reason``: a short code such as ``invalid_grant``). False when it had ended already."""
    session = Session.objects.filter(pk=session_key).first()
    if session is None:
        return False
    user_id = str(session.get_decoded().get(SESSION_KEY, ""))
    with transaction.atomic():
        ended, _ = Session.objects.filter(pk=session_key).delete()
        if ended:
            audit_record(
                kind=AuditEntry.Kind.SIGNED_OUT_BY_PROVIDER,
                about_type=object_type(User) if user_id else "",
                about_id=user_id,
                detail={"reason": reason},
            )
    if ended:
        logger.info(
            "Signed out user %s: the hospital's sign-in service refused (%s)", user_id, reason
        )
    return bool(ended)


def token_issue(*, user: User, name: str, actor: User) -> tuple[ApiToken, str]:
    """A new API token for ``user``, made by ``actor`` (herself, or an admin): the row and the
    raw token, shown once. Recorded on the audit log, by id, never the token."""
    with transaction.atomic():
        token, raw = ApiToken.issue(user=user, name=name)
        audit_record(kind=AuditEntry.Kind.TOKEN_CREATED, actor=actor, about=token)
    return token, raw


def token_revoke(*, tokens: Iterable[ApiToken], actor: User | None = None) -> int:
    """Revoke the tokens not revoked yet; each revocation goes on the audit log (with no actor
    when the directory took the account away)."""
    now = timezone.now()
    revoked = 0
    with transaction.atomic():
        for token in tokens:
            if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
                audit_record(kind=AuditEntry.Kind.TOKEN_REVOKED, actor=actor, about=token, at=now)
                revoked += 1
    return revoked
