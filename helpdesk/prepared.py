"""ORM reads compiled once and run many times.

Django turns a QuerySet into SQL every time it is evaluated: it clones the query for each
``filter()``, resolves every field name, builds the joins and renders the SQL. For the short reads
on the busiest pages (a ticket's timeline, the open tickets from the same unit) that costs two to
three times what the database takes to answer. A ``PreparedValues`` is written as an ordinary
``values_list()`` QuerySet; it is compiled on its first call, with stand-in numbers where the
caller's numbers go, and each call only binds the numbers, runs the SQL and converts the rows with
the converters the ORM would use, found once too.

Only whole numbers vary from call to call (primary and foreign keys); anything else in the query
(statuses, time windows as intervals) is part of the compiled SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ValuesListIterable
from django.db.models.sql.compiler import SQLCompiler

# Stand-ins for the caller's numbers: large negative keys no row has, one per parameter.
_STAND_IN_BASE = -7_340_032_000


@dataclass(frozen=True, slots=True)
class _Compiled:
    using: str
    compiler: SQLCompiler
    # What the ORM does to each column's raw value (on SQLite, text to datetime, for one).
    converters: dict[int, Any]
    sql: str
    params: tuple[Any, ...]
    # For each SQL parameter, the name of the caller's number that goes there, or None.
    slots: tuple[str | None, ...]


class PreparedValues:
    """``build(**numbers)`` returns a ``values_list()`` QuerySet; calling the PreparedValues with
    the same keyword numbers returns its rows as tuples, as ``list(build(**numbers))`` would."""

    def __init__(self, build: Callable[..., QuerySet[Any, Any]], *names: str) -> None:
        self._build = build
        self._names = names
        self._compiled: _Compiled | None = None

    def __call__(self, **numbers: int) -> list[tuple[Any, ...]]:
        if set(numbers) != set(self._names):
            raise TypeError(f"expected the numbers {sorted(self._names)}, got {sorted(numbers)}")
        compiled = self._compiled or self._compile()
        params = tuple(
            numbers[slot] if slot is not None else value
            for slot, value in zip(compiled.slots, compiled.params, strict=True)
        )
        with connections[compiled.using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        if not compiled.converters:
            return rows
        return [tuple(row) for row in compiled.compiler.apply_converters(rows, compiled.converters)]

    def _compile(self) -> _Compiled:
        stand_ins = {name: _STAND_IN_BASE - number for number, name in enumerate(self._names)}
        queryset = self._build(**stand_ins)
        query = queryset.query
        # Rows come back in the order values_list() names its fields only without extra or
        # annotated columns (Django would reorder them).
        if (
            queryset._iterable_class is not ValuesListIterable
            or query.extra_select
            or query.annotation_select
        ):
            raise TypeError("PreparedValues takes a values_list() of model fields")
        compiler = query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
        if compiler.has_composite_fields(columns):
            raise TypeError("PreparedValues does not read composite primary keys")
        by_value = {value: name for name, value in stand_ins.items()}
        slots = tuple(by_value.get(value) if type(value) is int else None for value in params)
        missing = set(stand_ins) - set(slots)
        if missing:
            raise TypeError(f"the query does not use {sorted(missing)}")
        self._compiled = _Compiled(
            using=queryset.db,
            compiler=compiler,
            converters=compiler.get_converters(columns),
            sql=sql,
            params=tuple(params),
            slots=slots,
        )
        return self._compiled
