"""A Celery worker does not start on a Redis that may evict queued tasks, and says why."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from core.redis_policy import EvictingBroker, eviction_policy, refuse_evicting_broker
from tests.conftest import need

pytestmark = pytest.mark.services

PROJECT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_server(tmp_path: Path, policy: str) -> Iterator[str]:
    """A redis-server of the test's own (the machine's Redis is shared and keeps its policy)."""
    binary = shutil.which("redis-server")
    need(binary is not None, "Redis (redis-server)")
    assert binary is not None
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir",
         str(tmp_path), "--maxmemory", "64mb", "--maxmemory-policy", policy],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_worker_refuses_to_start_on_an_evicting_redis(tmp_path):
    with redis_server(tmp_path, "allkeys-lru") as url:
        env = {
            **os.environ,
            "CELERY_BROKER_URL": url,
            "HELPDESK_VAR_DIR": str(tmp_path / "var"),
        }
        env.pop("DATABASE_URL", None)
        finished = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool", "solo",
             "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    assert "maxmemory-policy allkeys-lru" in output
    assert "Set maxmemory-policy noeviction" in output
    assert "ready." not in output


def test_a_noeviction_redis_is_accepted(tmp_path):
    with redis_server(tmp_path, "noeviction") as url:
        assert eviction_policy(url) == "noeviction"
        refuse_evicting_broker(url)  # returns: nothing to refuse


def test_a_volatile_policy_is_refused_too(tmp_path):
    with (
        redis_server(tmp_path, "volatile-lru") as url,
        pytest.raises(EvictingBroker, match="volatile-lru"),
    ):
        refuse_evicting_broker(url)


def test_a_broker_that_is_not_redis_or_not_reachable_is_not_judged():
    assert eviction_policy("filesystem://") is None
    assert eviction_policy(f"redis://127.0.0.1:{_free_port()}/0", timeout=0.2) is None
