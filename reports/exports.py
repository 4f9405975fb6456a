"""CSV exports of every report and of the tickets behind them, streamed.

Ticket rows are read EXPORT_CHUNK_SIZE at a time, each batch a query of its own that resumes
after the last row of the one before (:func:`in_batches`), and each row is written out and
dropped, so a year of tickets never sits in memory. Not a server-side cursor: behind PgBouncer
in transaction pooling (``DATABASE_POOLER=pgbouncer``) there are none, and psycopg would fetch
the whole result into memory at once.

Free text (titles, descriptions, comments) stays out unless titles are asked for, a title
flagged for possible patient data never leaves, and every export is written to the audit trail
(``ExportAudit``) and the audit log before its first byte.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import audit_record
from reports import conf, queries
from reports.incidents import IncidentsReport, incidents_report
from reports.models import ExportAudit
from reports.queries import ReportFilters
from reports.stats import Summary
from tickets.models import ticket_number

Row = Sequence[Any]
# What an export says instead of a title the PHI check flagged, whatever was asked for: the check
# cannot tell which part is patient data, so none of it leaves.
WITHHELD_TITLE = "(withheld: possible patient data)"
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # so Excel reads the file as UTF-8


class _Echo:
    """A file-like object whose write() returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def cell(value: Any, tz: Any) -> Any:
    """A value as it goes into the file: local ISO times, no formulas, empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat(timespec="seconds")
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def record_export(
    *, user: User, report: str, filters: dict[str, Any], included_titles: bool = False
) -> None:
    """An export on the audit log, with its filters: the privacy officer's record of what left."""
    audit_record(
        kind=AuditEntry.Kind.EXPORT,
        actor=user,
        detail={"report": report, "filters": filters, "included_titles": included_titles},
    )


def stream(
    *,
    user: User,
    report: str,
    filters: dict[str, Any],
    header: Sequence[str],
    rows: Iterable[Row],
    filename: str,
    included_titles: bool = False,
) -> StreamingHttpResponse:
    """Record the export, then stream the header and rows; the row count is added to the audit
    row when the last row has gone out."""
    audit = ExportAudit.objects.create(
        user=user, report=report, filters=filters, included_titles=included_titles
    )
    record_export(user=user, report=report, filters=filters, included_titles=included_titles)

    def counted() -> Iterator[Row]:
        written = 0
        for row in rows:
            yield row
            written += 1
        ExportAudit.objects.filter(pk=audit.pk).update(rows=written)

    return csv_response(header=header, rows=counted(), filename=filename)


def csv_response(
    *, header: Sequence[str], rows: Iterable[Row], filename: str
) -> StreamingHttpResponse:
    """The header and rows as a CSV download, streamed a row at a time, never cached."""
    tz = conf.hospital_tz()
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield BOM + writer.writerow(header)
        for row in rows:
            yield writer.writerow([cell(value, tz) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def filename(report: str, filters: ReportFilters) -> str:
    return f"{report}-{filters.start.isoformat()}-to-{filters.end.isoformat()}.csv"


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _secs(summary: Summary, part: str) -> float | None:
    value: float | None = getattr(summary, part)
    return None if value is None else round(value, 1)


# --- The tickets behind a report --------------------------------------------------------------


def priority_code(priority: int | None) -> str:
    return "" if priority is None else f"P{priority}"


def category_name(tile: str | None, name: str | None) -> str:
    """A category as the pages name it: "EHR: Slow or frozen", or the tile alone."""
    if name is None:
        return ""
    return f"{tile}: {name}" if tile else name


def title_or_withheld(title: str, phi_suspected: bool) -> str:
    return WITHHELD_TITLE if phi_suspected else title


# (field, header): codes with their names beside them. The category's name is built from the
# tile's and the subcategory's; the priority is written P1-P5.
TICKET_COLUMNS: tuple[tuple[str, str], ...] = (
    ("pk", "ticket"),
    ("created_at", "filed_at"),
    ("department__code", "department"),
    ("department__name", "department_name"),
    ("location__code", "location"),
    ("location__name", "location_name"),
    ("category__slug", "category"),
    ("category__name", "category_name"),
    ("team__slug", "team"),
    ("team__name", "team_name"),
    ("priority", "priority"),
    ("status", "status"),
    ("assignee__username", "assignee"),
    ("first_response_at", "first_response_at"),
    ("response_due_at", "response_due_at"),
    ("response_met", "response_met"),
    ("response_seconds", "response_seconds"),
    ("response_business_seconds", "response_business_seconds"),
    ("response_breached_at", "response_breached_at"),
    ("resolved_at", "resolved_at"),
    ("resolution_due_at", "resolution_due_at"),
    ("resolution_met", "resolution_met"),
    ("resolution_seconds", "resolution_seconds"),
    ("resolution_business_seconds", "resolution_business_seconds"),
    ("resolution_breached_at", "resolution_breached_at"),
    ("resolution_code", "resolution_code"),
    ("closed_at", "closed_at"),
)
# Read beside the columns, not written as columns of their own.
TICKET_EXTRA_FIELDS = ("category__parent__name",)


def in_batches(
    queryset: QuerySet[Any], fields: Sequence[str], *, descending: bool = False
) -> Iterator[tuple[Any, ...]]:
    """``fields`` of every row of ``queryset`` in filing order (``created_at``, then ``pk``;
    newest first when ``descending``), EXPORT_CHUNK_SIZE rows a query. Each query starts after
    the last row of the one before (a keyset, which the report index on ``created_at`` serves),
    so no query holds a cursor or a server connection between batches, and no batch gets
    slower the further the export has gone, as an OFFSET would."""
    size = conf.EXPORT_CHUNK_SIZE
    at, pk_at = fields.index("created_at"), fields.index("pk")
    order = ("-created_at", "-pk") if descending else ("created_at", "pk")
    ordered = queryset.order_by(*order).values_list(*fields)
    batch = list(ordered[:size])
    while batch:
        yield from batch
        if len(batch) < size:
            return
        created_at, pk = batch[-1][at], batch[-1][pk_at]
        if descending:
            after = Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk)
        else:
            after = Q(created_at__gt=created_at) | Q(created_at=created_at, pk__gt=pk)
        batch = list(ordered.filter(after)[:size])


def ticket_export(
    filters: ReportFilters, *, include_titles: bool
) -> tuple[list[str], Iterator[Row]]:
    """Every ticket the reports cover, one row each, without free text unless titles are
    asked for (descriptions and comments are never exported, flagged titles never)."""
    columns = [name for name, _ in TICKET_COLUMNS]
    header = [label for _, label in TICKET_COLUMNS]
    fields = [*columns, *TICKET_EXTRA_FIELDS]
    if include_titles:
        fields += ["title", "phi_suspected"]
        header.append("title")
    found = in_batches(queries.tickets(filters), fields)

    # Positions, not a dict per row: a year of tickets is a lot of rows.
    width = len(columns)
    category_at, priority_at = columns.index("category__name"), columns.index("priority")
    tile_at = fields.index("category__parent__name")

    def rows() -> Iterator[Row]:
        for values in found:
            out = list(values[:width])
            out[0] = ticket_number(values[0])
            out[category_at] = category_name(values[tile_at], values[category_at])
            out[priority_at] = priority_code(values[priority_at])
            if include_titles:
                out.append(title_or_withheld(values[-2], values[-1]))
            yield out

    return header, rows()


BREACH_FIELDS = (
    "pk",
    "created_at",
    "department__code",
    "department__name",
    "priority",
    "category__slug",
    "category__name",
    "category__parent__name",
    "team__slug",
    "team__name",
    "assignee__username",
    "status",
    "response_met",
    "response_due_at",
    "response_breached_at",
    "first_response_at",
    "resolution_met",
    "resolution_due_at",
    "resolution_breached_at",
    "resolved_at",
    "sla_paused_at",
    "closed_at",
    "updated_at",
)
BREACH_HEADER = [
    "ticket",
    "filed_at",
    "department",
    "department_name",
    "priority",
    "category",
    "category_name",
    "team",
    "team_name",
    "assignee",
    "status",
    "response_missed",
    "response_due_at",
    "response_late_seconds",
    "response_still_late",
    "resolution_missed",
    "resolution_due_at",
    "resolution_late_seconds",
    "resolution_still_late",
]


def breach_export(
    filters: ReportFilters, *, include_titles: bool, now: datetime
) -> tuple[list[str], Iterator[Row]]:
    """The breach list, every row, with which target was missed and by how much; a flagged
    title is withheld."""
    fields = list(BREACH_FIELDS) + (["title", "phi_suspected"] if include_titles else [])
    header = BREACH_HEADER + (["title"] if include_titles else [])
    # Newest first, as the breaches page lists them.
    found = in_batches(queries.breached_tickets(filters), fields, descending=True)

    def rows() -> Iterator[Row]:
        for values in found:
            row = dict(zip(fields, values, strict=True))
            ended = row["closed_at"] or (
                row["updated_at"] if row["status"] == queries.Status.CANCELLED else None
            )
            response = queries.response_overrun(
                met=row["response_met"],
                due_at=row["response_due_at"],
                breached_at=row["response_breached_at"],
                responded_at=row["first_response_at"],
                status=row["status"],
                ended_at=ended,
                now=now,
            )
            resolution = queries.resolution_overrun(
                met=row["resolution_met"],
                due_at=row["resolution_due_at"],
                breached_at=row["resolution_breached_at"],
                resolved_at=row["resolved_at"],
                paused_at=row["sla_paused_at"],
                status=row["status"],
                ended_at=ended,
                now=now,
            )
            out: list[Any] = [
                ticket_number(row["pk"]),
                row["created_at"],
                row["department__code"],
                row["department__name"],
                priority_code(row["priority"]),
                row["category__slug"],
                category_name(row["category__parent__name"], row["category__name"]),
                row["team__slug"],
                row["team__name"],
                row["assignee__username"],
                row["status"],
                response is not None,
                row["response_due_at"],
                response.seconds if response else None,
                response.ongoing if response else None,
                resolution is not None,
                row["resolution_due_at"],
                resolution.seconds if resolution else None,
                resolution.ongoing if resolution else None,
            ]
            if include_titles:
                out.append(title_or_withheld(row["title"], row["phi_suspected"]))
            yield out

    return header, rows()


# --- The reports themselves -------------------------------------------------------------------


def compliance_rows(report: queries.ComplianceReport) -> tuple[list[str], list[Row]]:
    header = [
        "department",
        "department_name",
        "priority",
        "tickets",
        "response_met",
        "response_counted",
        "response_percent",
        "response_target_percent",
        "response_below_target",
        "resolution_met",
        "resolution_counted",
        "resolution_percent",
        "resolution_target_percent",
        "resolution_below_target",
        "response_too_few_to_judge",
        "resolution_too_few_to_judge",
    ]

    def line(code: str, name: str, priority: str, outcome: queries.Outcomes) -> Row:
        return [
            code,
            name,
            priority,
            outcome.tickets,
            outcome.response.met,
            outcome.response.counted,
            _pct(outcome.response.percent),
            outcome.response.target,
            outcome.response.below_target,
            outcome.resolution.met,
            outcome.resolution.counted,
            _pct(outcome.resolution.percent),
            outcome.resolution.target,
            outcome.resolution.below_target,
            outcome.response.too_few_to_judge,
            outcome.resolution.too_few_to_judge,
        ]

    rows: list[Row] = []
    for row in report.rows:
        for priority, outcome in row.by_priority.items():
            if outcome.tickets:
                rows.append(line(row.department.code, row.department.name, f"P{priority}", outcome))
        rows.append(line(row.department.code, row.department.name, "all", row.total))
    for priority, outcome in report.by_priority.items():
        if outcome.tickets:
            rows.append(line("all", "All departments", f"P{priority}", outcome))
    rows.append(line("all", "All departments", "all", report.overall))
    return header, rows


def speed_rows(report: queries.SpeedReport) -> tuple[list[str], list[Row]]:
    header = ["group", "code", "name"]
    for measure in queries.SPEED_MEASURES:
        header += [f"{measure}_count", f"{measure}_median_seconds", f"{measure}_p90_seconds"]
    rows: list[Row] = []
    groups = [
        *(("priority", row) for row in report.by_priority),
        *(("team", row) for row in report.by_team),
        ("all", report.overall),
    ]
    for group, row in groups:
        line: list[Any] = [group, row.code, row.label]
        for measure in queries.SPEED_MEASURES:
            summary = row[measure]
            line += [summary.n, _secs(summary, "p50"), _secs(summary, "p90")]
        rows.append(line)
    return header, rows


def trends_rows(report: queries.TrendsReport) -> tuple[list[str], list[Row]]:
    header = [
        "week_of",
        "from",
        "to",
        "tickets",
        *(f"{s.key}_shift" for s in queries.SHIFTS),
        "weekend",
        "response_percent",
        "resolution_percent",
        "backlog_at",
        *(f"backlog_{key}" for key, _, _ in queries.BACKLOG_BANDS),
        "backlog_total",
        "response_met",
        "response_counted",
        "resolution_met",
        "resolution_counted",
    ]
    rows: list[Row] = [
        [
            week.week_of.isoformat(),
            week.start.isoformat(),
            week.end.isoformat(),
            week.outcomes.tickets,
            *(week.by_shift[s.key] for s in queries.SHIFTS),
            week.weekend,
            _pct(week.outcomes.response.percent),
            _pct(week.outcomes.resolution.percent),
            week.backlog_at,
            *(week.backlog[key] for key, _, _ in queries.BACKLOG_BANDS),
            week.backlog_total,
            week.outcomes.response.met,
            week.outcomes.response.counted,
            week.outcomes.resolution.met,
            week.outcomes.resolution.counted,
        ]
        for week in report.weeks
    ]
    return header, rows


def critical_rows(report: queries.CriticalReport) -> tuple[list[str], list[Row]]:
    header = [
        "department",
        "department_name",
        "open_now",
        "open_now_breached",
        "filed",
        "pages_sent",
        "page_chains",
        "acknowledged",
        "ack_median_seconds",
        "ack_p90_seconds",
        "escalated_to_secondary",
        "escalated_to_manager",
        "unanswered",
        "major_incidents",
    ]
    rows: list[Row] = [
        [
            row.department.code if row.department else "all",
            row.label,
            row.open_now,
            row.open_breached,
            row.filed,
            row.pages_sent,
            row.chains,
            row.acknowledged,
            _secs(row.ack, "p50"),
            _secs(row.ack, "p90"),
            row.to_secondary,
            row.to_manager,
            row.unanswered,
            row.incidents,
        ]
        for row in [*report.rows, report.total]
    ]
    return header, rows


def sources_rows(report: queries.SourcesReport) -> tuple[list[str], list[Row]]:
    header = [
        "section",
        "name",
        "department",
        "department_name",
        "tickets",
        "percent",
        "cumulative_percent",
        "repeats",
        "top_category",
        "top_category_tickets",
    ]
    rows: list[Row] = [
        [
            "category",
            row.name,
            "",
            "",
            row.tickets,
            _pct(row.percent),
            _pct(row.cumulative_percent),
            "",
            "",
            "",
        ]
        for row in report.pareto
    ]
    rows += [
        ["channel", row.label, "", "", row.tickets, _pct(row.percent), "", "", "", ""]
        for row in report.channels
    ]
    rows += [
        [
            "location",
            f"{row.name} ({row.code})",
            row.department_code,
            row.department_name,
            row.tickets,
            "",
            "",
            row.repeats,
            row.top_category,
            row.top_category_tickets,
        ]
        for row in report.locations
    ]
    return header, rows


def technicians_rows(report: queries.TechniciansReport) -> tuple[list[str], list[Row]]:
    header = [
        "technician",
        "name",
        "handled",
        "resolved",
        "reopened",
        "reopen_percent",
        "first_contact",
        "first_contact_percent",
        "resolve_business_median_seconds",
        "resolve_wall_median_seconds",
    ]
    rows: list[Row] = [
        [
            row.username,
            row.name,
            row.handled,
            row.resolved,
            row.reopened,
            _pct(row.reopen_rate),
            row.first_contact,
            _pct(row.first_contact_rate),
            _secs(row.resolve["resolution_business"], "p50"),
            _secs(row.resolve["resolution_wall"], "p50"),
        ]
        for row in report.rows
    ]
    return header, rows


def incident_rows(report: IncidentsReport) -> tuple[list[str], list[Row]]:
    """One row per major incident: its clock and its cost, no free text (the updates and the
    resolution stay on the page)."""
    header = [
        "incident",
        "service",
        "team",
        "status",
        "declared_for",
        "started_at",
        "first_ticket_at",
        "detected_at",
        "declared_at",
        "first_update_at",
        "resolved_at",
        "updates",
        "tickets",
        "units_affected",
        "people_affected",
        "time_to_declare_seconds",
        "time_to_first_update_seconds",
        "duration_seconds",
        "clinician_minutes_lost",
    ]
    rows: list[Row] = [
        [
            row.number,
            row.service,
            row.team,
            "resolved" if row.resolved else "open",
            "hospital-wide" if row.hospital_wide else " ".join(d.code for d in row.declared_for),
            row.started_at,
            row.first_ticket_at,
            row.detected_at,
            row.declared_at,
            row.first_update_at,
            row.resolved_at,
            row.updates,
            row.tickets,
            " ".join(unit.code for unit in row.units),
            row.people,
            row.time_to_declare,
            row.time_to_first_update,
            row.duration,
            row.clinician_minutes_lost,
        ]
        for row in report.rows
    ]
    return header, rows


AggregateExport = Callable[[ReportFilters], tuple[list[str], list[Row]]]
AGGREGATE_EXPORTS: dict[str, AggregateExport] = {
    "compliance": lambda f: compliance_rows(queries.compliance(f)),
    "speed": lambda f: speed_rows(queries.speed(f)),
    "trends": lambda f: trends_rows(queries.trends(f, now=timezone.now())),
    "critical": lambda f: critical_rows(queries.critical_areas(f)),
    "sources": lambda f: sources_rows(queries.work_sources(f)),
    "technicians": lambda f: technicians_rows(queries.technicians(f)),
    "incidents": lambda f: incident_rows(incidents_report(f, now=timezone.now())),
}
