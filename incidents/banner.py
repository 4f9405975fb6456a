"""The banner every page shows while a major incident is open or a planned downtime is near.

It is read once per request from the cache framework; every change to an incident or a
downtime forgets it, after its transaction commits, so the next page reads it afresh."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

BANNER_CACHE_KEY = "incidents:banner"


def banner_changed() -> None:
    """Forget the cached banner once the change being made is committed."""
    transaction.on_commit(lambda: cache.delete(BANNER_CACHE_KEY))
