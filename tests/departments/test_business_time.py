"""Business-time arithmetic behind SLA deadlines (departments.business_time).

Expected values are written out by hand from the calendar, not recomputed with the code
under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from departments.business_time import (
    BusinessCalendar,
    add_business_time,
    business_seconds_between,
    is_open,
    next_open,
    open_intervals,
)

CHICAGO = ZoneInfo("America/Chicago")
HOUR = 3600.0
MINUTE = 60.0

THANKSGIVING_2026 = date(2026, 11, 26)
BLACK_FRIDAY_2026 = date(2026, 11, 27)

OFFICE = BusinessCalendar.weekdays(time(8), time(17), CHICAGO)
OFFICE_WITH_HOLIDAYS = BusinessCalendar.weekdays(
    time(8),
    time(17),
    CHICAGO,
    holidays=[
        date(2025, 12, 25),
        date(2026, 1, 1),
        THANKSGIVING_2026,
        BLACK_FRIDAY_2026,
        date(2027, 7, 5),
    ],
)
ALWAYS = BusinessCalendar.always_open(CHICAGO)
# Every day 08:00-17:00, so the DST Sundays are business days.
SEVEN_DAY_OFFICE = BusinessCalendar(
    tz=CHICAGO, weekly_hours={day: ((time(8), time(17)),) for day in range(7)}
)
# 22:00-06:00 every night, written as two intervals per day because hours cannot cross
# midnight; the 00:00-06:00 part of the DST Sundays is 7 or 5 real hours.
NIGHT_SHIFT = BusinessCalendar(
    tz=CHICAGO,
    weekly_hours={day: ((time(0), time(6)), (time(22), time(0))) for day in range(7)},
)
# Open around the clock except on holidays: not is_24x7, so it takes the general path
# through whole 23/24/25-hour days.
ALWAYS_EXCEPT_HOLIDAYS = BusinessCalendar(
    tz=CHICAGO,
    weekly_hours={day: ((time(0), time(0)),) for day in range(7)},
    holidays=frozenset({date(2026, 3, 8), date(2026, 12, 25), date(2027, 11, 7)}),
)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHICAGO)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- calendar construction -------------------------------------------------------------


def test_always_open_is_24x7_and_office_is_not() -> None:
    assert ALWAYS.is_24x7
    assert not OFFICE.is_24x7
    assert not ALWAYS_EXCEPT_HOLIDAYS.is_24x7


def test_touching_intervals_covering_the_day_count_as_24x7() -> None:
    halves = ((time(12), time(0)), (time(0), time(12)))
    cal = BusinessCalendar(tz=CHICAGO, weekly_hours=dict.fromkeys(range(7), halves))
    assert cal.is_24x7
    assert cal == ALWAYS


def test_calendar_accepts_zone_name_and_is_hashable() -> None:
    cal = BusinessCalendar.weekdays(time(8), time(17), "America/Chicago")
    assert cal.tz == CHICAGO
    assert cal == OFFICE
    assert hash(cal) == hash(OFFICE)


def test_calendar_copies_weekly_hours() -> None:
    hours = {0: ((time(8), time(17)),)}
    cal = BusinessCalendar(tz=CHICAGO, weekly_hours=hours)
    hours[1] = ((time(8), time(17)),)
    assert 1 not in cal.weekly_hours
    assert not is_open(cal, local(2026, 11, 24, 9))  # a Tuesday


@pytest.mark.parametrize(
    ("weekly_hours", "message"),
    [
        pytest.param({0: ((time(8), time(12)), (time(11), time(17)))}, "overlapping", id="overlap"),
        pytest.param(
            {0: ((time(11), time(17)), (time(8), time(12)))},
            "overlapping",
            id="overlap-unsorted",
        ),
        pytest.param(
            {0: ((time(0), time(0)), (time(8), time(9)))},
            "overlapping",
            id="overlap-whole-day",
        ),
        pytest.param({0: ((time(17), time(8)),)}, "start before it ends", id="end-before-start"),
        pytest.param({0: ((time(8), time(8)),)}, "start before it ends", id="empty-interval"),
        pytest.param({7: ((time(8), time(17)),)}, "weekday keys", id="weekday-7"),
        pytest.param({-1: ((time(8), time(17)),)}, "weekday keys", id="weekday-negative"),
        pytest.param({"0": ((time(8), time(17)),)}, "weekday keys", id="weekday-str"),
        pytest.param({0: ((time(8, tzinfo=UTC), time(17)),)}, "naive", id="aware-time"),
        pytest.param({0: (("08:00", "17:00"),)}, "pairs", id="not-times"),
    ],
)
def test_invalid_weekly_hours_are_rejected(weekly_hours: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(tz=CHICAGO, weekly_hours=weekly_hours)  # type: ignore[arg-type]


def test_overlap_error_names_the_weekday() -> None:
    with pytest.raises(ValueError, match=r"weekly_hours\[2\] has overlapping"):
        BusinessCalendar(tz=CHICAGO, weekly_hours={2: ((time(8), time(12)), (time(11), time(17)))})


@pytest.mark.parametrize("weekly_hours", [{}, {0: (), 6: ()}])
def test_calendar_that_is_never_open_is_rejected(weekly_hours: object) -> None:
    with pytest.raises(ValueError, match="never open"):
        BusinessCalendar(tz=CHICAGO, weekly_hours=weekly_hours)  # type: ignore[arg-type]


def test_holidays_must_be_dates_not_datetimes() -> None:
    with pytest.raises(ValueError, match="holidays"):
        BusinessCalendar.weekdays(time(8), time(17), CHICAGO, holidays=[datetime(2026, 11, 26)])


def test_calendar_closed_for_years_by_holidays_raises_instead_of_looping() -> None:
    # Only open on Mondays, and every Monday for four years is a holiday.
    first_monday = date(2026, 1, 5)
    mondays = [first_monday + timedelta(weeks=n) for n in range(4 * 53)]
    cal = BusinessCalendar(
        tz=CHICAGO,
        weekly_hours={0: ((time(8), time(17)),)},
        holidays=frozenset(mondays),
    )
    with pytest.raises(ValueError, match="no open time"):
        add_business_time(cal, local(2026, 1, 1, 9), HOUR)
    with pytest.raises(ValueError, match="no open time"):
        next_open(cal, local(2026, 1, 1, 9))
    # Bounded questions still have an answer: nothing was open.
    assert business_seconds_between(cal, local(2026, 1, 1), local(2028, 1, 1)) == 0.0


# --- input validation -----------------------------------------------------------------


def test_naive_datetimes_are_rejected_with_a_clear_message() -> None:
    naive = datetime(2026, 11, 20, 9)
    aware = local(2026, 11, 20, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(OFFICE, naive, HOUR)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(ALWAYS, naive, HOUR)
    with pytest.raises(ValueError, match="end must be a timezone-aware"):
        business_seconds_between(OFFICE, aware, naive)
    with pytest.raises(ValueError, match="start must be a timezone-aware"):
        list(open_intervals(OFFICE, naive, aware))
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(OFFICE, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_open(OFFICE, naive)


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_invalid_durations_are_rejected(seconds: float) -> None:
    with pytest.raises(ValueError, match="seconds"):
        add_business_time(OFFICE, local(2026, 11, 20, 9), seconds)


# --- add_business_time on the Mon-Fri 08:00-17:00 calendar ------------------------------


def test_friday_late_afternoon_rolls_over_the_weekend() -> None:
    assert add_business_time(OFFICE, local(2026, 11, 20, 16, 55), 4 * HOUR) == local(
        2026, 11, 23, 11, 55
    )


def test_before_opening_starts_counting_at_opening() -> None:
    assert add_business_time(OFFICE, local(2026, 11, 24, 6), 30 * MINUTE) == local(
        2026, 11, 24, 8, 30
    )


def test_overnight_gap_is_skipped() -> None:
    # Tuesday 15:00 + 4h: 2h on Tuesday, 2h from Wednesday 08:00.
    assert add_business_time(OFFICE, local(2026, 11, 17, 15), 4 * HOUR) == local(2026, 11, 18, 10)


def test_start_during_weekend_begins_monday_morning() -> None:
    assert add_business_time(OFFICE, local(2026, 11, 21, 12), 90 * MINUTE) == local(
        2026, 11, 23, 9, 30
    )


def test_thanksgiving_holidays_are_skipped() -> None:
    assert add_business_time(OFFICE_WITH_HOLIDAYS, local(2026, 11, 25, 16), 3 * HOUR) == local(
        2026, 11, 30, 10
    )


def test_time_running_out_at_closing_returns_closing_time() -> None:
    assert add_business_time(OFFICE, local(2026, 11, 20, 16), HOUR) == local(2026, 11, 20, 17)


def test_zero_duration_returns_start_even_when_closed() -> None:
    saturday = local(2026, 11, 21, 12)
    assert add_business_time(OFFICE, saturday, 0) == saturday
    assert add_business_time(OFFICE, saturday, 0.0) == saturday


def test_result_is_utc() -> None:
    result = add_business_time(OFFICE, local(2026, 11, 20, 9), HOUR)
    assert result.tzinfo is UTC
    # 10:00 CST (UTC-6).
    assert result == utc(2026, 11, 20, 16)
    assert add_business_time(ALWAYS, local(2026, 11, 20, 9), HOUR).tzinfo is UTC
    assert add_business_time(OFFICE, local(2026, 11, 21, 9), 0).tzinfo is UTC


def test_start_in_another_zone_is_interpreted_as_that_instant() -> None:
    # 14:30 UTC on Friday is 08:30 in Chicago.
    assert add_business_time(OFFICE, utc(2026, 11, 20, 14, 30), HOUR) == local(2026, 11, 20, 9, 30)


def test_a_year_of_business_days_spans_both_dst_changes() -> None:
    # 52 weeks x 5 days x 9h from Monday 2026-01-05 08:00 ends at closing time on the
    # Friday before Monday 2027-01-04, whatever the DST offset in between.
    assert add_business_time(OFFICE, local(2026, 1, 5, 8), 52 * 5 * 9 * HOUR) == local(
        2027, 1, 1, 17
    )


# --- DST ----------------------------------------------------------------------------------


def test_24x7_fall_back_day_is_25_hours() -> None:
    assert add_business_time(ALWAYS, local(2026, 10, 31, 12), 24 * HOUR) == local(2026, 11, 1, 11)
    assert business_seconds_between(ALWAYS, local(2026, 11, 1), local(2026, 11, 2)) == 25 * HOUR


def test_24x7_spring_forward_day_is_23_hours() -> None:
    assert add_business_time(ALWAYS, local(2026, 3, 7, 12), 24 * HOUR) == local(2026, 3, 8, 13)
    assert business_seconds_between(ALWAYS, local(2026, 3, 8), local(2026, 3, 9)) == 23 * HOUR


def test_general_path_counts_real_length_of_dst_days() -> None:
    # Same answers as the 24x7 fast path, through whole-day intervals; the 2026-03-08
    # holiday removes exactly its 23 real hours.
    assert add_business_time(ALWAYS_EXCEPT_HOLIDAYS, local(2026, 10, 31, 12), 24 * HOUR) == local(
        2026, 11, 1, 11
    )
    assert (
        business_seconds_between(ALWAYS_EXCEPT_HOLIDAYS, local(2026, 3, 7), local(2026, 3, 10))
        == (24 + 24) * HOUR
    )
    assert add_business_time(ALWAYS_EXCEPT_HOLIDAYS, local(2026, 3, 7, 12), 24 * HOUR) == local(
        2026, 3, 9, 12
    )


@pytest.mark.parametrize("sunday", [date(2026, 3, 8), date(2026, 11, 1)])
def test_business_day_on_dst_sunday_is_nine_real_hours(sunday: date) -> None:
    y, m, d = sunday.year, sunday.month, sunday.day
    monday = sunday + timedelta(days=1)
    assert (
        business_seconds_between(
            SEVEN_DAY_OFFICE,
            local(y, m, d),
            local(monday.year, monday.month, monday.day),
        )
        == 9 * HOUR
    )
    assert add_business_time(SEVEN_DAY_OFFICE, local(y, m, d, 8), 9 * HOUR) == local(y, m, d, 17)


def test_night_shift_across_dst_counts_real_hours() -> None:
    # Saturday 22:00 -> Sunday 06:00: 2h before midnight, then 00:00-06:00 is 7 real
    # hours on the fall-back night (01:00-02:00 happens twice) and 5 on spring forward.
    assert (
        business_seconds_between(NIGHT_SHIFT, local(2026, 10, 31, 20), local(2026, 11, 1, 12))
        == 9 * HOUR
    )
    assert (
        business_seconds_between(NIGHT_SHIFT, local(2026, 3, 7, 20), local(2026, 3, 8, 12))
        == 7 * HOUR
    )


def test_opening_inside_spring_forward_gap_maps_forward() -> None:
    # 02:30 does not exist on 2026-03-08; fold=0 reads it with the pre-change offset,
    # which is 03:30 CDT. The 02:30-04:00 window is therefore 30 real minutes.
    cal = BusinessCalendar(
        tz=CHICAGO, weekly_hours={day: ((time(2, 30), time(4)),) for day in range(7)}
    )
    assert next_open(cal, local(2026, 3, 8, 0)) == local(2026, 3, 8, 3, 30)
    assert next_open(cal, local(2026, 3, 8, 0)) == utc(2026, 3, 8, 8, 30)
    assert business_seconds_between(cal, local(2026, 3, 8), local(2026, 3, 9)) == 30 * MINUTE
    # The day before and after are unaffected.
    assert business_seconds_between(cal, local(2026, 3, 7), local(2026, 3, 8)) == 90 * MINUTE
    assert business_seconds_between(cal, local(2026, 3, 9), local(2026, 3, 10)) == 90 * MINUTE


def test_window_entirely_inside_spring_forward_gap_collapses() -> None:
    # 02:30 maps to 03:30 CDT but 03:00 is 03:00 CDT: the window is closed that day.
    cal = BusinessCalendar(
        tz=CHICAGO, weekly_hours={day: ((time(2, 30), time(3)),) for day in range(7)}
    )
    assert business_seconds_between(cal, local(2026, 3, 8), local(2026, 3, 9)) == 0.0
    assert next_open(cal, local(2026, 3, 8, 0)) == local(2026, 3, 9, 2, 30)


def test_ambiguous_opening_on_fall_back_uses_first_occurrence() -> None:
    cal = BusinessCalendar(
        tz=CHICAGO, weekly_hours={day: ((time(1, 30), time(3)),) for day in range(7)}
    )
    # 01:30 CDT (first occurrence) is 06:30 UTC; 03:00 CST is 09:00 UTC: 2.5 real hours.
    assert next_open(cal, local(2026, 11, 1, 0)) == utc(2026, 11, 1, 6, 30)
    assert business_seconds_between(cal, local(2026, 11, 1), local(2026, 11, 2)) == 150 * MINUTE


# --- night shift crossing midnight ----------------------------------------------------------


def test_night_shift_runs_through_midnight() -> None:
    # Monday 21:00 (closed) + 3h: opens 22:00, 2h to midnight, 1h after.
    assert add_business_time(NIGHT_SHIFT, local(2026, 11, 23, 21), 3 * HOUR) == local(
        2026, 11, 24, 1
    )
    # Tuesday 05:00 + 2h: 1h until 06:00, then 1h from 22:00.
    assert add_business_time(NIGHT_SHIFT, local(2026, 11, 24, 5), 2 * HOUR) == local(
        2026, 11, 24, 23
    )


def test_night_shift_open_intervals_merge_across_midnight() -> None:
    intervals = list(open_intervals(NIGHT_SHIFT, local(2026, 11, 23, 12), local(2026, 11, 25, 12)))
    assert intervals == [
        (local(2026, 11, 23, 22), local(2026, 11, 24, 6)),
        (local(2026, 11, 24, 22), local(2026, 11, 25, 6)),
    ]
    assert all(lo.tzinfo is UTC and hi.tzinfo is UTC for lo, hi in intervals)


def test_night_shift_is_open_at_midnight() -> None:
    assert is_open(NIGHT_SHIFT, local(2026, 11, 24, 0))
    assert is_open(NIGHT_SHIFT, local(2026, 11, 23, 22))
    assert not is_open(NIGHT_SHIFT, local(2026, 11, 24, 6))
    assert not is_open(NIGHT_SHIFT, local(2026, 11, 24, 12))


# --- business_seconds_between ---------------------------------------------------------------


def test_friday_afternoon_to_monday_morning_is_two_hours() -> None:
    assert (
        business_seconds_between(OFFICE, local(2026, 11, 20, 16), local(2026, 11, 23, 9))
        == 2 * HOUR
    )


def test_measure_across_thanksgiving() -> None:
    # Wednesday 09:00 -> Monday 12:00: 8h Wednesday, Thursday/Friday off, 4h Monday.
    assert (
        business_seconds_between(
            OFFICE_WITH_HOLIDAYS, local(2026, 11, 25, 9), local(2026, 11, 30, 12)
        )
        == 12 * HOUR
    )
    # Without the holidays the two days count: 12h + 18h.
    assert (
        business_seconds_between(OFFICE, local(2026, 11, 25, 9), local(2026, 11, 30, 12))
        == 30 * HOUR
    )


def test_measure_zero_and_negative_spans() -> None:
    at = local(2026, 11, 20, 10)
    assert business_seconds_between(OFFICE, at, at) == 0.0
    assert business_seconds_between(OFFICE, at, at - timedelta(hours=3)) == 0.0
    assert business_seconds_between(ALWAYS, at, at - timedelta(hours=3)) == 0.0


def test_measure_on_24x7_is_elapsed_time() -> None:
    start = local(2026, 10, 30, 7, 15)
    end = local(2026, 11, 3, 19, 45)
    assert business_seconds_between(ALWAYS, start, end) == (end - start).total_seconds() + HOUR
    # Wall-clock subtraction in one zone ignores the DST hour; UTC subtraction does not.
    assert (
        business_seconds_between(ALWAYS, start, end)
        == (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
    )


def test_measure_ninety_days() -> None:
    # 2026-09-07 (Mon) .. 2026-12-06 (Sun) is 13 whole weeks: 13 x 45h.
    assert business_seconds_between(OFFICE, local(2026, 9, 7), local(2026, 12, 6)) == (
        13 * 45 * HOUR
    )


# --- pausing the clock ----------------------------------------------------------------------


def test_pause_over_weekend_moves_due_by_paused_business_time() -> None:
    due = local(2026, 11, 20, 16)
    paused_at = local(2026, 11, 20, 15)
    resumed_at = local(2026, 11, 23, 10)
    paused = business_seconds_between(OFFICE, paused_at, resumed_at)
    # Friday 15:00-17:00 plus Monday 08:00-10:00.
    assert paused == 4 * HOUR
    assert add_business_time(OFFICE, due, paused) == local(2026, 11, 23, 11)


# --- is_open / next_open / open_intervals ---------------------------------------------------


def test_is_open_boundaries() -> None:
    assert is_open(OFFICE, local(2026, 11, 20, 8))
    assert is_open(OFFICE, local(2026, 11, 20, 16, 59) + timedelta(seconds=59))
    assert not is_open(OFFICE, local(2026, 11, 20, 17))
    assert not is_open(OFFICE, local(2026, 11, 21, 12))
    assert not is_open(OFFICE_WITH_HOLIDAYS, local(2026, 11, 26, 12))
    assert is_open(ALWAYS, local(2026, 11, 21, 3))


def test_next_open() -> None:
    open_now = local(2026, 11, 20, 9, 15)
    assert next_open(OFFICE, open_now) == open_now
    assert next_open(OFFICE, local(2026, 11, 20, 17)) == local(2026, 11, 23, 8)
    assert next_open(OFFICE_WITH_HOLIDAYS, local(2026, 11, 25, 18)) == local(2026, 11, 30, 8)
    assert next_open(ALWAYS, local(2026, 11, 21, 3)).tzinfo is UTC


def test_open_intervals_are_clipped_utc() -> None:
    intervals = list(open_intervals(OFFICE, local(2026, 11, 20, 12), local(2026, 11, 24, 9)))
    assert intervals == [
        (utc(2026, 11, 20, 18), utc(2026, 11, 20, 23)),
        (utc(2026, 11, 23, 14), utc(2026, 11, 23, 23)),
        (utc(2026, 11, 24, 14), utc(2026, 11, 24, 15)),
    ]
    assert list(open_intervals(OFFICE, local(2026, 11, 24, 9), local(2026, 11, 20))) == []


# --- properties ---------------------------------------------------------------------------

BUSINESS_DAY = 9 * 3600
MAX_DURATION = 30 * BUSINESS_DAY

CALENDARS = st.sampled_from([ALWAYS, OFFICE_WITH_HOLIDAYS, NIGHT_SHIFT, ALWAYS_EXCEPT_HOLIDAYS])
INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.just(ZoneInfo("UTC")),
)
DURATIONS = st.integers(min_value=0, max_value=MAX_DURATION)
FRACTIONAL_DURATIONS = st.floats(
    min_value=0, max_value=MAX_DURATION, allow_nan=False, allow_infinity=False
)


@settings(max_examples=200, deadline=None)
@given(cal=CALENDARS, start=INSTANTS, seconds=FRACTIONAL_DURATIONS)
def test_measure_after_add_returns_the_duration(
    cal: BusinessCalendar, start: datetime, seconds: float
) -> None:
    end = add_business_time(cal, start, seconds)
    assert end >= start
    assert business_seconds_between(cal, start, end) == pytest.approx(seconds, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(cal=CALENDARS, start=INSTANTS, d1=DURATIONS, d2=DURATIONS)
def test_add_is_monotonic_in_duration(
    cal: BusinessCalendar, start: datetime, d1: int, d2: int
) -> None:
    d1, d2 = sorted((d1, d2))
    assert add_business_time(cal, start, d1) <= add_business_time(cal, start, d2)


@settings(max_examples=200, deadline=None)
@given(cal=CALENDARS, s1=INSTANTS, s2=INSTANTS, seconds=DURATIONS)
def test_add_is_monotonic_in_start(
    cal: BusinessCalendar, s1: datetime, s2: datetime, seconds: int
) -> None:
    s1, s2 = sorted((s1, s2))
    assert add_business_time(cal, s1, seconds) <= add_business_time(cal, s2, seconds)


@settings(max_examples=200, deadline=None)
@given(start=INSTANTS, end=INSTANTS, seconds=FRACTIONAL_DURATIONS)
def test_24x7_is_plain_utc_arithmetic(start: datetime, end: datetime, seconds: float) -> None:
    assert add_business_time(ALWAYS, start, seconds) == start + timedelta(seconds=seconds)
    elapsed = max(0.0, (end - start).total_seconds())
    assert business_seconds_between(ALWAYS, start, end) == elapsed
    # open_intervals has no 24x7 shortcut, so this checks the day-by-day path as well.
    expected = [(start, end)] if end > start else []
    assert list(open_intervals(ALWAYS, start, end)) == expected


@settings(max_examples=200, deadline=None)
@given(cal=CALENDARS, start=INSTANTS, a=st.integers(1, MAX_DURATION), b=DURATIONS)
def test_add_is_additive(cal: BusinessCalendar, start: datetime, a: int, b: int) -> None:
    assert add_business_time(cal, add_business_time(cal, start, a), b) == add_business_time(
        cal, start, a + b
    )


@settings(max_examples=200, deadline=None)
@given(
    cal=CALENDARS,
    start=INSTANTS,
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
)
def test_measure_agrees_with_open_intervals_and_is_open(
    cal: BusinessCalendar, start: datetime, span: timedelta
) -> None:
    end = start + span
    intervals = list(open_intervals(cal, start, end))
    total = sum(((hi - lo).total_seconds() for lo, hi in intervals), 0.0)
    assert business_seconds_between(cal, start, end) == pytest.approx(total, abs=1e-6)
    for lo, hi in intervals:
        assert start <= lo < hi <= end
        assert is_open(cal, lo)
        assert next_open(cal, lo) == lo
    for (_, hi), (following_lo, _) in pairwise(intervals):
        # Disjoint and merged: a real gap separates consecutive intervals.
        assert hi < following_lo
        assert not is_open(cal, hi)
