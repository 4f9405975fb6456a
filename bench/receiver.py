"""A local webhook receiver for ``page_latency``: stands in for the SMS gateway or paging provider.

A real HTTP server on 127.0.0.1 (a port of its own) in a thread of the bench process. It notes the
``time.perf_counter()`` at which each POST's body has arrived, checks the signature the way the
product tells integrators to (``tickets.channels.verify_signature``) and answers 200. The idea is
the one of ``tests/webhook_receiver.py``, without pytest.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class ReceivedPage:
    at: float  # time.perf_counter() when the body had arrived
    payload: dict[str, Any]
    signed: bool  # the signature checked out with the shared secret


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: PageReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up early is not the bench's concern


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY)) if length > 0 else b""
        arrived = time.perf_counter()
        self.server.receiver._record(
            arrived,
            body,
            self.headers.get("X-Helpdesk-Timestamp", ""),
            self.headers.get("X-Helpdesk-Signature", ""),
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class PageReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._lock = threading.Condition()
        self._pages: list[ReceivedPage] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="bench-page-receiver",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/page"

    def start(self) -> PageReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    @property
    def pages(self) -> list[ReceivedPage]:
        with self._lock:
            return list(self._pages)

    def wait_for(self, ticket_number: str, timeout: float) -> ReceivedPage | None:
        """The first page received for the ticket, waiting up to ``timeout`` seconds for it."""

        def found() -> ReceivedPage | None:
            return next((p for p in self._pages if p.payload.get("ticket") == ticket_number), None)

        with self._lock:
            self._lock.wait_for(lambda: found() is not None, timeout=timeout)
            return found()

    def _record(self, arrived: float, body: bytes, timestamp: str, signature: str) -> None:
        from tickets.channels import verify_signature

        try:
            payload = json.loads(body)
        except ValueError:
            payload = {}
        signed = verify_signature(self.secret, timestamp, body, signature)
        with self._lock:
            self._pages.append(ReceivedPage(arrived, payload, signed))
            self._lock.notify_all()
