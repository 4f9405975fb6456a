"""Sessions in the database, as Django keeps them, refusing a session key Django never issues
before it reaches the database: a cookie carrying a NUL byte (sent by a fuzzer, or a broken
client) would otherwise be a server error on PostgreSQL on every page it is sent to."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        # Django's keys are 32 lowercase ASCII letters and digits.
        return bool(key and key.isascii() and key.isalnum() and len(key) >= 8)
