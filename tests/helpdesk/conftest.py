from __future__ import annotations

import os

import pytest

from tests.conftest import need, port_open


@pytest.fixture
def redis_url() -> str:
    """This machine's Redis (CI's, or the one in CELERY_BROKER_URL), for the shared cache."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        url = "redis://127.0.0.1:6379/15"
    need(port_open("127.0.0.1", 6379) or "127.0.0.1" not in url, "Redis")
    return url
