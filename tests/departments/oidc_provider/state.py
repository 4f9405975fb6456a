"""What a test asked the provider process to do differently (one worker, so one memory)."""

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
