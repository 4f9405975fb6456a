"""Business-time arithmetic on a business calendar: when it is open, and how much open time
lies between two instants (the clock every SLA deadline runs on).

Deadlines are computed in real elapsed time: a calendar's local opening hours are turned
into UTC intervals day by day, so a DST day with 08:00-17:00 hours still holds nine real
hours and a 24x7 calendar is exactly plain UTC arithmetic (23- and 25-hour days included).

Local wall-clock times are resolved with zoneinfo's fold=0 rule: a time skipped by a spring
forward gap lands at the same distance past the transition, and an ambiguous fall-back
time means its first occurrence.

Open intervals are half-open ``[opens, closes)``: a ticket arriving at exactly closing
time waits for the next opening.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

__all__ = [
    "MAX_CLOSED_DAYS",
    "BusinessCalendar",
    "add_business_time",
    "business_seconds_between",
    "is_open",
    "next_open",
    "open_intervals",
]

# Any real help-desk calendar opens within a few weeks; searching longer than this means
# the configuration (e.g. holidays covering every opening day) can never meet a deadline,
# and failing loudly beats spinning forever inside a request.
MAX_CLOSED_DAYS = 3 * 366

_MIDNIGHT = time(0, 0)
_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)

# Opening hours of one weekday as offsets from local midnight; the end offset may be a
# whole day, which is how "until midnight" stays distinguishable from "from midnight".
_DayHours = tuple[tuple[timedelta, timedelta], ...]
_FULL_DAY: _DayHours = ((_ZERO, _ONE_DAY),)


def _coerce_tz(tz: ZoneInfo | str) -> ZoneInfo:
    if isinstance(tz, str):
        return ZoneInfo(tz)
    if not isinstance(tz, ZoneInfo):
        raise TypeError(f"tz must be a zoneinfo.ZoneInfo or an IANA name, got {tz!r}")
    return tz


def _time_offset(value: time) -> timedelta:
    return timedelta(
        hours=value.hour,
        minutes=value.minute,
        seconds=value.second,
        microseconds=value.microsecond,
    )


def _normalise_day(weekday: int, intervals: object) -> _DayHours:
    if not isinstance(intervals, Iterable):
        raise ValueError(
            f"weekly_hours[{weekday}] must be a sequence of (start, end) pairs, got {intervals!r}"
        )
    spans: list[tuple[timedelta, timedelta]] = []
    for pair in intervals:
        if (
            not isinstance(pair, tuple)
            or len(pair) != 2
            or not all(isinstance(t, time) for t in pair)
        ):
            raise ValueError(
                f"weekly_hours[{weekday}] entries must be (datetime.time, datetime.time) "
                f"pairs, got {pair!r}"
            )
        opens, closes = pair
        if opens.tzinfo is not None or closes.tzinfo is not None:
            # The calendar's own tz decides what local hours mean; a second zone per
            # interval would make the wall-clock conversion ambiguous.
            raise ValueError(
                f"weekly_hours[{weekday}] times must be naive (the calendar tz applies), "
                f"got {pair!r}"
            )
        start = _time_offset(opens)
        end = _ONE_DAY if closes == _MIDNIGHT else _time_offset(closes)
        if start >= end:
            raise ValueError(
                f"weekly_hours[{weekday}] interval {opens.isoformat()}-{closes.isoformat()} "
                "must start before it ends (use 00:00 as the end for midnight, and split "
                "hours that cross midnight into two days)"
            )
        spans.append((start, end))
    spans.sort()
    merged: list[tuple[timedelta, timedelta]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            raise ValueError(
                f"weekly_hours[{weekday}] has overlapping intervals: {_format_spans(spans)}"
            )
        if merged and start == merged[-1][1]:
            # Touching intervals are one opening; merging keeps is_24x7 honest for
            # calendars written as e.g. 00:00-12:00 + 12:00-00:00.
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _format_spans(spans: Iterable[tuple[timedelta, timedelta]]) -> str:
    def fmt(offset: timedelta) -> str:
        minutes, seconds = divmod(int(offset.total_seconds()), 60)
        hours, minutes = divmod(minutes, 60)
        text = f"{hours:02d}:{minutes:02d}"
        return f"{text}:{seconds:02d}" if seconds else text

    return ", ".join(f"{fmt(start)}-{fmt(end)}" for start, end in spans)


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly local opening hours in one time zone, minus whole-day holidays.

    ``weekly_hours`` maps weekday (0=Monday .. 6=Sunday) to local ``(start, end)`` times;
    an end of ``time(0, 0)`` means midnight at the end of that day, so ``00:00-00:00`` is a
    whole day. Hours that cross midnight are written as two intervals on consecutive days.
    The stored ``weekly_hours`` is a read-only, sorted copy; equality and hashing use the
    normalised hours (touching intervals merged), so equivalent calendars compare equal.
    """

    tz: ZoneInfo
    weekly_hours: Mapping[int, tuple[tuple[time, time], ...]] = field(compare=False)
    holidays: frozenset[date] = frozenset()
    _week: tuple[_DayHours, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tz", _coerce_tz(self.tz))
        if not isinstance(self.weekly_hours, Mapping):
            raise ValueError(
                f"weekly_hours must be a mapping of weekday -> intervals, got {self.weekly_hours!r}"
            )
        week: list[_DayHours] = [()] * 7
        for weekday, intervals in self.weekly_hours.items():
            if isinstance(weekday, bool) or not isinstance(weekday, int):
                raise ValueError(f"weekday keys must be int 0..6, got {weekday!r}")
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday keys must be 0 (Monday) .. 6 (Sunday), got {weekday}")
            week[weekday] = _normalise_day(weekday, intervals)
        if not any(week):
            raise ValueError("calendar is never open: weekly_hours has no opening hours")

        holidays = frozenset(self.holidays)
        for holiday in holidays:
            # datetime is a date subclass but never equals a date, so it would silently
            # never match a day.
            if isinstance(holiday, datetime) or not isinstance(holiday, date):
                raise ValueError(f"holidays must be datetime.date values, got {holiday!r}")

        # A private read-only copy, so mutating the caller's dict cannot desynchronise
        # the public field from the normalised hours actually used.
        hours = {
            weekday: tuple(sorted(self.weekly_hours[weekday], key=lambda p: p[0]))
            for weekday in sorted(self.weekly_hours)
            if week[weekday]
        }
        object.__setattr__(self, "weekly_hours", MappingProxyType(hours))
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "_week", tuple(week))

    @classmethod
    def always_open(cls, tz: ZoneInfo | str = "America/Chicago") -> BusinessCalendar:
        """A 24x7 calendar: every day 00:00-24:00, no holidays."""
        whole_day = ((_MIDNIGHT, _MIDNIGHT),)
        return cls(tz=_coerce_tz(tz), weekly_hours=dict.fromkeys(range(7), whole_day))

    @classmethod
    def weekdays(
        cls,
        opens: time,
        closes: time,
        tz: ZoneInfo | str,
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """Monday to Friday ``opens``-``closes`` local time (``closes`` 00:00 = midnight)."""
        hours = ((opens, closes),)
        return cls(
            tz=_coerce_tz(tz),
            weekly_hours=dict.fromkeys(range(5), hours),
            holidays=frozenset(holidays),
        )

    @property
    def is_24x7(self) -> bool:
        """True when every day is open 00:00-24:00 and there are no holidays."""
        return not self.holidays and all(day == _FULL_DAY for day in self._week)

    def _day_intervals(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """Raw UTC intervals for one local date; may be empty or inverted around DST."""
        if day in self.holidays:
            return
        midnight = datetime.combine(day, _MIDNIGHT, tzinfo=self.tz)
        for start, end in self._week[day.weekday()]:
            # Aware + timedelta is wall-clock arithmetic with fold=0, which is exactly
            # "that local time on that date"; astimezone then resolves gaps and folds.
            yield (midnight + start).astimezone(UTC), (midnight + end).astimezone(UTC)


def _to_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}; "
            "attach a tzinfo (e.g. datetime.UTC or ZoneInfo('America/Chicago'))"
        )
    # Converting up front matters: Python compares and subtracts datetimes sharing one
    # tzinfo by wall clock, which is wrong across DST changes.
    return value.astimezone(UTC)


def _iter_open(
    cal: BusinessCalendar, start: datetime, end: datetime | None
) -> Iterator[tuple[datetime, datetime]]:
    """Open UTC intervals clipped to [start, end), in order, non-overlapping, unmerged.

    ``start``/``end`` must already be UTC. With ``end=None`` the iteration is endless
    unless the calendar stays closed for MAX_CLOSED_DAYS, which raises ValueError.
    Intervals are not merged here so an endless search yields as it goes.
    """
    # Intervals never reach more than a DST shift outside their own local date, so one
    # day of margin on each side covers every interval that can touch [start, end).
    day = start.astimezone(cal.tz).date() - _ONE_DAY
    last_day = None if end is None else end.astimezone(cal.tz).date() + _ONE_DAY
    # Clipping each interval to the latest end seen so far drops the empty or inverted
    # intervals that local times inside a spring-forward gap can produce, and keeps the
    # output strictly ordered.
    last_end = start
    closed_days = 0
    while last_day is None or day <= last_day:
        opened = False
        for raw_start, raw_end in cal._day_intervals(day):
            lo = max(raw_start, last_end)
            hi = raw_end if end is None else min(raw_end, end)
            if hi <= lo:
                continue
            opened = True
            last_end = hi
            yield lo, hi
        if end is None:
            closed_days = 0 if opened else closed_days + 1
            if closed_days > MAX_CLOSED_DAYS:
                raise ValueError(
                    f"calendar has no open time in the {MAX_CLOSED_DAYS} days after "
                    f"{start.isoformat()}; check its weekly hours and holidays"
                )
        day += _ONE_DAY


def open_intervals(
    cal: BusinessCalendar, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Aware UTC intervals during which the calendar is open, clipped to [start, end).

    Intervals are ordered and disjoint; touching intervals (e.g. a night shift crossing
    midnight) are merged into one. Nothing is yielded when ``end <= start``.
    """
    start_utc = _to_utc(start, "start")
    end_utc = _to_utc(end, "end")
    pending: tuple[datetime, datetime] | None = None
    for lo, hi in _iter_open(cal, start_utc, end_utc):
        if pending is not None and pending[1] == lo:
            pending = (pending[0], hi)
            continue
        if pending is not None:
            yield pending
        pending = (lo, hi)
    if pending is not None:
        yield pending


def add_business_time(cal: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """The instant when `seconds` of open time have elapsed after `start`.

    Aware in, aware UTC out. ``seconds == 0`` returns ``start`` (as UTC) unchanged even
    when closed; otherwise a closed ``start`` begins counting at the next opening. When the
    time runs out exactly at a closing time, that closing instant is returned. Durations
    are resolved to whole microseconds, the resolution of ``datetime``.
    """
    start_utc = _to_utc(start, "start")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite, non-negative number, got {seconds!r}")
    remaining = timedelta(seconds=seconds)
    if remaining == _ZERO:
        return start_utc
    if cal.is_24x7:
        return start_utc + remaining
    for lo, hi in _iter_open(cal, start_utc, None):
        length = hi - lo
        if remaining <= length:
            return lo + remaining
        remaining -= length
    raise AssertionError("an endless open-interval search cannot run out")  # pragma: no cover


def business_seconds_between(cal: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Open time in [start, end) in seconds; 0 when ``end <= start``."""
    start_utc = _to_utc(start, "start")
    end_utc = _to_utc(end, "end")
    if end_utc <= start_utc:
        return 0.0
    if cal.is_24x7:
        return (end_utc - start_utc).total_seconds()
    # Summing timedeltas keeps the total exact to the microsecond before the one final
    # float conversion.
    total = _ZERO
    for lo, hi in _iter_open(cal, start_utc, end_utc):
        total += hi - lo
    return total.total_seconds()


def is_open(cal: BusinessCalendar, at: datetime) -> bool:
    """Whether the calendar is open at ``at`` (openings inclusive, closings exclusive)."""
    at_utc = _to_utc(at, "at")
    if cal.is_24x7:
        return True
    return any(True for _ in _iter_open(cal, at_utc, at_utc + _ONE_MICROSECOND))


def next_open(cal: BusinessCalendar, at: datetime) -> datetime:
    """``at`` (as UTC) if the calendar is open then, else the next opening instant."""
    at_utc = _to_utc(at, "at")
    if cal.is_24x7:
        return at_utc
    for lo, _hi in _iter_open(cal, at_utc, None):
        return lo
    raise AssertionError("an endless open-interval search cannot run out")  # pragma: no cover
