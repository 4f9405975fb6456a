"""What a test asked the provider process to do differently, and how many refresh grants it
was asked for (one worker, so one memory)."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_mischief: list[str] = []


def set_mischief(mode: str) -> None:
    with _lock:
        _mischief[:] = [mode]


def take_mischief() -> str:
    with _lock:
        return _mischief.pop() if _mischief else ""


_refreshes: list[int] = [0]


def count_refresh() -> None:
    with _lock:
        _refreshes[0] += 1


def refreshes() -> int:
    with _lock:
        return _refreshes[0]


_outage: list[bool] = [False]


def set_outage(on: bool) -> None:
    with _lock:
        _outage[0] = on


def in_outage() -> bool:
    with _lock:
        return _outage[0]
