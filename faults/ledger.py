"""What the load was told: every filing it got a success for, for the invariants to find."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Filing:
    """A ticket the load was told was filed: by whom, under which key, and its id."""

    via: str  # "form" or "api"
    requester_id: int
    key: str  # as stored on the ticket (the API's is prefixed "api:")
    ticket_id: int
    emergency: bool


@dataclass
class Ledger:
    filings: list[Filing] = field(default_factory=list)
    api_retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, filing: Filing) -> None:
        with self._lock:
            self.filings.append(filing)

    def retried(self) -> None:
        with self._lock:
            self.api_retries += 1
