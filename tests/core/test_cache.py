"""The shared cache: Redis in production, files under var/ in the demo. Clearing it leaves the
broker's queues and other installations' entries alone; Redis down or hung costs a request a
fraction of a second, never an error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from core.cache import SharedRedisCache
from departments.models import ApiToken
from tests.conftest import silent_server

pytestmark = pytest.mark.django_db

DOWN = "redis://127.0.0.1:1/0"


def shared(url: str, prefix: str) -> SharedRedisCache:
    return SharedRedisCache(url, {"KEY_PREFIX": prefix})


@pytest.fixture
def hung_redis() -> Iterator[str]:
    """A Redis that accepts connections and never answers."""
    with silent_server() as port:
        yield f"redis://127.0.0.1:{port}/0"


@pytest.mark.services
def test_clearing_the_cache_leaves_the_broker_and_other_installations_alone(redis_url):
    ours = shared(redis_url, f"ours-{uuid.uuid4().hex}")
    theirs = shared(redis_url, f"theirs-{uuid.uuid4().hex}")
    broker_key = f"queue-{uuid.uuid4().hex}"
    raw = redis.Redis.from_url(redis_url)
    try:
        raw.rpush(broker_key, "a queued page")
        ours.set_many({f"counts-{n}": {"mine": n} for n in range(1200)})
        theirs.set("counts", {"mine": 7})
        ours.clear()
        assert ours.get_many([f"counts-{n}" for n in range(1200)]) == {}
        assert theirs.get("counts") == {"mine": 7}
        assert raw.lrange(broker_key, 0, -1) == [b"a queued page"]
    finally:
        theirs.clear()
        raw.delete(broker_key)
        raw.close()


@pytest.mark.parametrize("where", ["down", "hung"])
def test_redis_down_or_hung_is_a_miss_not_an_error(where, request):
    url = DOWN if where == "down" else request.getfixturevalue("hung_redis")
    cache = shared(url, "helpdesk-test")
    started = time.monotonic()
    assert cache.get("counts", "missed") == "missed"
    first_call = time.monotonic() - started
    assert cache.get_many(["counts"]) == {}
    cache.set("counts", {"mine": 1}, 60)
    assert cache.add("window", 0, 60) is False
    with pytest.raises(ValueError, match="could not count"):
        cache.incr("window")
    assert first_call < 1  # given up after a short timeout
    # ... and then not asked again for a few seconds: a hung Redis costs one timeout, not five.
    assert time.monotonic() - started - first_call < 0.1


def test_the_api_and_the_queue_work_with_the_cache_down(tech):
    _token, raw = ApiToken.issue(user=tech, name="monitoring")
    caches = {
        "default": {
            "BACKEND": "core.cache.SharedRedisCache",
            "LOCATION": DOWN,
            "KEY_PREFIX": "down",
        }
    }
    with override_settings(CACHES=caches):
        api = APIClient().get("/api/tickets/", HTTP_AUTHORIZATION=f"Bearer {raw}")
        browser = APIClient()
        browser.force_login(tech)
        queue = browser.get(reverse("queue"))
    assert api.status_code == 200
    assert queue.status_code == 200


def cache_settings(**env: str) -> dict[str, str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "HELPDESK_", "CACHE_", "CELERY_", "DATABASE_"))
        and key != "PYTEST_XDIST_WORKER"  # the settings of one installation, not of a test worker
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="helpdesk.settings")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, django; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.CACHES['default']))",
        ],
        env=clean,
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    return json.loads(result.stdout)


def test_the_cache_is_redis_when_the_broker_is():
    cache = cache_settings(
        CELERY_BROKER_URL="redis://redis:6379/0",
        DATABASE_URL="postgres://helpdesk@postgres:5432/lakeside",
    )
    assert cache == {
        "BACKEND": "core.cache.SharedRedisCache",
        "LOCATION": "redis://redis:6379/0",
        "KEY_PREFIX": "helpdesk-lakeside",
    }


def test_cache_url_points_the_cache_elsewhere():
    cache = cache_settings(
        CELERY_BROKER_URL="redis://redis:6379/0",
        CACHE_URL="redis://cache:6379/2",
        CACHE_KEY_PREFIX="north-campus",
    )
    assert cache["LOCATION"] == "redis://cache:6379/2"
    assert cache["KEY_PREFIX"] == "north-campus"


def test_the_demo_cache_is_files_that_every_web_worker_shares(tmp_path):
    cache = cache_settings(HELPDESK_VAR_DIR=str(tmp_path))
    assert cache == {
        "BACKEND": "core.cache.SharedFileCache",
        "LOCATION": str(tmp_path / "cache"),
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }


def test_a_cache_url_that_is_not_understood_stops_start_up():
    with pytest.raises(subprocess.CalledProcessError) as failed:
        cache_settings(CACHE_URL="memcached://cache:11211")
    assert "CACHE_URL must be a redis:// URL, file:// or locmem://" in failed.value.stderr
