"""DATABASE_URL, DATABASE_POOLER and DATABASE_REPLICA_URL as the settings read them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.replicas import REPLICA, PrimaryReplicaRouter, lag_tolerant_reads, read_alias
from helpdesk.settings import database_pooler, postgres_database, replica_database
from tickets.models import Ticket

URL = "postgres://helpdesk:secret@db.hospital.example:6432/helpdesk"


def test_a_direct_connection_sets_jit_and_work_mem_and_keeps_server_side_cursors():
    config = postgres_database("DATABASE_URL", URL, pooler="")
    assert config["OPTIONS"]["options"] == "-c jit=off -c work_mem=16MB"
    assert not config.get("DISABLE_SERVER_SIDE_CURSORS", False)


def test_behind_pgbouncer_no_start_up_options_and_no_server_side_cursors():
    config = postgres_database("DATABASE_URL", URL, pooler="pgbouncer")
    assert "options" not in config["OPTIONS"]
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert (config["HOST"], config["PORT"], config["NAME"]) == (
        "db.hospital.example",
        6432,
        "helpdesk",
    )


@pytest.mark.parametrize(
    ("raw", "pooler"), [("", ""), ("pgbouncer", "pgbouncer"), (" PgBouncer ", "pgbouncer")]
)
def test_the_pooler_is_read_from_the_environment(monkeypatch, raw, pooler):
    monkeypatch.setenv("DATABASE_POOLER", raw)
    assert database_pooler() == pooler


def test_an_unknown_pooler_stops_the_start(monkeypatch):
    monkeypatch.setenv("DATABASE_POOLER", "pgpool")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOLER must be pgbouncer or empty"):
        database_pooler()


def test_the_replica_mirrors_the_primary_in_the_suite():
    config = replica_database("postgres://reports@replica.hospital.example/helpdesk", pooler="")
    assert config["HOST"] == "replica.hospital.example"
    assert config["TEST"] == {"MIRROR": "default"}


def test_a_replica_that_is_not_postgresql_stops_the_start():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URL must be a PostgreSQL"):
        replica_database("sqlite:///var/replica.sqlite3", pooler="")


@pytest.mark.django_db
def test_without_a_replica_the_reports_read_from_the_primary():
    with lag_tolerant_reads():
        assert read_alias() == "default"
        assert Ticket.objects.all().db == "default"


def test_the_replica_is_never_migrated_and_never_written():
    router = PrimaryReplicaRouter()
    assert router.allow_migrate(REPLICA, "tickets") is False
    assert router.allow_migrate("default", "tickets") is None
    assert router.db_for_write(object) == "default"
