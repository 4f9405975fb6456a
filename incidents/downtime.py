"""Planned downtime: scheduling, changing and cancelling a notice.

IT enters times on the hospital's wall clock (settings ``TIME_ZONE``); they are stored as
instants. A wall time that does not exist (the hour skipped when clocks go forward) or happens
twice (the hour repeated when they go back) is refused with a message naming the hour, rather
than guessed: a downtime announced for the wrong hour sends a unit to paper an hour early or
late. An expected length is real time, so a two-hour downtime across the change still lasts
two hours.

Every change forgets the cached banner once it is committed (``banner_changed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from departments.models import Department
from incidents.banner import banner_changed
from incidents.models import PlannedDowntime
from tickets.models import Category

# A downtime longer than this is an outage to plan differently, and more likely a typo.
MAX_LENGTH = timedelta(days=7)
# The advance banner shows at most this long before the start.
MAX_NOTICE = timedelta(days=30)
DEFAULT_NOTICE = timedelta(hours=24)


class DowntimeInvalid(Exception):
    """What is wrong with a downtime as given, by field (``"__all__"`` for the whole); nothing
    was changed."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(message for messages in errors.values() for message in messages))
        self.errors = errors


def hospital_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _wall(moment: datetime) -> str:
    return f"{moment:%H:%M} on {moment.day} {moment:%b %Y}"


def local_instant(wall_time: datetime, *, field: str = "starts_at") -> datetime:
    """The instant a wall-clock time of the hospital names (an aware time is kept as it is);
    ``DowntimeInvalid`` for a time that does not exist or that happens twice that night."""
    if timezone.is_aware(wall_time):
        return wall_time
    tz = hospital_tz()
    earlier = wall_time.replace(tzinfo=tz, fold=0)
    later = wall_time.replace(tzinfo=tz, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier
    back = earlier.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != wall_time:
        message = (
            f"{_wall(wall_time)} does not exist in {tz.key}: the clocks go forward that night. "
            "Choose a time outside the skipped hour."
        )
    else:
        message = (
            f"{_wall(wall_time)} happens twice in {tz.key}: the clocks go back that night. "
            "Choose a time outside the repeated hour."
        )
    raise DowntimeInvalid({field: [message]})


def local_time(moment: datetime) -> datetime:
    """An instant on the hospital's wall clock."""
    return moment.astimezone(hospital_tz())


@dataclass(frozen=True, slots=True, kw_only=True)
class DowntimeNotice:
    """What IT says about a downtime: what, where, when, why and what to do meanwhile. Give the
    expected ``length`` or the ``ends_at``, not both."""

    service: str
    reason: str
    starts_at: datetime
    length: timedelta | None = None
    ends_at: datetime | None = None
    notice: timedelta = DEFAULT_NOTICE
    hospital_wide: bool = False
    departments: Sequence[Department] = ()
    category: Category | None = None
    procedure: str = ""
    is_drill: bool = False


@dataclass(frozen=True, slots=True)
class _Checked:
    service: str
    reason: str
    procedure: str
    starts_at: datetime
    ends_at: datetime
    notice_from: datetime


def _check(notice: DowntimeNotice, *, now: datetime) -> _Checked:
    """The notice's values ready to store, or every problem with it at once."""
    errors: dict[str, list[str]] = {}

    def problem(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    service = notice.service.strip()
    if not service:
        problem("service", "Name the system or service going down (for example EHR (Epic)).")
    elif len(service) > 80:
        problem("service", "Name the system in at most 80 characters.")
    reason = notice.reason.strip()
    if not reason:
        problem("reason", "Say why it goes down (for example: upgrade to the spring release).")
    elif len(reason) > 200:
        problem("reason", "Say why in at most 200 characters.")
    if notice.hospital_wide and notice.departments:
        problem(
            "departments",
            "Hospital-wide takes in every department: clear the departments or untick "
            "hospital-wide.",
        )
    elif not notice.hospital_wide and not notice.departments:
        problem("departments", "Choose the departments affected, or hospital-wide.")
    elif any(not department.is_active for department in notice.departments):
        problem("departments", "A department chosen is no longer in use.")
    if notice.category is not None and not notice.category.is_active:
        problem("category", "That category is no longer in use.")

    # In UTC before any arithmetic: Python adds a timedelta to a zoned time on the wall clock,
    # and a two-hour downtime from 01:00 on the night clocks go forward lasts until 04:00.
    starts_at = notice.starts_at.astimezone(UTC)
    given_end = None if notice.ends_at is None else notice.ends_at.astimezone(UTC)
    ends_at: datetime | None = None
    if notice.length is not None and notice.ends_at is not None:
        problem("length", "Give the expected length or the end, not both.")
    elif notice.length is not None:
        if notice.length <= timedelta(0):
            problem("length", "The expected length must be at least one minute.")
        elif notice.length > MAX_LENGTH:
            problem("length", "A planned downtime lasts at most 7 days.")
        else:
            ends_at = starts_at + notice.length
    elif given_end is not None:
        if given_end <= starts_at:
            problem("ends_at", "The end must be after the start.")
        elif given_end - starts_at > MAX_LENGTH:
            problem("ends_at", "A planned downtime lasts at most 7 days.")
        else:
            ends_at = given_end
    else:
        problem("length", "Give the expected length or the end time.")
    if notice.notice < timedelta(0):
        problem("notice", "The advance notice cannot be negative: it shows before the start.")
    elif notice.notice > MAX_NOTICE:
        problem("notice", "The advance notice shows at most 30 days before the start.")
    if ends_at is not None and ends_at <= now and not notice.is_drill:
        problem(
            "starts_at",
            "This downtime would already be over. Only a drill can be recorded after the fact.",
        )
    if errors or ends_at is None:
        raise DowntimeInvalid(errors)
    return _Checked(
        service=service,
        reason=reason,
        procedure=notice.procedure.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        notice_from=starts_at - notice.notice,
    )


def _apply(downtime: PlannedDowntime, notice: DowntimeNotice, checked: _Checked) -> None:
    downtime.service = checked.service
    downtime.reason = checked.reason
    downtime.procedure = checked.procedure
    downtime.category = notice.category
    downtime.hospital_wide = notice.hospital_wide
    downtime.starts_at = checked.starts_at
    downtime.ends_at = checked.ends_at
    downtime.notice_from = checked.notice_from
    downtime.is_drill = notice.is_drill


@transaction.atomic
def downtime_schedule(
    *, notice: DowntimeNotice, by: User, now: datetime | None = None
) -> PlannedDowntime:
    """Announce a planned downtime (or record a drill)."""
    now = now or timezone.now()
    checked = _check(notice, now=now)
    downtime = PlannedDowntime(created_by=by, created_at=now)
    _apply(downtime, notice, checked)
    downtime.save()
    downtime.departments.set(notice.departments)
    banner_changed()
    return downtime


@transaction.atomic
def downtime_edit(
    *, downtime_id: int, notice: DowntimeNotice, by: User, now: datetime | None = None
) -> PlannedDowntime:
    """Change a downtime that is not cancelled and not over (a drill can be corrected after)."""
    now = now or timezone.now()
    downtime = PlannedDowntime.objects.select_for_update().get(pk=downtime_id)
    if downtime.cancelled_at is not None:
        raise DowntimeInvalid({"__all__": ["This downtime was cancelled; it cannot be changed."]})
    if downtime.ends_at <= now and not downtime.is_drill:
        raise DowntimeInvalid({"__all__": ["This downtime is over; it cannot be changed."]})
    checked = _check(notice, now=now)
    _apply(downtime, notice, checked)
    downtime.save()
    downtime.departments.set(notice.departments)
    banner_changed()
    return downtime


def downtime_cancel(*, downtime_id: int, by: User, now: datetime | None = None) -> PlannedDowntime:
    """Call off a downtime that is not over: its banner goes at once. Two people cancelling
    at once: one wins, the other is told."""
    now = now or timezone.now()
    with transaction.atomic():
        cancelled = PlannedDowntime.objects.filter(
            pk=downtime_id, cancelled_at=None, ends_at__gt=now
        ).update(cancelled_at=now, cancelled_by=by)
        downtime = PlannedDowntime.objects.get(pk=downtime_id)
        if not cancelled:
            if downtime.cancelled_at is not None:
                raise DowntimeInvalid({"__all__": ["This downtime was already cancelled."]})
            raise DowntimeInvalid({"__all__": ["This downtime is over; it cannot be cancelled."]})
        banner_changed()
    return downtime
