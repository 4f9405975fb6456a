"""Hand work to Celery after the transaction commits, without ever failing the request.

The database rows are the source of truth (the outbox); the beat sweep finds whatever a dead or
hung broker did not take. So a publish error is logged with the ids and swallowed.
"""

from __future__ import annotations

import logging
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
