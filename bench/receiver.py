"""A real HTTP server on 127.0.0.1 that stands in for an SMS gateway or paging provider: the
test suite's webhook checks and the bench's ``page_latency`` both post to it.

    with WebhookReceiver(statuses=[500, 500, 200], delay=0.0) as receiver:
        ...POST to receiver.url...
        receiver.requests[0].json

It answers each POST with the next status of ``statuses`` and then with ``default_status``,
optionally after ``delay`` seconds (the server simulating a slow gateway: the handler waits on an
event that stopping the server sets, so nobody waits the delay out at teardown). Every request is
recorded, under a lock, with the ``time.perf_counter()`` at which its body had arrived, before it
is answered, so a client that gave up (a timeout) still shows up in ``requests``.

Tests use the ``webhook_receiver`` fixture of ``tests/conftest.py``. Only the standard library
here: checking a request's signature is the caller's business
(``oncall.channels.verify_signature``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["RecordedRequest", "WebhookReceiver"]

MAX_BODY = 1 << 20


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: Message  # case-insensitive: headers["X-Helpdesk-Signature"]
    body: bytes
    json: Any  # the parsed body, or None when it is not JSON
    status: int  # what the receiver answered
    at: float  # time.perf_counter() when the body had arrived


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: WebhookReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up makes the late answer fail: that is expected.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        receiver = self.server.receiver
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY)) if length > 0 else b""
        arrived = time.perf_counter()
        status, delay, extra = receiver._record(
            self.command, self.path, self.headers, body, arrived
        )
        if delay > 0:
            receiver._stopping.wait(delay)
        reply = b"" if status in (204, 304) else json.dumps({"status": status}).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if reply:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("Connection", "close")
        self.end_headers()
        if reply:
            self.wfile.write(reply)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean


class WebhookReceiver:
    def __init__(
        self,
        statuses: Iterable[int] = (),
        *,
        default_status: int = 200,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._statuses: deque[int] = deque()
        self._default_status = 200
        self._delay = 0.0
        self._headers: dict[str, str] = {}
        self.configure(statuses, default_status=default_status, delay=delay, headers=headers)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # configuration -------------------------------------------------------------------------

    def configure(
        self,
        statuses: Iterable[int] = (),
        *,
        default_status: int = 200,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> WebhookReceiver:
        """Answer the next requests with ``statuses`` in order, then ``default_status``, each
        after ``delay`` seconds and with the extra response ``headers`` (e.g. Retry-After)."""
        with self._lock:
            self._statuses = deque(statuses)
            self._default_status = default_status
            self._delay = delay
            self._headers = dict(headers or {})
        return self

    # lifecycle -----------------------------------------------------------------------------

    def start(self) -> WebhookReceiver:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.receiver = self
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="webhook-receiver",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes delayed handlers
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # what it saw ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/page"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def received_keys(self) -> list[str]:
        """Distinct Idempotency-Key values, in order of first arrival."""
        keys: list[str] = []
        for request in self.requests:
            key = request.headers.get("Idempotency-Key")
            if key is not None and key not in keys:
                keys.append(key)
        return keys

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Block until ``count`` requests arrived (a condition wait, not a sleep)."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self._requests) >= count, timeout=timeout)

    def wait_for(
        self, match: Callable[[RecordedRequest], bool], timeout: float = 5.0
    ) -> RecordedRequest | None:
        """The first request ``match`` accepts, waiting up to ``timeout`` seconds for it."""

        def found() -> RecordedRequest | None:
            return next((request for request in self._requests if match(request)), None)

        with self._lock:
            self._lock.wait_for(lambda: found() is not None, timeout=timeout)
            return found()

    # called by the handler threads -----------------------------------------------------------

    def _record(
        self, method: str, path: str, headers: Message, body: bytes, arrived: float
    ) -> tuple[int, float, dict[str, str]]:
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = None
        with self._lock:
            status = self._statuses.popleft() if self._statuses else self._default_status
            self._requests.append(
                RecordedRequest(method, path, headers, body, parsed, status, arrived)
            )
            self._lock.notify_all()
            return status, self._delay, dict(self._headers)
