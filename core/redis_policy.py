"""A Redis that evicts keys under memory pressure drops queued tasks without a word: a page
waiting in the queue would vanish, and only the sweep's outbox redelivery (a minute later) would
find it. Production's Redis must run with ``maxmemory-policy noeviction``; the Celery worker
refuses to start on any other (helpdesk/celery.py), so the mistake shows on the first start,
not during a busy night.

The policy is read with ``INFO memory``, which managed Redis services allow where ``CONFIG GET``
is often disabled.
"""

from __future__ import annotations

import logging

import redis

logger = logging.getLogger(__name__)

SAFE_POLICY = "noeviction"
REDIS_SCHEMES = ("redis://", "rediss://")


class EvictingBroker(SystemExit):
    """Raised at a worker's start on a Redis that may evict keys. A SystemExit, so that Celery's
    signal dispatch (which logs and swallows an ordinary exception) lets it stop the worker."""


def eviction_policy(url: str, *, timeout: float = 2.0) -> str | None:
    """The Redis's ``maxmemory_policy``, or None when it cannot be asked (not Redis, down)."""
    if not url.startswith(REDIS_SCHEMES):
        return None
    try:
        with redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout
        ) as client:
            info = client.info("memory")
    except redis.RedisError as error:
        logger.warning(
            "Could not read the broker's eviction policy (%s); it must be %s",
            type(error).__name__,
            SAFE_POLICY,
        )
        return None
    policy = info.get("maxmemory_policy")
    return str(policy) if policy is not None else None


def refuse_evicting_broker(url: str) -> None:
    """Stop the process when the broker's Redis may evict queued tasks."""
    policy = eviction_policy(url)
    if policy is None or policy == SAFE_POLICY:
        return
    message = (
        f"Refusing to start: the Celery broker's Redis has maxmemory-policy {policy}, so under "
        f"memory pressure it would silently drop queued pages and notifications. Set "
        f"maxmemory-policy {SAFE_POLICY} on it (redis.conf or CONFIG SET)."
    )
    logger.critical(message)
    raise EvictingBroker(message)
