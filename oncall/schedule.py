"""Who is on call for a team: the rotation schedule, hand-offs and overrides.

Pure standard library so the paging engine, the "Who's on call" page and the tests all share one
answer without touching the database: callers load a ``Rotation`` and its overrides into the
specs below and ask.

Time rules
----------
Hand-offs happen at ``handoff_time`` on the local wall clock of ``rotation.tz``, on
``starts_on``, ``starts_on + length_days``, ``starts_on + 2 * length_days`` and so on (and the
same going backwards, so instants before ``starts_on`` wrap round the member list with Python's
floor division and modulo). A shift is numbered by its hand-off: shift ``k`` begins at the
hand-off on ``starts_on + k * length_days`` and belongs to ``members[k % len(members)]``.

Because hand-offs follow the wall clock, an 08:00 hand-off stays at 08:00 local across daylight
saving changes, and the shift that contains a change is an hour shorter or longer in real time.

Each hand-off's local date and time is turned into an instant with ``zoneinfo``'s ``fold=0``
rule, i.e. ``datetime.combine(day, handoff_time, tzinfo=tz)`` then converted to UTC:

* a hand-off inside a spring-forward gap moves forward by the size of the gap (02:30 on the
  morning clocks jump from 02:00 to 03:00 becomes 03:30 daylight time);
* a hand-off at an ambiguous fall-back time happens at its first occurrence (daylight time).

Away from those two cases the shift number is exactly the wall-clock rule: whole local days
from ``starts_on`` to the local date of ``at``, minus one if the local time is before
``handoff_time``, floor-divided by ``length_days``. Inside a gap or fold on a hand-off day the
wall-clock rule and the hand-off instant disagree for up to an hour (at 03:10 daylight time the
wall clock is past a 02:30 hand-off that only happens at 03:30); there the hand-off instant
wins, so the primary changes exactly once, at ``shift_started_at``, and never flips back.

A hand-off instant belongs to the new shift: at the hand-off the incoming member is primary, one
microsecond earlier the outgoing one still is. Overrides are half-open, ``[starts_at, ends_at)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

__all__ = [
    "OnCall",
    "OverrideSpec",
    "RotationSpec",
    "Segment",
    "next_handoff",
    "shifts",
    "who_is_on_call",
]

Segment = tuple[datetime, datetime, int | None]
"""One stretch of the schedule: ``(from, to, primary user id)``, half-open, in UTC."""


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}; "
            "attach a tzinfo (e.g. datetime.UTC or the rotation's ZoneInfo)"
        )


def _to_utc(value: datetime, name: str) -> datetime:
    _require_aware(value, name)
    # Aware datetimes sharing one tzinfo compare by wall clock and ignore ``fold``, so two
    # instants in a fall-back hour could sort wrongly; comparing in UTC is always correct.
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class RotationSpec:
    """A team's rotation: ``members`` take turns, each for ``length_days`` days."""

    members: tuple[int, ...]
    starts_on: date
    handoff_time: time
    length_days: int
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if self.length_days < 1:
            raise ValueError(f"length_days must be at least 1, got {self.length_days}")
        if self.handoff_time.tzinfo is not None:
            # The hand-off is a wall-clock time in ``tz``; a second zone on it would be ignored.
            raise ValueError(
                "handoff_time must be a naive local wall-clock time; the zone comes from tz"
            )


@dataclass(frozen=True, slots=True)
class OverrideSpec:
    """``user_id`` covers as primary over ``[starts_at, ends_at)``.

    Among overrides in force at the same instant, the latest ``created_at`` wins, then the
    higher ``override_id``.
    """

    user_id: int
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    override_id: int = 0

    def __post_init__(self) -> None:
        _require_aware(self.starts_at, "OverrideSpec.starts_at")
        _require_aware(self.ends_at, "OverrideSpec.ends_at")
        _require_aware(self.created_at, "OverrideSpec.created_at")
        if self.ends_at.astimezone(UTC) <= self.starts_at.astimezone(UTC):
            raise ValueError(
                f"override {self.override_id} must end after it starts: "
                f"starts_at={self.starts_at.isoformat()}, ends_at={self.ends_at.isoformat()}"
            )


@dataclass(frozen=True, slots=True)
class OnCall:
    """The answer for one instant. ``shift_*`` describe the scheduled shift, not the override."""

    primary: int | None
    secondary: int | None
    shift_started_at: datetime
    shift_ends_at: datetime
    override_id: int | None


def _handoff(rotation: RotationSpec, index: int) -> datetime:
    """The UTC instant at which shift ``index`` begins (fold=0 for gaps and folds)."""
    day = rotation.starts_on + timedelta(days=index * rotation.length_days)
    local = datetime.combine(day, rotation.handoff_time.replace(fold=0), tzinfo=rotation.tz)
    return local.astimezone(UTC)


def _shift_index(rotation: RotationSpec, at_utc: datetime) -> int:
    """The number of the shift in progress at ``at_utc``: the last hand-off at or before it."""
    local = at_utc.astimezone(rotation.tz)
    days = (local.date() - rotation.starts_on).days
    if local.time() < rotation.handoff_time:
        days -= 1
    index = days // rotation.length_days
    # The wall-clock estimate is off by one only inside a DST gap or fold on a hand-off day;
    # settling against the real hand-off instants keeps each shift one contiguous interval.
    while _handoff(rotation, index) > at_utc:
        index -= 1
    while _handoff(rotation, index + 1) <= at_utc:
        index += 1
    return index


def _scheduled(rotation: RotationSpec, index: int) -> tuple[int | None, int | None]:
    """The scheduled primary of shift ``index`` and the next different member after them."""
    members = rotation.members
    if not members:
        return None, None
    count = len(members)
    primary = members[index % count]
    for step in range(1, count):
        candidate = members[(index + step) % count]
        # Skipping repeats keeps the secondary distinct should a member appear twice.
        if candidate != primary:
            return primary, candidate
    return primary, None


def _override_in_force(overrides: Sequence[OverrideSpec], at_utc: datetime) -> OverrideSpec | None:
    in_force = [
        override
        for override in overrides
        if override.starts_at.astimezone(UTC) <= at_utc < override.ends_at.astimezone(UTC)
    ]
    if not in_force:
        return None
    return max(in_force, key=lambda o: (o.created_at.astimezone(UTC), o.override_id))


def _on_call(rotation: RotationSpec, overrides: Sequence[OverrideSpec], at_utc: datetime) -> OnCall:
    index = _shift_index(rotation, at_utc)
    scheduled, secondary = _scheduled(rotation, index)
    override = _override_in_force(overrides, at_utc)
    primary = scheduled
    if override is not None:
        primary = override.user_id
        # The paging engine must never page one person twice, so when the cover is the
        # scheduled next member, the displaced scheduled primary becomes the backup instead.
        if secondary == primary:
            secondary = scheduled
    return OnCall(
        primary=primary,
        secondary=secondary,
        shift_started_at=_handoff(rotation, index),
        shift_ends_at=_handoff(rotation, index + 1),
        override_id=None if override is None else override.override_id,
    )


def who_is_on_call(
    rotation: RotationSpec, overrides: Iterable[OverrideSpec], at: datetime
) -> OnCall:
    """Primary and secondary at ``at`` (aware), with the scheduled shift's bounds in UTC.

    The secondary is the next member after the *scheduled* primary (so the paging engine's
    second call goes to whoever is next in line), ``None`` with fewer than two members, and
    never the same person as the primary.
    """
    return _on_call(rotation, tuple(overrides), _to_utc(at, "at"))


def next_handoff(rotation: RotationSpec, at: datetime) -> datetime:
    """The first hand-off instant strictly after ``at`` (aware), in UTC."""
    at_utc = _to_utc(at, "at")
    return _handoff(rotation, _shift_index(rotation, at_utc) + 1)


def shifts(
    rotation: RotationSpec, overrides: Iterable[OverrideSpec], start: datetime, end: datetime
) -> list[Segment]:
    """The schedule over ``[start, end)`` as UTC ``(from, to, primary)`` segments.

    Overrides are applied, the first segment starts at ``start`` and the last ends at ``end``,
    and neighbouring segments with the same primary are merged, so each row is a real change
    of who answers the pager.
    """
    start_utc = _to_utc(start, "start")
    end_utc = _to_utc(end, "end")
    if end_utc <= start_utc:
        raise ValueError(
            f"end must be after start: start={start.isoformat()}, end={end.isoformat()}"
        )
    relevant = tuple(
        override
        for override in overrides
        if override.starts_at.astimezone(UTC) < end_utc
        and override.ends_at.astimezone(UTC) > start_utc
    )

    # The primary can only change at a hand-off or an override edge, so evaluating once per
    # interval between those cut points is exact.
    cuts = {start_utc, end_utc}
    index = _shift_index(rotation, start_utc) + 1
    boundary = _handoff(rotation, index)
    while boundary < end_utc:
        cuts.add(boundary)
        index += 1
        boundary = _handoff(rotation, index)
    for override in relevant:
        for edge in (override.starts_at.astimezone(UTC), override.ends_at.astimezone(UTC)):
            if start_utc < edge < end_utc:
                cuts.add(edge)

    segments: list[Segment] = []
    for seg_start, seg_end in pairwise(sorted(cuts)):
        primary = _on_call(rotation, relevant, seg_start).primary
        if segments and segments[-1][2] == primary:
            segments[-1] = (segments[-1][0], seg_end, primary)
        else:
            segments.append((seg_start, seg_end, primary))
    return segments
