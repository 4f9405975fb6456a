"""Hand work to Celery after the transaction commits, without ever failing the request.

The database rows are the source of truth (the outbox); the beat sweep finds whatever a dead or
hung broker did not take. So a publish error is logged with the ids and swallowed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task[Any, Any], *ids: int) -> None:
    def publish() -> None:
        try:
            task.apply_async(args=ids, retry=False)
        except Exception:  # the broker's errors vary by transport; none may reach the user
            logger.warning("could not enqueue %s%s; the sweep will pick it up", task.name, ids)

    transaction.on_commit(publish)


BATCH_SIZE = 25


def enqueue_many_on_commit(task: Task[Any, Any], ids: Iterable[int]) -> None:
    """Publish ``task`` with the ids in lists of BATCH_SIZE once the transaction commits: a
    sweep that breaches a thousand tickets publishes forty messages, not a thousand, and a
    single P1's page still travels alone."""
    pending = list(ids)
    if not pending:
        return
    batches = [pending[i : i + BATCH_SIZE] for i in range(0, len(pending), BATCH_SIZE)]

    def publish() -> None:
        try:
            with task.app.producer_or_acquire() as producer:  # type: ignore[attr-defined]
                for batch in batches:
                    task.apply_async(args=(batch,), retry=False, producer=producer)
        except Exception:  # the broker's errors vary by transport; none may reach the user
            shown = tuple(pending[:20])
            logger.warning(
                "could not enqueue %s%s%s; the sweep will pick them up",
                task.name,
                shown,
                f" and {len(pending) - len(shown)} more" if len(pending) > len(shown) else "",
            )

    transaction.on_commit(publish)
