"""Percentiles for the reports: PostgreSQL's ``percentile_cont`` in SQL, and the same definition
in Python for SQLite, which has no ordered-set aggregates.

Both routes answer the same question with the same numbers: for each group, the continuous
percentile of the non-null values by linear interpolation between the two nearest ranks
(``value[floor(p * (n - 1))]`` and ``value[ceil(p * (n - 1))]``), which is exactly what
PostgreSQL's ``percentile_cont(p) WITHIN GROUP (ORDER BY x)`` computes. Each route runs one query
per call, so a report page runs the same number of queries on both databases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from django.contrib.postgres.fields import ArrayField
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Aggregate, Count, Expression, F, FloatField, Func, QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.db.utils import NotSupportedError

if TYPE_CHECKING:
    from django.db.models.sql.compiler import _AsSqlType

Method = Literal["auto", "sql", "python"]
FRACTIONS = (0.5, 0.9)


def percentile_cont(sorted_values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over values already sorted ascending; None for no values."""
    if not sorted_values:
        return None
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("A percentile is a fraction between 0 and 1.")
    position = fraction * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    low, high = float(sorted_values[lower]), float(sorted_values[upper])
    if lower == upper:
        return low
    # PostgreSQL's float8 lerp: lo + (hi - lo) * proportion, in the same order of operations.
    return low + (high - low) * (position - lower)


class PercentileCont(Aggregate):
    """``percentile_cont(ARRAY[fractions]) WITHIN GROUP (ORDER BY expression)``: PostgreSQL
    only. All the fractions come from one sort of the group, returned as an array."""

    function = "percentile_cont"
    name = "PercentileCont"
    output_field = ArrayField(FloatField())
    template = "%(function)s(%(fractions)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression: Any, fractions: Sequence[float], **extra: Any) -> None:
        if not fractions or not all(0.0 <= fraction <= 1.0 for fraction in fractions):
            raise ValueError("A percentile is a fraction between 0 and 1.")
        # Float literals, not parameters: they are ours, and they keep the SQL readable.
        listed = ", ".join(repr(float(fraction)) for fraction in fractions)
        super().__init__(expression, fractions=f"ARRAY[{listed}]::double precision[]", **extra)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        raise NotSupportedError("percentile_cont runs on PostgreSQL; use the Python route.")


class SecondsBetween(Func):
    """Seconds from one timestamp column to another, as a float (PostgreSQL)."""

    arity = 2
    output_field = FloatField()
    template = "CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)"
    arg_joiner = " - "

    def __init__(self, end: str, start: str) -> None:
        super().__init__(F(end), F(start))

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        raise NotSupportedError("SecondsBetween is computed in Python off PostgreSQL.")


@dataclass(frozen=True, slots=True)
class Measure:
    """A duration in seconds: a stored column, or the time from ``since`` to ``field``."""

    field: str
    since: str | None = None

    def expression(self) -> Expression | F:
        return F(self.field) if self.since is None else SecondsBetween(self.field, self.since)

    def columns(self) -> tuple[str, ...]:
        return (self.field,) if self.since is None else (self.field, self.since)

    def value(self, row: Sequence[Any]) -> float | None:
        if self.since is None:
            return None if row[0] is None else float(row[0])
        end, start = row[0], row[1]
        if end is None or start is None:
            return None
        assert isinstance(end, datetime)
        assert isinstance(start, datetime)
        return (end - start).total_seconds()


@dataclass(frozen=True, slots=True)
class Summary:
    """How many values a group had, and their median and 90th percentile."""

    n: int
    p50: float | None
    p90: float | None


EMPTY = Summary(0, None, None)
GroupKey = tuple[Any, ...]


def uses_sql(queryset: QuerySet[Any], method: Method = "auto") -> bool:
    if method == "auto":
        return connections[queryset.db].vendor == "postgresql"
    return method == "sql"


def grouped_percentiles(
    queryset: QuerySet[Any],
    group_by: Sequence[str],
    measures: Mapping[str, Measure],
    *,
    method: Method = "auto",
) -> dict[GroupKey, dict[str, Summary]]:
    """{group values: {measure name: Summary}} in one query; groups with no rows are absent."""
    base = queryset.order_by()
    if uses_sql(queryset, method):
        return _by_sql(base, group_by, measures)
    return _by_python(base, group_by, measures)


def _alias(index: int, part: str) -> str:
    return f"measure{index}_{part}"


def _by_sql(
    queryset: QuerySet[Any], group_by: Sequence[str], measures: Mapping[str, Measure]
) -> dict[GroupKey, dict[str, Summary]]:
    aggregates: dict[str, Any] = {}
    for index, measure in enumerate(measures.values()):
        aggregates[_alias(index, "n")] = Count(measure.expression())
        aggregates[_alias(index, "p")] = PercentileCont(measure.expression(), FRACTIONS)
    if group_by:
        rows: Iterable[dict[str, Any]] = queryset.values(*group_by).annotate(**aggregates)
    else:
        rows = [queryset.aggregate(**aggregates)]
    found: dict[GroupKey, dict[str, Summary]] = {}
    for row in rows:
        key = tuple(row[name] for name in group_by)
        found[key] = {}
        for index, name in enumerate(measures):
            p50, p90 = row[_alias(index, "p")] or (None, None)
            found[key][name] = Summary(n=row[_alias(index, "n")] or 0, p50=p50, p90=p90)
    return found


def _by_python(
    queryset: QuerySet[Any], group_by: Sequence[str], measures: Mapping[str, Measure]
) -> dict[GroupKey, dict[str, Summary]]:
    columns: list[str] = list(group_by)
    slices: list[slice] = []
    for measure in measures.values():
        start = len(columns)
        columns.extend(measure.columns())
        slices.append(slice(start, len(columns)))
    width = len(group_by)
    values: dict[GroupKey, list[list[float]]] = {}
    for row in queryset.values_list(*columns).iterator(chunk_size=2000):
        key = tuple(row[:width])
        bucket = values.setdefault(key, [[] for _ in measures])
        for position, (measure, part) in enumerate(zip(measures.values(), slices, strict=True)):
            value = measure.value(row[part])
            if value is not None:
                bucket[position].append(value)
    if not group_by and () not in values:
        values[()] = [[] for _ in measures]
    found: dict[GroupKey, dict[str, Summary]] = {}
    for key, lists in values.items():
        found[key] = {}
        for name, numbers in zip(measures, lists, strict=True):
            numbers.sort()
            found[key][name] = Summary(
                n=len(numbers),
                p50=percentile_cont(numbers, 0.5),
                p90=percentile_cont(numbers, 0.9),
            )
    return found
