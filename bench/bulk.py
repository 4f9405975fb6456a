"""Loading seeded rows fast: ``COPY ... FROM STDIN`` on PostgreSQL, ``bulk_create`` on SQLite.

``CopyLoader`` sends CSV text through psycopg2's ``cursor.copy_expert`` on a connection of its own,
in a background thread: while the server parses and indexes one chunk, Python makes the next
(psycopg2 lets go of the GIL while it waits on the server). Chunks are committed one by one, with
``synchronous_commit`` off (a crash would lose a throwaway database's last chunks, nothing else).

``foreign_keys_dropped`` takes the loaded tables' foreign keys off for the load and puts them
back after, exactly as they were (``pg_get_constraintdef``), which checks every loaded row at
once: row by row, the eight foreign keys of a ticket cost three times what the rest of its COPY
does.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections
from django.db.backends.utils import CursorWrapper
from django.db.models import Model
from psycopg2.extensions import cursor as PgCursor

from bench.ticketgen import insertable_columns, not_null_text_columns


def copy_sql(model: type[Model], columns: Iterable[str] | None = None) -> str:
    """``COPY table (columns) FROM STDIN`` in CSV, empty fields of NOT NULL text columns as ''."""
    quote = connections["default"].ops.quote_name
    names = list(columns) if columns is not None else insertable_columns(model)
    options = "FORMAT csv"
    text = [column for column in not_null_text_columns(model) if column in names]
    if text:
        options += f", FORCE_NOT_NULL ({', '.join(quote(column) for column in text)})"
    return (
        f"COPY {quote(model._meta.db_table)} ({', '.join(quote(name) for name in names)}) "
        f"FROM STDIN WITH ({options})"
    )


def copy_csv(cursor: CursorWrapper | PgCursor, sql: str, text: str) -> None:
    """One COPY through psycopg2 (``cursor`` is Django's wrapper or a raw psycopg2 cursor)."""
    raw = cursor.cursor if isinstance(cursor, CursorWrapper) else cursor
    if not isinstance(raw, PgCursor):
        raise TypeError(f"COPY needs a PostgreSQL cursor, not {type(raw).__name__}")
    raw.copy_expert(sql, io.StringIO(text), size=1 << 20)


_DONE = object()


class CopyLoader:
    """COPYs (sql, csv text) batches in order on a thread and connection of its own."""

    def __init__(self, *, depth: int = 2) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self.seconds_waiting = 0.0
        self._thread = threading.Thread(target=self._run, name="bench-copy", daemon=True)
        self._thread.start()

    def put(self, *batches: tuple[str, str]) -> None:
        """Queue the batches (COPY statement, CSV text) of one transaction."""
        self._raise()
        self._queue.put(batches)

    def close(self) -> None:
        self._queue.put(_DONE)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"COPY failed: {self._error}") from self._error

    def _run(self) -> None:
        connection = connections["default"]  # this thread's own connection
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO off")
                while True:
                    item = self._queue.get()
                    if item is _DONE:
                        return
                    cursor.execute("BEGIN")
                    for sql, text in item:
                        if text:
                            copy_csv(cursor, sql, text)
                    cursor.execute("COMMIT")
        except BaseException as error:  # reported to the caller by put() or close()
            self._error = error
            while self._queue.get() is not _DONE:  # drain, so that put() never blocks
                pass
        finally:
            connection.close()


@contextmanager
def foreign_keys_dropped(*models: type[Model]) -> Iterator[int]:
    """Drop the FOREIGN KEY constraints of these tables (PostgreSQL), yield how many, and add
    them back, validated, when the block succeeds (after a failure the throwaway database is
    dropped anyway)."""
    connection = connections["default"]
    quote = connection.ops.quote_name
    saved: list[tuple[str, str, str]] = []
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
                [quote(table)],
            )
            saved += [(table, name, definition) for name, definition in cursor.fetchall()]
        for table, name, _ in saved:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    yield len(saved)
    with connection.cursor() as cursor:
        for table, name, definition in saved:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
