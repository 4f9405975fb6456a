"""Percentiles for the reports: PostgreSQL's ``percentile_cont`` in SQL, and the same definition
in Python for SQLite, which has no ordered-set aggregates.

Both routes answer the same question with the same numbers: for each group, the continuous
percentile of the non-null values by linear interpolation between the two nearest ranks
(``value[floor(p * (n - 1))]`` and ``value[ceil(p * (n - 1))]``), which is exactly what
PostgreSQL's ``percentile_cont(p) WITHIN GROUP (ORDER BY x)`` computes. Each route runs one query
per call, so a report page runs the same number of queries on both databases.

A report that shows the same measures grouped several ways (by priority, by team, overall) asks
for all the groupings in one call (``percentiles_by_sets``): PostgreSQL then reads the rows once,
with ``GROUPING SETS``, instead of once per grouping. The sorts ``percentile_cont`` does (one per
measure and group, so every value is sorted once per grouping) are the same either way and are
most of the cost over a large range; the one pass saves reading the range again for each grouping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, F, FloatField, Func, QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.db.utils import NotSupportedError

if TYPE_CHECKING:
    from django.db.models.sql.compiler import _AsSqlType

Method = Literal["auto", "sql", "python"]
FRACTIONS = (0.5, 0.9)
# Float literals, not parameters: they are ours, and they keep the SQL readable. All the
# fractions come from one sort of a group, returned as an array.
FRACTIONS_SQL = f"ARRAY[{', '.join(repr(float(f)) for f in FRACTIONS)}]::double precision[]"


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
# The fields one grouping groups by; () is everything together.
GroupingSet = tuple[str, ...]
Grouped = dict[GroupKey, dict[str, Summary]]


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
) -> Grouped:
    """{group values: {measure name: Summary}} in one query; groups with no rows are absent."""
    grouping = tuple(group_by)
    return percentiles_by_sets(queryset, [grouping], measures, method=method)[grouping]


def percentiles_by_sets(
    queryset: QuerySet[Any],
    grouping_sets: Sequence[Sequence[str]],
    measures: Mapping[str, Measure],
    *,
    method: Method = "auto",
) -> dict[GroupingSet, Grouped]:
    """{grouping set: {group values: {measure name: Summary}}} for every grouping set, in one
    query. Groups with no rows are absent; the empty grouping set () always has its one group."""
    sets = list(dict.fromkeys(tuple(fields) for fields in grouping_sets))
    if not sets:
        raise ValueError("Percentiles need at least one grouping set.")
    base = queryset.order_by()
    if uses_sql(queryset, method):
        return _by_sql(base, sets, measures)
    return _by_python(base, sets, measures)


def _fields(sets: Sequence[GroupingSet]) -> list[str]:
    """Every field any grouping set groups by, once, in the order first named."""
    return list(dict.fromkeys(field for fields in sets for field in fields))


# One pass over the report's rows: ``rows`` is the queryset's own SELECT (its WHERE and its
# parameters untouched), with each grouping field and measure under a fixed alias.
_GROUPING_SETS_SQL = """
SELECT {grouping}, {columns}
FROM ({rows}) AS report_rows
GROUP BY GROUPING SETS ({sets})
"""


def _by_sql(
    queryset: QuerySet[Any], sets: Sequence[GroupingSet], measures: Mapping[str, Measure]
) -> dict[GroupingSet, Grouped]:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        raise NotSupportedError("percentile_cont runs on PostgreSQL; use the Python route.")
    fields = _fields(sets)
    group_alias = {field: f"group{index}" for index, field in enumerate(fields)}
    measure_aliases = [f"measure{index}" for index in range(len(measures))]
    selected: dict[str, Any] = {alias: F(field) for field, alias in group_alias.items()}
    selected.update(
        (alias, measure.expression())
        for alias, measure in zip(measure_aliases, measures.values(), strict=True)
    )
    try:
        rows, params = queryset.values(**selected).query.sql_with_params()
    except EmptyResultSet:
        # The filters can match nothing (an empty IN list): no groups, and () is empty.
        return {
            grouping_set: {} if grouping_set else {(): dict.fromkeys(measures, EMPTY)}
            for grouping_set in sets
        }
    quote = connection.ops.quote_name
    group_columns = [quote(group_alias[field]) for field in fields]
    # Which grouping set a row belongs to (see _grouping_mask).
    grouping = f"GROUPING({', '.join(group_columns)})" if fields else "0"
    columns = list(group_columns)
    for alias in measure_aliases:
        columns.append(f"COUNT({quote(alias)})")
        columns.append(f"percentile_cont({FRACTIONS_SQL}) WITHIN GROUP (ORDER BY {quote(alias)})")
    sql = _GROUPING_SETS_SQL.format(
        grouping=grouping,
        columns=", ".join(columns),
        rows=rows,
        sets=", ".join(
            f"({', '.join(quote(group_alias[field]) for field in grouping_set)})"
            for grouping_set in sets
        ),
    )
    masks = {_grouping_mask(fields, grouping_set): grouping_set for grouping_set in sets}
    found: dict[GroupingSet, Grouped] = {grouping_set: {} for grouping_set in sets}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            grouping_set = masks[row[0]]
            values = dict(zip(fields, row[1 : 1 + len(fields)], strict=True))
            key = tuple(values[field] for field in grouping_set)
            summaries = found[grouping_set][key] = {}
            aggregates = row[1 + len(fields) :]
            for index, name in enumerate(measures):
                count, percentiles = aggregates[2 * index], aggregates[2 * index + 1]
                p50, p90 = percentiles or (None, None)
                summaries[name] = Summary(n=count or 0, p50=p50, p90=p90)
    return found


def _grouping_mask(fields: Sequence[str], grouping_set: GroupingSet) -> int:
    """What GROUPING(fields...) answers on a row of ``grouping_set``: a bit for each field the
    set leaves out, the first field's the highest."""
    return sum(
        1 << (len(fields) - 1 - index)
        for index, field in enumerate(fields)
        if field not in grouping_set
    )


def _by_python(
    queryset: QuerySet[Any], sets: Sequence[GroupingSet], measures: Mapping[str, Measure]
) -> dict[GroupingSet, Grouped]:
    fields = _fields(sets)
    columns: list[str] = list(fields)
    slices: list[slice] = []
    for measure in measures.values():
        start = len(columns)
        columns.extend(measure.columns())
        slices.append(slice(start, len(columns)))
    positions = {
        grouping_set: [fields.index(field) for field in grouping_set] for grouping_set in sets
    }
    values: dict[GroupingSet, dict[GroupKey, list[list[float]]]] = {s: {} for s in sets}
    for row in queryset.values_list(*columns).iterator(chunk_size=2000):
        numbers = [
            measure.value(row[part])
            for measure, part in zip(measures.values(), slices, strict=True)
        ]
        for grouping_set, places in positions.items():
            key = tuple(row[place] for place in places)
            bucket = values[grouping_set].setdefault(key, [[] for _ in measures])
            for position, number in enumerate(numbers):
                if number is not None:
                    bucket[position].append(number)
    if () in values and () not in values[()]:
        values[()][()] = [[] for _ in measures]
    return {
        grouping_set: {key: _summaries(measures, lists) for key, lists in groups.items()}
        for grouping_set, groups in values.items()
    }


def _summaries(measures: Mapping[str, Measure], lists: list[list[float]]) -> dict[str, Summary]:
    found: dict[str, Summary] = {}
    for name, numbers in zip(measures, lists, strict=True):
        numbers.sort()
        found[name] = Summary(
            n=len(numbers),
            p50=percentile_cont(numbers, 0.5),
            p90=percentile_cont(numbers, 0.9),
        )
    return found
