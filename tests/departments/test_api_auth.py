"""API throttling for tokens: one limit per token user, whatever the number of web processes; a
sliding window, so a burst either side of a minute's edge cannot double the rate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from rest_framework.test import APIClient

from departments.api_auth import TokenRateThrottle
from departments.models import ApiToken

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 1, 9, 0, 50, tzinfo=UTC)

# Each process waits for the same moment, then asks the throttle ATTEMPTS times as fast as it
# can, as one token user; it prints how many it was allowed.
RACER = """
import json, sys, time
from types import SimpleNamespace
import django
django.setup()
from django.contrib.auth.models import User
from departments.models import ApiToken
from departments.api_auth import TokenRateThrottle
start_at, attempts = float(sys.argv[1]), int(sys.argv[2])
TokenRateThrottle.THROTTLE_RATES = {"token": "50/hour"}
request = SimpleNamespace(auth=ApiToken(), user=User(pk=4242))
while time.time() < start_at:
    time.sleep(0.001)
allowed = sum(TokenRateThrottle().allow_request(request, None) for _ in range(attempts))
print(json.dumps({"allowed": allowed}))
"""


@pytest.fixture(params=["redis", "files"])
def shared_cache(request, tmp_path) -> dict[str, str]:
    """Production's cache (Redis, under a key prefix of its own) or the demo's (files)."""
    if request.param == "files":
        return {"CACHE_URL": "file://", "HELPDESK_VAR_DIR": str(tmp_path)}
    request.applymarker(pytest.mark.services)
    return {
        "CACHE_URL": request.getfixturevalue("redis_url"),
        "CACHE_KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",
    }


def test_the_limit_holds_across_two_processes_asking_at_once(shared_cache):
    """Two web processes serving the same token user at the same moment: 60 tries each, 50 an
    hour allowed in all (a count per process would allow 100, and a count that is read and
    written back would lose the other process's requests)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **shared_cache}
    start_at = str(time.time() + 3)
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, start_at, "60"],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    allowed = [json.loads(racer.communicate(timeout=60)[0])["allowed"] for racer in racers]
    assert all(racer.returncode == 0 for racer in racers)
    assert sum(allowed) == 50


@pytest.fixture
def token_client(tech, monkeypatch) -> APIClient:
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    _token, raw = ApiToken.issue(user=tech, name="monitoring")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def statuses(client: APIClient, count: int) -> list[int]:
    return [client.get("/api/departments/").status_code for _ in range(count)]


def test_a_burst_either_side_of_the_minute_cannot_double_the_rate(token_client):
    with time_machine.travel(START, tick=False) as clock:
        assert statuses(token_client, 4) == [200, 200, 200, 429]
        clock.shift(15)  # a new minute began 5 seconds ago: the last 60 s still hold 3 calls
        assert statuses(token_client, 1) == [429]


def test_calls_come_back_as_the_window_slides_past_them(token_client):
    with time_machine.travel(START, tick=False) as clock:
        assert statuses(token_client, 3) == [200, 200, 200]
        # 55 s later, most of the burst is older than a minute: two more fit, not three.
        clock.shift(55)
        assert statuses(token_client, 3) == [200, 200, 429]


def test_refused_calls_do_not_count_against_the_next_minute(token_client):
    with time_machine.travel(START, tick=False) as clock:
        assert statuses(token_client, 3) == [200, 200, 200]
        assert statuses(token_client, 20) == [429] * 20
        clock.shift(70 + 60)  # two windows on, the burst has left the sliding window
        assert statuses(token_client, 4) == [200, 200, 200, 429]


def test_a_refused_call_says_when_to_come_back(token_client):
    with time_machine.travel(START, tick=False):
        statuses(token_client, 3)
        refused = token_client.get("/api/departments/")
    assert refused.status_code == 429
    # The minute ends at 09:01:00, but the burst still fills the sliding minute then: one more
    # call fits once a third of it has faded, at 09:01:20.
    assert int(refused["Retry-After"]) == 30
