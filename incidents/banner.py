"""The banner every page shows while a major incident is open or a planned downtime is near.

Each process holds it with the reference rows (``core.reference_cache``): its version comes from
the shared cache in the same single read per request as theirs, so showing it costs no query and
no round trip of its own. Every change to an incident or a downtime moves that version, again
once its transaction commits, and every process reads the banner afresh on its next page. A held
banner also ends by itself at the next moment it changes without a write (a downtime's advance
notice starting, the downtime starting, ending), so it switches on time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count
from django.utils import timezone

from core.reference_cache import ReferenceCache, reference_data_changed
from departments.roles import is_it_staff
from departments.units import home_department_id
from incidents.models import Incident, IncidentUpdate, PlannedDowntime

# The banner's kind among the reference versions.
BANNER = "incidents.banner"
# However quiet things are, the banner is read afresh at least this often.
LONGEST_TIMEOUT = timedelta(minutes=5)


def banner_changed() -> None:
    """Every process reads the banner afresh: now, and once the change being made commits."""
    reference_data_changed(BANNER)


@dataclass(frozen=True, slots=True)
class IncidentNotice:
    pk: int
    number: str
    service: str
    category_id: int | None
    message: str
    workaround: str
    last_update_at: datetime | None
    last_update: str
    next_update_at: datetime | None
    hospital_wide: bool
    department_ids: frozenset[int]
    department_names: tuple[str, ...]
    affected_count: int


@dataclass(frozen=True, slots=True)
class DowntimeNotice:
    pk: int
    service: str
    reason: str
    procedure: str
    starts_at: datetime
    ends_at: datetime
    # False: the advance notice ("starts at ..."); True: the downtime is on now.
    active: bool
    is_drill: bool
    hospital_wide: bool
    department_ids: frozenset[int]
    department_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Banner:
    incidents: tuple[IncidentNotice, ...] = ()
    downtimes: tuple[DowntimeNotice, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.incidents or self.downtimes)

    def incident_for_category(self, category_id: int) -> IncidentNotice | None:
        return next((i for i in self.incidents if i.category_id == category_id), None)


def _departments(rows: Iterable[tuple[int, str]]) -> tuple[frozenset[int], tuple[str, ...]]:
    rows = sorted(rows, key=lambda row: row[1])
    return frozenset(pk for pk, _name in rows), tuple(name for _pk, name in rows)


def _read(now: datetime) -> tuple[Banner, datetime]:
    """The banner as of ``now`` and the moment it next changes by itself."""
    incidents = list(
        Incident.objects.filter(status=Incident.Status.OPEN)
        .annotate(affected_count=Count("affected"))
        .prefetch_related("departments")
        .order_by("declared_at", "pk")
    )
    last_updates: dict[int, str] = {}
    for incident_id, text in (
        IncidentUpdate.objects.filter(incident__in=incidents)
        .order_by("incident_id", "posted_at", "pk")
        .values_list("incident_id", "text")
    ):
        last_updates[incident_id] = text
    changes_at = now + LONGEST_TIMEOUT
    downtimes = []
    for downtime in PlannedDowntime.objects.filter(
        cancelled_at=None, ends_at__gt=now
    ).prefetch_related("departments"):
        for moment in (downtime.notice_from, downtime.starts_at, downtime.ends_at):
            if moment > now:
                changes_at = min(changes_at, moment)
        if downtime.notice_from > now:
            continue
        ids, names = _departments((d.pk, d.name) for d in downtime.departments.all())
        downtimes.append(
            DowntimeNotice(
                pk=downtime.pk,
                service=downtime.service,
                reason=downtime.reason,
                procedure=downtime.procedure,
                starts_at=downtime.starts_at,
                ends_at=downtime.ends_at,
                active=downtime.starts_at <= now,
                is_drill=downtime.is_drill,
                hospital_wide=downtime.hospital_wide,
                department_ids=ids,
                department_names=names,
            )
        )
    notices = []
    for incident in incidents:
        ids, names = _departments((d.pk, d.name) for d in incident.departments.all())
        notices.append(
            IncidentNotice(
                pk=incident.pk,
                number=incident.number,
                service=incident.service,
                category_id=incident.category_id,
                message=incident.message,
                workaround=incident.workaround,
                last_update_at=incident.last_update_at,
                last_update=last_updates.get(incident.pk, ""),
                next_update_at=incident.next_update_at,
                hospital_wide=incident.hospital_wide,
                department_ids=ids,
                department_names=names,
                affected_count=incident.affected_count,
            )
        )
    downtimes.sort(key=lambda notice: notice.starts_at)
    return Banner(tuple(notices), tuple(downtimes)), changes_at


# The banner as read, with the moment it next changes by itself.
_held: ReferenceCache[str, tuple[Banner, datetime]] = ReferenceCache(BANNER)


def current_banner(*, now: datetime | None = None) -> Banner:
    """Everything any banner shows now: as this process holds it, or read once and held until
    it changes or the next moment it changes by itself."""
    now = now or timezone.now()
    banner, _changes_at = _held.get_or_set(
        "banner", lambda: _read(now), holds=lambda held: now < held[1]
    )
    return banner


def banner_for(user: AbstractBaseUser | AnonymousUser, *, now: datetime | None = None) -> Banner:
    """What this person's pages show: hospital-wide notices, and those for her department; IT
    sees every one."""
    if not user.is_authenticated:
        return Banner()
    banner = current_banner(now=now)
    if not banner or is_it_staff(user):
        return banner
    department_id = home_department_id(user)

    def concerns(notice: IncidentNotice | DowntimeNotice) -> bool:
        return notice.hospital_wide or department_id in notice.department_ids

    return Banner(
        tuple(filter(concerns, banner.incidents)), tuple(filter(concerns, banner.downtimes))
    )
