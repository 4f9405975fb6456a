"""On-call rotations: hand-offs on the local wall clock, DST, overrides and the schedule view.

Field Services in the examples: members 11, 22, 33 handing off weekly on Monday 08:00 Chicago
time from Monday 2026-11-02. Chicago leaves daylight time on Sunday 2026-11-01 (CDT, UTC-5, to
CST, UTC-6) and enters it on Sunday 2026-03-08, so 08:00 local is 14:00 UTC in winter and
13:00 UTC in summer. Expected answers are written out literally.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall.schedule import (
    OnCall,
    OverrideSpec,
    RotationSpec,
    next_handoff,
    shifts,
    who_is_on_call,
)

CHICAGO = ZoneInfo("America/Chicago")

FIELD = RotationSpec(
    members=(11, 22, 33),
    starts_on=date(2026, 11, 2),
    handoff_time=time(8, 0),
    length_days=7,
    tz=CHICAGO,
)


def local(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    """A Chicago wall-clock time."""
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=CHICAGO, fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def daily(handoff: time, starts_on: date = date(2026, 3, 1)) -> RotationSpec:
    return RotationSpec((11, 22, 33), starts_on, handoff, 1, CHICAGO)


ENTERED = datetime(2026, 10, 1, 12, tzinfo=UTC)


def override(
    user_id: int,
    starts_at: datetime,
    ends_at: datetime,
    created_at: datetime = ENTERED,
    override_id: int = 0,
) -> OverrideSpec:
    return OverrideSpec(user_id, starts_at, ends_at, created_at, override_id)


SICK_DAY = override(44, local(2026, 11, 10, 12), local(2026, 11, 11, 12), override_id=7)


# --- the scheduled rotation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "primary"),
    [
        pytest.param(local(2026, 11, 2, 8), 11, id="first hand-off exactly"),
        pytest.param(local(2026, 11, 2, 7, 59, 59, 999999), 33, id="1us before wraps to last"),
        pytest.param(local(2026, 11, 9, 8), 22, id="second hand-off"),
        pytest.param(local(2026, 11, 16, 7, 59), 22, id="a minute before third hand-off"),
        pytest.param(local(2026, 11, 16, 8), 33, id="third hand-off"),
        pytest.param(local(2026, 11, 23, 9), 11, id="back to the first member"),
        pytest.param(utc(2026, 11, 2, 14), 11, id="hand-off given in UTC"),
        pytest.param(utc(2026, 11, 2, 13, 59), 33, id="before hand-off given in UTC"),
        pytest.param(local(2026, 10, 19, 8), 22, id="two shifts before starts_on"),
        pytest.param(local(2026, 10, 19, 7, 59), 11, id="three shifts before starts_on"),
    ],
)
def test_scheduled_primary(at: datetime, primary: int) -> None:
    assert who_is_on_call(FIELD, (), at).primary == primary


def test_on_call_at_the_first_hand_off() -> None:
    assert who_is_on_call(FIELD, [], local(2026, 11, 2, 8)) == OnCall(
        primary=11,
        secondary=22,
        shift_started_at=utc(2026, 11, 2, 14),
        shift_ends_at=utc(2026, 11, 9, 14),
        override_id=None,
    )


def test_shift_bounds_are_utc() -> None:
    on_call = who_is_on_call(FIELD, [], local(2026, 11, 5, 12))
    assert on_call.shift_started_at.tzinfo is UTC
    assert on_call.shift_ends_at.tzinfo is UTC
    assert next_handoff(FIELD, local(2026, 11, 5, 12)).tzinfo is UTC


@pytest.mark.parametrize(
    ("at", "primary", "secondary"),
    [
        (local(2026, 11, 2, 9), 11, 22),
        (local(2026, 11, 9, 9), 22, 33),
        (local(2026, 11, 16, 9), 33, 11),
    ],
)
def test_secondary_is_the_next_member(at: datetime, primary: int, secondary: int) -> None:
    on_call = who_is_on_call(FIELD, [], at)
    assert (on_call.primary, on_call.secondary) == (primary, secondary)


def test_single_member_has_no_secondary() -> None:
    solo = RotationSpec((11,), date(2026, 11, 2), time(8), 7, CHICAGO)
    on_call = who_is_on_call(solo, [], local(2026, 12, 25, 3))
    assert (on_call.primary, on_call.secondary) == (11, None)


def test_secondary_skips_a_repeated_member() -> None:
    # The model forbids duplicates, but a hand-built spec must still never page one person twice.
    doubled = RotationSpec((11, 11, 22), date(2026, 11, 2), time(8), 7, CHICAGO)
    assert who_is_on_call(doubled, [], local(2026, 11, 3)).secondary == 22
    assert who_is_on_call(doubled, [], local(2026, 11, 10)).secondary == 22
    assert who_is_on_call(doubled, [], local(2026, 11, 17)).secondary == 11
    only_one = RotationSpec((11, 11), date(2026, 11, 2), time(8), 7, CHICAGO)
    assert who_is_on_call(only_one, [], local(2026, 11, 3)).secondary is None


def test_empty_rotation_has_nobody() -> None:
    empty = RotationSpec((), date(2026, 11, 2), time(8), 7, CHICAGO)
    assert who_is_on_call(empty, [], local(2026, 11, 3)) == OnCall(
        primary=None,
        secondary=None,
        shift_started_at=utc(2026, 11, 2, 14),
        shift_ends_at=utc(2026, 11, 9, 14),
        override_id=None,
    )


def test_next_handoff_is_strictly_after() -> None:
    assert next_handoff(FIELD, local(2026, 11, 2, 7, 59)) == utc(2026, 11, 2, 14)
    assert next_handoff(FIELD, local(2026, 11, 2, 8)) == utc(2026, 11, 9, 14)
    assert next_handoff(FIELD, local(2026, 11, 2, 8, 0, 0, 1)) == utc(2026, 11, 9, 14)
    assert next_handoff(FIELD, local(2026, 11, 8, 23, 59)) == utc(2026, 11, 9, 14)


# --- daylight saving time ---------------------------------------------------------------------


def test_daily_shift_across_spring_forward_is_23_hours() -> None:
    rotation = daily(time(8))
    on_call = who_is_on_call(rotation, [], local(2026, 3, 7, 20))
    assert on_call.shift_started_at == utc(2026, 3, 7, 14)  # 08:00 CST
    assert on_call.shift_ends_at == utc(2026, 3, 8, 13)  # 08:00 CDT
    assert on_call.shift_ends_at - on_call.shift_started_at == timedelta(hours=23)
    assert on_call.shift_started_at.astimezone(CHICAGO).time() == time(8)
    assert on_call.shift_ends_at.astimezone(CHICAGO).time() == time(8)
    after = who_is_on_call(rotation, [], local(2026, 3, 8, 8))
    assert after.shift_started_at == utc(2026, 3, 8, 13)
    assert after.shift_ends_at == utc(2026, 3, 9, 13)
    assert (on_call.primary, after.primary) == (11, 22)


def test_daily_shift_across_fall_back_is_25_hours() -> None:
    rotation = daily(time(8))
    on_call = who_is_on_call(rotation, [], local(2026, 10, 31, 20))
    assert on_call.shift_started_at == utc(2026, 10, 31, 13)  # 08:00 CDT
    assert on_call.shift_ends_at == utc(2026, 11, 1, 14)  # 08:00 CST
    assert on_call.shift_ends_at - on_call.shift_started_at == timedelta(hours=25)
    assert on_call.shift_started_at.astimezone(CHICAGO).time() == time(8)
    assert on_call.shift_ends_at.astimezone(CHICAGO).time() == time(8)
    # Still the Saturday person at 13:30 UTC on Sunday: that is 07:30 CST, before the hand-off.
    assert who_is_on_call(rotation, [], utc(2026, 11, 1, 13, 30)).primary == on_call.primary == 22
    assert who_is_on_call(rotation, [], utc(2026, 11, 1, 14)).primary == 33


def test_weekly_hand_off_after_fall_back_is_at_0800_cst() -> None:
    on_call = who_is_on_call(FIELD, [], local(2026, 10, 30, 12))
    assert on_call.primary == 33
    assert on_call.shift_started_at == utc(2026, 10, 26, 13)  # Monday 08:00 CDT
    assert on_call.shift_ends_at == utc(2026, 11, 2, 14)  # Monday 08:00 CST, not 13:00 UTC
    assert on_call.shift_ends_at - on_call.shift_started_at == timedelta(days=7, hours=1)
    assert next_handoff(FIELD, local(2026, 10, 30, 12)) == utc(2026, 11, 2, 14)
    assert who_is_on_call(FIELD, [], utc(2026, 11, 2, 13)).primary == 33


def test_hand_off_in_the_spring_forward_gap_moves_to_0330_cdt() -> None:
    rotation = daily(time(2, 30))
    handoff = next_handoff(rotation, local(2026, 3, 8, 0))
    assert handoff == utc(2026, 3, 8, 8, 30)
    assert handoff.astimezone(CHICAGO).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 30)
    assert handoff.astimezone(CHICAGO).utcoffset() == timedelta(hours=-5)
    # 03:00 CDT is past 02:30 on the wall clock, yet the hand-off has not happened: the instant
    # wins, so the Saturday person (11) stays primary until 03:30 and the primary changes once.
    at_three = who_is_on_call(rotation, [], local(2026, 3, 8, 3))
    assert at_three.primary == 11
    assert at_three.shift_ends_at == utc(2026, 3, 8, 8, 30)
    assert who_is_on_call(rotation, [], utc(2026, 3, 8, 8, 29)).primary == 11
    at_handoff = who_is_on_call(rotation, [], utc(2026, 3, 8, 8, 30))
    assert at_handoff.primary == 22
    assert at_handoff.shift_started_at == utc(2026, 3, 8, 8, 30)
    # The next day 02:30 exists again, so that shift is 23 hours long.
    assert at_handoff.shift_ends_at == utc(2026, 3, 9, 7, 30)


def test_ambiguous_hand_off_uses_the_first_occurrence() -> None:
    rotation = daily(time(1, 30), starts_on=date(2026, 10, 25))
    assert next_handoff(rotation, local(2026, 11, 1, 0)) == utc(2026, 11, 1, 6, 30)  # 01:30 CDT
    assert who_is_on_call(rotation, [], utc(2026, 11, 1, 6, 29)).primary == 11
    assert who_is_on_call(rotation, [], utc(2026, 11, 1, 6, 30)).primary == 22
    # 01:00 CST (the second pass through the hour) reads as before 01:30 on the wall clock,
    # but the hand-off already happened at 01:30 CDT; the new member stays primary.
    second_pass = who_is_on_call(rotation, [], local(2026, 11, 1, 1, 0, fold=1))
    assert second_pass.primary == 22
    assert second_pass.shift_started_at == utc(2026, 11, 1, 6, 30)
    assert second_pass.shift_ends_at == utc(2026, 11, 2, 7, 30)  # 01:30 CST, 25 h later


# --- overrides --------------------------------------------------------------------------------


def test_sick_day_override() -> None:
    inside = who_is_on_call(FIELD, [SICK_DAY], local(2026, 11, 10, 12))
    assert inside == OnCall(
        primary=44,
        secondary=33,
        shift_started_at=utc(2026, 11, 9, 14),
        shift_ends_at=utc(2026, 11, 16, 14),
        override_id=7,
    )
    assert who_is_on_call(FIELD, [SICK_DAY], local(2026, 11, 11, 11, 59)).primary == 44
    before = who_is_on_call(FIELD, [SICK_DAY], local(2026, 11, 10, 11, 59, 59, 999999))
    assert (before.primary, before.override_id) == (22, None)
    at_end = who_is_on_call(FIELD, [SICK_DAY], local(2026, 11, 11, 12))
    assert (at_end.primary, at_end.secondary, at_end.override_id) == (22, 33, None)


def test_override_by_the_next_member_makes_the_scheduled_primary_secondary() -> None:
    swap = override(33, local(2026, 11, 10), local(2026, 11, 11), override_id=3)
    on_call = who_is_on_call(FIELD, [swap], local(2026, 11, 10, 9))
    assert (on_call.primary, on_call.secondary, on_call.override_id) == (33, 22, 3)


def test_override_by_the_scheduled_primary_changes_nobody() -> None:
    same = override(22, local(2026, 11, 10), local(2026, 11, 11), override_id=5)
    on_call = who_is_on_call(FIELD, [same], local(2026, 11, 10, 9))
    assert (on_call.primary, on_call.secondary, on_call.override_id) == (22, 33, 5)


@pytest.mark.parametrize("reverse", [False, True])
def test_later_created_override_wins(reverse: bool) -> None:
    older = override(
        44, local(2026, 11, 10), local(2026, 11, 12), created_at=utc(2026, 11, 1), override_id=9
    )
    newer = override(
        55, local(2026, 11, 10, 12), local(2026, 11, 10, 20), utc(2026, 11, 5), override_id=1
    )
    given_overrides = [newer, older] if reverse else [older, newer]
    assert who_is_on_call(FIELD, given_overrides, local(2026, 11, 10, 14)).override_id == 1
    assert who_is_on_call(FIELD, given_overrides, local(2026, 11, 10, 14)).primary == 55
    assert who_is_on_call(FIELD, given_overrides, local(2026, 11, 10, 21)).primary == 44
    assert who_is_on_call(FIELD, given_overrides, local(2026, 11, 10, 9)).primary == 44


def test_override_id_breaks_a_created_at_tie() -> None:
    low = override(44, local(2026, 11, 10), local(2026, 11, 11), override_id=3)
    high = override(55, local(2026, 11, 10), local(2026, 11, 11), override_id=9)
    assert who_is_on_call(FIELD, [high, low], local(2026, 11, 10, 9)).primary == 55
    assert who_is_on_call(FIELD, [low, high], local(2026, 11, 10, 9)).primary == 55


def test_created_at_compares_real_instants_in_the_fall_back_hour() -> None:
    # 01:30 CST (fold=1) is 07:30 UTC, after 01:45 CDT (06:45 UTC) although its wall clock
    # reads earlier; comparing the Chicago datetimes directly would pick the wrong override.
    later = override(
        44, local(2026, 11, 10), local(2026, 11, 11), local(2026, 11, 1, 1, 30, fold=1)
    )
    earlier = override(
        55, local(2026, 11, 10), local(2026, 11, 11), local(2026, 11, 1, 1, 45), override_id=9
    )
    assert who_is_on_call(FIELD, [later, earlier], local(2026, 11, 10, 9)).primary == 44


def test_override_ending_exactly_at_the_hand_off() -> None:
    night = override(44, local(2026, 11, 8, 20), local(2026, 11, 9, 8), override_id=2)
    during = who_is_on_call(FIELD, [night], local(2026, 11, 9, 7, 59))
    assert (during.primary, during.secondary, during.override_id) == (44, 22, 2)
    at_handoff = who_is_on_call(FIELD, [night], local(2026, 11, 9, 8))
    assert (at_handoff.primary, at_handoff.secondary, at_handoff.override_id) == (22, 33, None)


def test_overrides_may_be_a_one_shot_iterator() -> None:
    def one_shot() -> Iterator[OverrideSpec]:
        yield SICK_DAY

    assert who_is_on_call(FIELD, one_shot(), local(2026, 11, 10, 13)).primary == 44
    assert shifts(FIELD, one_shot(), local(2026, 11, 10), local(2026, 11, 12))[1][2] == 44


def test_empty_rotation_with_a_manager_covering() -> None:
    empty = RotationSpec((), date(2026, 11, 2), time(8), 7, CHICAGO)
    on_call = who_is_on_call(empty, [SICK_DAY], local(2026, 11, 10, 13))
    assert (on_call.primary, on_call.secondary, on_call.override_id) == (44, None, 7)


# --- the schedule view ------------------------------------------------------------------------


def test_two_weeks_with_a_sick_day() -> None:
    assert shifts(FIELD, [SICK_DAY], local(2026, 11, 2, 8), local(2026, 11, 16, 8)) == [
        (utc(2026, 11, 2, 14), utc(2026, 11, 9, 14), 11),
        (utc(2026, 11, 9, 14), utc(2026, 11, 10, 18), 22),
        (utc(2026, 11, 10, 18), utc(2026, 11, 11, 18), 44),
        (utc(2026, 11, 11, 18), utc(2026, 11, 16, 14), 22),
    ]


def test_window_is_clipped_to_start_and_end() -> None:
    assert shifts(FIELD, [], local(2026, 10, 30, 12), local(2026, 11, 3)) == [
        (utc(2026, 10, 30, 17), utc(2026, 11, 2, 14), 33),
        (utc(2026, 11, 2, 14), utc(2026, 11, 3, 6), 11),
    ]


def test_override_by_the_next_member_merges_into_their_shift() -> None:
    early_start = override(22, local(2026, 11, 8, 8), local(2026, 11, 9, 8))
    assert shifts(FIELD, [early_start], local(2026, 11, 2, 8), local(2026, 11, 16, 8)) == [
        (utc(2026, 11, 2, 14), utc(2026, 11, 8, 14), 11),
        (utc(2026, 11, 8, 14), utc(2026, 11, 16, 14), 22),
    ]


def test_overrides_outside_the_window_are_ignored() -> None:
    assert shifts(FIELD, [SICK_DAY], local(2026, 11, 2, 8), local(2026, 11, 9, 8)) == [
        (utc(2026, 11, 2, 14), utc(2026, 11, 9, 14), 11),
    ]


def test_single_member_is_one_segment() -> None:
    solo = RotationSpec((11,), date(2026, 11, 2), time(8), 7, CHICAGO)
    assert shifts(solo, [], local(2026, 11, 1), local(2026, 11, 30)) == [
        (utc(2026, 11, 1, 5), utc(2026, 11, 30, 6), 11),
    ]


def test_empty_rotation_schedule_shows_the_gaps() -> None:
    empty = RotationSpec((), date(2026, 11, 2), time(8), 7, CHICAGO)
    assert shifts(empty, [SICK_DAY], utc(2026, 11, 10), utc(2026, 11, 12)) == [
        (utc(2026, 11, 10), utc(2026, 11, 10, 18), None),
        (utc(2026, 11, 10, 18), utc(2026, 11, 11, 18), 44),
        (utc(2026, 11, 11, 18), utc(2026, 11, 12), None),
    ]


# --- validation -------------------------------------------------------------------------------


def test_naive_instants_are_rejected() -> None:
    naive = datetime(2026, 11, 2, 8)
    with pytest.raises(ValueError, match="at must be a timezone-aware datetime"):
        who_is_on_call(FIELD, [], naive)
    with pytest.raises(ValueError, match="at must be a timezone-aware datetime"):
        next_handoff(FIELD, naive)
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        shifts(FIELD, [], naive, utc(2026, 11, 9))
    with pytest.raises(ValueError, match="end must be a timezone-aware datetime"):
        shifts(FIELD, [], utc(2026, 11, 1), naive)


@pytest.mark.parametrize("field", ["starts_at", "ends_at", "created_at"])
def test_naive_override_fields_are_rejected(field: str) -> None:
    values = {
        "starts_at": utc(2026, 11, 10),
        "ends_at": utc(2026, 11, 11),
        "created_at": utc(2026, 11, 1),
    }
    values[field] = values[field].replace(tzinfo=None)
    with pytest.raises(ValueError, match=f"OverrideSpec.{field} must be a timezone-aware"):
        OverrideSpec(user_id=44, override_id=1, **values)


@pytest.mark.parametrize(
    "ends_at",
    [utc(2026, 11, 10), utc(2026, 11, 9), local(2026, 11, 9, 18)],
    ids=["empty", "backwards", "same instant in another zone"],
)
def test_override_must_end_after_it_starts(ends_at: datetime) -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        OverrideSpec(44, utc(2026, 11, 10), ends_at, utc(2026, 11, 1))


@pytest.mark.parametrize("length_days", [0, -7])
def test_length_days_must_be_positive(length_days: int) -> None:
    with pytest.raises(ValueError, match="length_days must be at least 1"):
        RotationSpec((11,), date(2026, 11, 2), time(8), length_days, CHICAGO)


def test_handoff_time_must_be_wall_clock() -> None:
    with pytest.raises(ValueError, match="handoff_time must be a naive local wall-clock time"):
        RotationSpec((11,), date(2026, 11, 2), time(8, tzinfo=UTC), 7, CHICAGO)


@pytest.mark.parametrize("end", [utc(2026, 11, 2), utc(2026, 11, 1)])
def test_schedule_window_must_not_be_empty(end: datetime) -> None:
    with pytest.raises(ValueError, match="end must be after start"):
        shifts(FIELD, [], utc(2026, 11, 2), end)


# --- properties -------------------------------------------------------------------------------

# Chicago first so failures shrink to it; the others add a 30-minute DST shift (Lord Howe), a
# half-hour offset (St John's), midnight transitions (Santiago) and no DST at all (Kolkata).
ZONES = tuple(
    ZoneInfo(name)
    for name in (
        "America/Chicago",
        "Europe/London",
        "Australia/Lord_Howe",
        "America/St_Johns",
        "America/Santiago",
        "Asia/Kolkata",
    )
)
FIRST, LAST = datetime(2025, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)


def _transitions(tz: ZoneInfo) -> tuple[datetime, ...]:
    """The UTC instants, to the minute, at which ``tz`` changes offset between 2025 and 2028."""
    found = []
    for day in range((LAST - FIRST).days):
        low, high = FIRST + timedelta(days=day), FIRST + timedelta(days=day + 1)
        if low.astimezone(tz).utcoffset() == high.astimezone(tz).utcoffset():
            continue
        while high - low > timedelta(minutes=1):
            middle = low + (high - low) / 2
            if middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset():
                low = middle
            else:
                high = middle
        found.append(high.replace(second=0, microsecond=0))
    return tuple(found)


TRANSITIONS = {tz: _transitions(tz) for tz in ZONES}

MEMBERS = st.lists(st.integers(1, 99), min_size=1, max_size=5).map(tuple)
HANDOFF_TIMES = st.integers(0, 24 * 60 - 1).map(lambda minute: time(*divmod(minute, 60)))
ROTATIONS = st.builds(
    RotationSpec,
    members=MEMBERS,
    starts_on=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
    handoff_time=HANDOFF_TIMES,
    length_days=st.integers(1, 14),
    tz=st.sampled_from(ZONES),
)
INSTANTS = st.datetimes(
    datetime(2025, 1, 1), datetime(2028, 12, 31, 23, 59, 59), timezones=st.just(UTC)
)


@st.composite
def handoffs_on_a_transition(draw: st.DrawFn) -> tuple[RotationSpec, datetime]:
    """A rotation handing off on a DST-change day near the change, and an instant near it.

    Uniformly random rotations almost never put a hand-off inside a gap or fold, which is where
    the wall-clock rule and the hand-off instants could disagree.
    """
    tz = draw(st.sampled_from([tz for tz in ZONES if TRANSITIONS[tz]]))
    change = draw(st.sampled_from(TRANSITIONS[tz]))
    wall = (change - timedelta(minutes=1)).astimezone(tz) + timedelta(minutes=1)
    near = wall.replace(tzinfo=None) + timedelta(minutes=draw(st.integers(-90, 90)))
    length_days = draw(st.integers(1, 14))
    rotation = RotationSpec(
        members=draw(MEMBERS),
        starts_on=near.date() - timedelta(days=length_days * draw(st.integers(-3, 3))),
        handoff_time=near.time(),
        length_days=length_days,
        tz=tz,
    )
    at = change + timedelta(minutes=draw(st.integers(-26 * 60, 26 * 60)))
    return rotation, at


def _wall_clock_index(rotation: RotationSpec, at: datetime) -> int:
    """The shift number by the brief's wall-clock rule, written independently."""
    here = at.astimezone(rotation.tz)
    days = (here.date() - rotation.starts_on).days
    if here.time() < rotation.handoff_time:
        days -= 1
    return days // rotation.length_days


def _check_invariants(rotation: RotationSpec, at: datetime) -> None:
    on_call = who_is_on_call(rotation, (), at)
    members = rotation.members
    assert on_call.primary in members
    assert on_call.override_id is None
    if len(set(members)) >= 2:
        assert on_call.secondary in members
        assert on_call.secondary != on_call.primary
    else:
        assert on_call.secondary is None

    handoff = next_handoff(rotation, at)
    assert handoff > at
    assert on_call.shift_started_at <= at < on_call.shift_ends_at == handoff
    following = who_is_on_call(rotation, (), handoff)
    assert following.shift_started_at == handoff
    if len(set(members)) == len(members) >= 2:
        # The paging engine's second call goes to whoever takes over at the next hand-off.
        assert following.primary == on_call.secondary
    # A shift is its nominal length give or take the largest DST change among the zones.
    shift_length = on_call.shift_ends_at - on_call.shift_started_at
    assert abs(shift_length - timedelta(days=rotation.length_days)) <= timedelta(hours=1)

    a_minute_later = at + timedelta(minutes=1)
    later = who_is_on_call(rotation, (), a_minute_later)
    if a_minute_later < handoff:
        assert later.primary == on_call.primary
        assert later.shift_started_at == on_call.shift_started_at
    else:
        assert later.shift_started_at == handoff

    # Away from any offset change the result is exactly the brief's wall-clock rule.
    offsets = {(at + timedelta(hours=h)).astimezone(rotation.tz).utcoffset() for h in (-26, 26)}
    if offsets == {at.astimezone(rotation.tz).utcoffset()}:
        assert on_call.primary == members[_wall_clock_index(rotation, at) % len(members)]


@settings(max_examples=300, deadline=None)
@given(rotation=ROTATIONS, at=INSTANTS)
def test_invariants_at_random_instants(rotation: RotationSpec, at: datetime) -> None:
    _check_invariants(rotation, at)


@settings(max_examples=300, deadline=None)
@given(case=handoffs_on_a_transition())
def test_invariants_around_dst_changes(case: tuple[RotationSpec, datetime]) -> None:
    _check_invariants(*case)


@settings(max_examples=200, deadline=None)
@given(
    rotation=ROTATIONS,
    start=INSTANTS,
    hours=st.integers(1, 24 * 40),
    cover=st.lists(
        st.tuples(
            st.integers(40, 45),
            st.integers(-24 * 5, 24 * 40),
            st.integers(1, 24 * 10),
            INSTANTS,
            st.integers(0, 3),
        ),
        max_size=4,
    ),
)
def test_schedule_matches_who_is_on_call(
    rotation: RotationSpec,
    start: datetime,
    hours: int,
    cover: list[tuple[int, int, int, datetime, int]],
) -> None:
    overrides = [
        OverrideSpec(
            user,
            start + timedelta(hours=offset),
            start + timedelta(hours=offset + length),
            created,
            override_id,
        )
        for user, offset, length, created, override_id in cover
    ]
    end = start + timedelta(hours=hours)
    segments = shifts(rotation, overrides, start, end)

    assert segments[0][0] == start
    assert segments[-1][1] == end
    for (_, first_end, first_primary), (second_start, _, second_primary) in pairwise(segments):
        assert first_end == second_start
        assert first_primary != second_primary
    for seg_start, seg_end, primary in segments:
        assert seg_start < seg_end
        assert who_is_on_call(rotation, overrides, seg_start).primary == primary
        last_instant = seg_end - timedelta(microseconds=1)
        assert who_is_on_call(rotation, overrides, last_instant).primary == primary
