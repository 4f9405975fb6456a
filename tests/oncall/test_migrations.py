"""Rotations and escalation ladders moved from departments to oncall without touching their
tables: a rota entered before the move is the same row after it, and the permissions granted on
it still apply."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from departments.models import Team
from oncall.models import EscalationPolicy, Rotation

BEFORE = [("departments", "0006_integration_role")]
AFTER = [("departments", "0007_oncall_models_move_to_oncall"), ("oncall", "0001_initial")]


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


def latest() -> list[tuple[str, str]]:
    """Every app's last migration: the tests after this one need the whole schema, migrations
    that came after the move included."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_a_rota_entered_before_the_move_is_the_same_row_after_it() -> None:
    try:
        old = migrate(BEFORE).loader.project_state(BEFORE).apps
        OldTeam = old.get_model("departments", "Team")
        OldRotation = old.get_model("departments", "Rotation")
        OldPolicy = old.get_model("departments", "EscalationPolicy")
        # Made here: a transactional test before this one may have flushed the seeded teams.
        team = OldTeam.objects.create(slug="rota-move", name="Rota move")
        rotation = OldRotation.objects.create(team=team, starts_on=date(2026, 11, 2))
        policy = OldPolicy.objects.create(team=team, repeat_count=3)
        old_type = ContentType.objects.get_or_create(app_label="departments", model="rotation")[0]
        permission = Permission.objects.get_or_create(
            content_type=old_type, codename="change_rotation", defaults={"name": "Can change"}
        )[0]
        user = User.objects.create_user("rota-admin")
        user.user_permissions.add(permission)
    finally:
        migrate(AFTER)
        migrate(latest())

    ContentType.objects.clear_cache()
    moved = Rotation.objects.get(pk=rotation.pk)
    assert moved.team == Team.objects.get(slug="rota-move")
    assert moved.starts_on == date(2026, 11, 2)
    assert EscalationPolicy.objects.get(pk=policy.pk).repeat_count == 3
    assert ContentType.objects.get_for_model(Rotation).pk == old_type.pk
    assert User.objects.get(pk=user.pk).has_perm("oncall.change_rotation")
