"""Reference rows are built once per process and held until their kind's version moves in the
shared cache: a save, a delete, a bulk write through the QuerySet, or a lost version."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import override_settings

from core.reference_cache import ReferenceCache, kind_of
from departments.models import Department, Location

pytestmark = pytest.mark.django_db

DOWN = {
    "default": {
        "BACKEND": "core.cache.SharedRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "KEY_PREFIX": "down",
    }
}


class Names:
    """Department names, counting how often they were read from the database."""

    def __init__(self) -> None:
        self.held: ReferenceCache[str, dict[str, str]] = ReferenceCache(Department)
        self.reads = 0

    def __call__(self) -> dict[str, str]:
        return self.held.get_or_set("names", self.read)

    def read(self) -> dict[str, str]:
        self.reads += 1
        return dict(Department.objects.values_list("code", "name"))


@pytest.fixture
def names(reference_data: None) -> Names:
    return Names()


@contextmanager
def one_request() -> Iterator[None]:
    """A request's start and end as a server signals them (keeping the test's database
    connection open, as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        request_started.send(sender=None)
        yield
        request_finished.send(sender=None)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def version_key(model: type[Department]) -> str:
    return f"reference-version:{kind_of(model)}"


def test_rows_are_read_once_and_held(names):
    assert names()["ED"] == "Emergency Department"
    assert names()["ED"] == "Emergency Department"
    assert names.reads == 1


def test_a_limited_cache_holds_its_latest_values_only(reference_data):
    """Values keyed by what a request asks for (a filter bar per set of filters): the oldest goes
    when the limit is reached, so no run of different requests grows a process without end."""
    held: ReferenceCache[int, int] = ReferenceCache(Department, limit=3)
    built: list[int] = []

    def build(key: int) -> int:
        built.append(key)
        return key * 10

    for key in range(5):
        assert held.get_or_set(key, lambda key=key: build(key)) == key * 10
    assert held.get_or_set(4, lambda: build(4)) == 40
    assert held.get_or_set(2, lambda: build(2)) == 20
    assert built == [0, 1, 2, 3, 4]
    assert held.get_or_set(0, lambda: build(0)) == 0
    assert built == [0, 1, 2, 3, 4, 0]


def test_a_save_is_seen_at_once(names):
    names()
    ed = Department.objects.get(code="ED")
    ed.name = "Emergency"
    ed.save()
    assert names()["ED"] == "Emergency"


def test_a_queryset_update_is_seen_at_once(names):
    names()
    Department.objects.filter(code="ED").update(name="Emergency")
    assert names()["ED"] == "Emergency"


def test_bulk_update_and_bulk_create_are_seen_at_once(names):
    names()
    ed = Department.objects.get(code="ED")
    ed.name = "Emergency"
    Department.objects.bulk_update([ed], ["name"])
    assert names()["ED"] == "Emergency"
    Department.objects.bulk_create(
        [Department(code="DIAL", name="Dialysis", calendar_id=ed.calendar_id)]
    )
    assert names()["DIAL"] == "Dialysis"


def test_a_delete_is_seen_at_once(names):
    dialysis = Department.objects.create(
        code="DIAL", name="Dialysis", calendar_id=Department.objects.get(code="ED").calendar_id
    )
    assert "DIAL" in names()
    Department.objects.filter(pk=dialysis.pk).delete()
    assert "DIAL" not in names()


def test_a_change_to_another_kind_leaves_the_rows_held(names):
    names()
    Location.objects.filter(code="ED").update(name="ED Main Hall")
    names()
    assert names.reads == 1


def test_a_request_reads_the_versions_once_and_the_next_request_sees_a_move(names):
    """Another process's change reaches this one as a moved version, at the next request."""
    with one_request():
        names()
        with connection.cursor() as cursor:  # another process's write: no signal here
            cursor.execute("UPDATE departments_department SET name = 'Emergency' WHERE code = 'ED'")
        cache.incr(version_key(Department))  # ... and its version move
        assert names()["ED"] == "Emergency Department"  # the same answer within one request
    with one_request():
        assert names()["ED"] == "Emergency"


def test_a_lost_version_means_reading_the_database_again(names):
    with one_request():
        names()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE departments_department SET name = 'Emergency' WHERE code = 'ED'")
    cache.delete(version_key(Department))  # evicted, flushed, or a Redis restarted empty
    with one_request():
        assert names()["ED"] == "Emergency"
    # A fresh version was put in, so the rows are held again from there.
    assert cache.get(version_key(Department)) is not None
    names()
    assert names.reads == 2


def test_with_the_cache_down_rows_come_from_the_database_and_saves_go_through(names, caplog):
    caplog.set_level(logging.WARNING, logger="core.cache")
    with override_settings(CACHES=DOWN):
        assert names()["ED"] == "Emergency Department"
        Department.objects.filter(code="ED").update(name="Emergency")
        ed = Department.objects.get(code="ED")
        ed.name = "Emergency Dept"
        ed.save()
        assert names()["ED"] == "Emergency Dept"
    assert names.reads == 2
    assert "Redis is unavailable" in caplog.text
    assert "Emergency" not in caplog.text
