"""Who is on call, read from the database: a team's rotation and overrides handed to the schedule
maths (oncall.schedule), and the board of every team that the "Who's on call" page and the API
show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User

from departments.models import Team
from oncall.models import Rotation
from oncall.schedule import OnCall, OverrideSpec, RotationSpec, who_is_on_call


def rotation_spec(rotation: Rotation) -> RotationSpec:
    return RotationSpec(
        members=tuple(member.user_id for member in rotation.members.all()),
        starts_on=rotation.starts_on,
        handoff_time=rotation.handoff_time,
        length_days=rotation.length_days,
        tz=ZoneInfo(settings.TIME_ZONE),
    )


def override_specs(rotation: Rotation) -> list[OverrideSpec]:
    return [
        OverrideSpec(
            user_id=override.user_id,
            starts_at=override.starts_at,
            ends_at=override.ends_at,
            created_at=override.created_at,
            override_id=override.pk,
        )
        for override in rotation.overrides.all()
    ]


def on_call(team: Team, at: datetime) -> OnCall | None:
    rotation = getattr(team, "rotation", None)
    if rotation is None:
        return None
    return who_is_on_call(rotation_spec(rotation), override_specs(rotation), at)


@dataclass(frozen=True)
class TeamOnCall:
    """One team's line on the "Who's on call" board."""

    team: Team
    primary: User | None
    secondary: User | None
    until: datetime | None
    next_primary: User | None
    covering: bool


def on_call_board(now: datetime) -> list[TeamOnCall]:
    """Every team: who is on call now, the backup, until when, and who comes next. A fixed
    number of queries whatever the number of teams; the page and the API both show it."""
    teams = list(
        Team.objects.select_related("rotation", "manager")
        .prefetch_related("rotation__members", "rotation__overrides")
        .order_by("name")
    )
    plans = []
    for team in teams:
        current = on_call(team, now)
        following = on_call(team, current.shift_ends_at) if current else None
        plans.append((team, current, following))
    wanted = {
        user_id
        for _team, current, following in plans
        for user_id in (
            current.primary if current else None,
            current.secondary if current else None,
            following.primary if following else None,
        )
        if user_id
    }
    users = User.objects.select_related("profile").in_bulk(wanted)

    def user(user_id: int | None) -> User | None:
        return users.get(user_id) if user_id else None

    return [
        TeamOnCall(
            team=team,
            primary=user(current.primary) if current else None,
            secondary=user(current.secondary) if current else None,
            until=current.shift_ends_at if current else None,
            next_primary=user(following.primary) if following else None,
            covering=bool(current and current.override_id),
        )
        for team, current, following in plans
    ]
