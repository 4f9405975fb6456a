"""Hand work to Celery after the transaction commits, without ever failing or stalling the request.

The database rows are the source of truth (the outbox); the beat sweep finds whatever a dead or
hung broker did not take. A publish the broker refuses is recorded as an UnpublishedTask, which the
next sweep publishes again at once. A broker that is hung (accepts connections, never answers)
costs one short socket timeout: after a failure this process stops trying for a few seconds, so a
request that publishes two tasks waits on the broker once, not twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from celery import Task, current_app
from django.db import DatabaseError, transaction

from tickets.models import UnpublishedTask

logger = logging.getLogger(__name__)

BATCH_SIZE = 25
# After a refused publish, this process records tasks for the sweep without asking the broker.
BROKER_BACKOFF_SECONDS = 5.0

_backoff = threading.Lock()
_broker_failed_at: float | None = None


def broker_backing_off() -> bool:
    with _backoff:
        return (
            _broker_failed_at is not None
            and time.monotonic() - _broker_failed_at < BROKER_BACKOFF_SECONDS
        )


def _broker_failed() -> None:
    global _broker_failed_at
    with _backoff:
        _broker_failed_at = time.monotonic()


def forget_broker_failure() -> None:
    """Try the broker on the next publish (a new broker configured, as in tests)."""
    global _broker_failed_at
    with _backoff:
        _broker_failed_at = None


def _record_unpublished(task: Task[Any, Any], all_args: Sequence[tuple[Any, ...]]) -> None:
    try:
        UnpublishedTask.objects.bulk_create(
            UnpublishedTask(task=task.name, args=list(args)) for args in all_args
        )
    except DatabaseError:  # the rows themselves are still the outbox the sweep reads
        logger.warning("could not record unpublished %s tasks", task.name)


def _publish(task: Task[Any, Any], all_args: list[tuple[Any, ...]]) -> int:
    """Publish each argument tuple; return how many the broker took (the rest are recorded)."""
    if broker_backing_off():
        _record_unpublished(task, all_args)
        logger.warning(
            "the broker failed moments ago: %d %s left for the sweep", len(all_args), task.name
        )
        return 0
    sent = 0
    try:
        if len(all_args) == 1:
            task.apply_async(args=all_args[0], retry=False)
            sent = 1
        else:
            with task.app.producer_or_acquire() as producer:  # type: ignore[attr-defined]
                for args in all_args:
                    task.apply_async(args=args, retry=False, producer=producer)
                    sent += 1
    except Exception:  # the broker's errors vary by transport; none may reach the user
        _broker_failed()
        _record_unpublished(task, all_args[sent:])
        raise
    return sent


def enqueue_on_commit(task: Task[Any, Any], *ids: int) -> None:
    def publish() -> None:
        try:
            _publish(task, [ids])
        except Exception:
            logger.warning("could not enqueue %s%s; the sweep will pick it up", task.name, ids)

    transaction.on_commit(publish)


def enqueue_many_on_commit(task: Task[Any, Any], ids: Iterable[int]) -> None:
    """Publish ``task`` with the ids in lists of BATCH_SIZE once the transaction commits: a
    sweep that breaches a thousand tickets publishes forty messages, not a thousand, and a
    single P1's page still travels alone."""
    pending = list(ids)
    if not pending:
        return
    batches = [(pending[i : i + BATCH_SIZE],) for i in range(0, len(pending), BATCH_SIZE)]

    def publish() -> None:
        try:
            _publish(task, batches)
        except Exception:
            shown = tuple(pending[:20])
            logger.warning(
                "could not enqueue %s%s%s; the sweep will pick them up",
                task.name,
                shown,
                f" and {len(pending) - len(shown)} more" if len(pending) > len(shown) else "",
            )

    transaction.on_commit(publish)


def republish_unpublished(*, limit: int = 1000) -> dict[str, set[int]]:
    """Publish again what the broker did not take, and return the ids each task was given. The
    sweep calls this first, so work stranded during an outage goes out on the first sweep after
    the broker is back, and its own redelivery of old rows leaves these ids alone."""
    republished: dict[str, set[int]] = {}
    with transaction.atomic():
        rows = list(UnpublishedTask.objects.select_for_update(skip_locked=True)[:limit])
        if not rows:
            return republished
        UnpublishedTask.objects.filter(pk__in=[row.pk for row in rows]).delete()
        by_task: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            by_task.setdefault(row.task, []).append(tuple(row.args))
        for name, all_args in by_task.items():
            task = current_app.tasks.get(name)
            if task is None:
                logger.error("dropping %d unpublished %s tasks: no such task", len(all_args), name)
                continue
            republished[name] = {
                value
                for args in all_args
                for arg in args
                for value in (arg if isinstance(arg, list) else [arg])
            }
            transaction.on_commit(partial(_republish, task, all_args))
    return republished


def _republish(task: Task[Any, Any], all_args: list[tuple[Any, ...]]) -> None:
    try:
        _publish(task, all_args)
    except Exception:
        logger.warning("could not enqueue %d %s tasks again; next sweep", len(all_args), task.name)
