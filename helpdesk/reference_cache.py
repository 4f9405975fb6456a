"""Reference data read on every request (departments, locations, categories, teams, SLA terms,
calendars) and each person's roles, kept in Django's cache: Redis in production, so every web
worker and Celery worker shares one copy, and an edit shows on the next request everywhere.

Entries are forgotten when a row they copy changes: on save and delete (the admin's bulk
"delete selected" included, through the delete signals) and on the ``QuerySet.update()``,
``bulk_create`` and ``bulk_update`` calls of ``ReferenceQuerySet``. A change made inside a
transaction is forgotten again after the commit, so a request that read the old rows in the
meantime cannot leave them cached. The entries also expire after a few minutes, which bounds
any staleness the signals cannot see (a raw SQL edit).

What is stored stays small and picklable: names, ids, codes, and the few reference rows a page
shows; never a queryset.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.models.signals import class_prepared, post_delete, post_save

V = TypeVar("V")
M = TypeVar("M", bound=models.Model)

REFERENCE_DATA_SECONDS = 300
_MISSING = object()
_reference_keys: list[str] = []


class ReferenceCache(Generic[V]):
    """One cache entry holding a small dict of computed values, e.g. clocks by calendar id."""

    def __init__(self, name: str) -> None:
        self.key = f"reference:{name}"
        _reference_keys.append(self.key)

    def get_or_set(self, item: Hashable, compute: Callable[[], V]) -> V:
        values: dict[Hashable, V] = cache.get(self.key) or {}
        value = values.get(item, _MISSING)
        if value is _MISSING:
            value = compute()
            cache.set(self.key, {**values, item: value}, REFERENCE_DATA_SECONDS)
        return value  # type: ignore[return-value]

    def forget(self) -> None:
        cache.delete(self.key)


class PerUserCache(Generic[V]):
    """One cache entry per person, e.g. their role names."""

    def __init__(self, name: str) -> None:
        self.prefix = f"user:{name}:"

    def get_or_set(self, user_id: int, compute: Callable[[], V]) -> V:
        value = cache.get(f"{self.prefix}{user_id}", _MISSING)
        if value is _MISSING:
            value = compute()
            cache.set(f"{self.prefix}{user_id}", value, REFERENCE_DATA_SECONDS)
        return value  # type: ignore[no-any-return]

    def forget(self, user_ids: Iterable[int]) -> None:
        keys = [f"{self.prefix}{user_id}" for user_id in user_ids]
        if keys:
            _forget_now_and_after_commit(keys)


def _forget_now_and_after_commit(keys: list[str]) -> None:
    cache.delete_many(keys)
    if connection.in_atomic_block:
        # The change is committed by then: a failure is logged, and the copies expire.
        transaction.on_commit(lambda: cache.delete_many(keys), robust=True)


def reference_cache(name: str) -> ReferenceCache[V]:
    return ReferenceCache(name)


def forget_reference_data() -> None:
    """Forget every cached copy of reference rows: the next read loads them again."""
    _forget_now_and_after_commit(list(_reference_keys))


class ReferenceQuerySet(models.QuerySet[M]):
    """Reference rows changed in bulk are forgotten like rows saved one by one."""

    def update(self, **kwargs: Any) -> int:
        rows = super().update(**kwargs)
        forget_reference_data()
        return rows

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[M]:
        created = super().bulk_create(*args, **kwargs)
        forget_reference_data()
        return created

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        rows = super().bulk_update(*args, **kwargs)
        forget_reference_data()
        return rows


class ReferenceDataModel(models.Model):
    """Rows the reference caches hold copies of: any save, delete or bulk change forgets them."""

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        abstract = True


def _reference_row_changed(sender: type[models.Model], **kwargs: Any) -> None:
    forget_reference_data()


def _watch_reference_model(sender: type[models.Model], **kwargs: Any) -> None:
    if issubclass(sender, ReferenceDataModel) and not sender._meta.abstract:
        post_save.connect(_reference_row_changed, sender=sender, weak=False)
        post_delete.connect(_reference_row_changed, sender=sender, weak=False)


class_prepared.connect(_watch_reference_model, weak=False)
