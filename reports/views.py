"""The report pages and their CSV exports: managers and admins only, a 404 for everyone else."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.replicas import lag_tolerant, lag_tolerant_reads
from departments.roles import is_manager
from reports import conf, exports, figures, queries
from reports.forms import ReportFilterForm, filter_data
from reports.incidents import incident_report, incidents_report
from reports.models import ExportAudit
from reports.queries import FIRST_CONTACT_HELP, ReportFilters


@dataclass(frozen=True, slots=True)
class ReportInfo:
    key: str
    title: str
    lead: str
    # Whether the report's own CSV lists tickets (and so may carry titles).
    ticket_rows: bool = False

    @property
    def url_name(self) -> str:
        return f"reports:{self.key}"


REPORTS = {
    info.key: info
    for info in (
        ReportInfo(
            "compliance",
            "SLA compliance",
            "First response and resolution on time, by department and priority, against the "
            "targets.",
        ),
        ReportInfo(
            "speed",
            "Speed",
            "Time to first response and to resolution: median and 90th percentile, in business "
            "and wall-clock time.",
        ),
        ReportInfo(
            "breaches",
            "Breaches",
            "Every ticket that missed a target, which target, and by how much.",
            ticket_rows=True,
        ),
        ReportInfo(
            "trends",
            "Trends",
            "Week by week: volume, compliance and the open backlog, by shift and at weekends.",
        ),
        ReportInfo(
            "critical",
            "Critical areas",
            "ED, OR, ICU and the auto-escalating departments: open tickets, pages, "
            "acknowledgement times and escalations.",
        ),
        ReportInfo(
            "sources",
            "Where the work comes from",
            "Which categories make most of the work, and where the same problem keeps coming back.",
        ),
        ReportInfo(
            "technicians",
            "Technicians",
            "Tickets handled, time to resolve, reopens and first-contact resolution.",
        ),
        ReportInfo(
            "incidents",
            "Major incidents",
            "Each major incident declared in the period: time to declare, time to first "
            "update, duration, the units and people affected and the clinician-minutes lost.",
        ),
    )
}


def manager(request: HttpRequest) -> User:
    """The signed-in manager or admin; a 404 for anyone else, so reports reveal nothing."""
    user = request.user
    if not isinstance(user, User) or not is_manager(user):
        raise Http404
    return user


def _form(request: HttpRequest) -> ReportFilterForm:
    return ReportFilterForm(filter_data(request.GET), today=queries.local_today())


def _page(
    request: HttpRequest,
    key: str,
    build: Any,
    *,
    template: str | None = None,
) -> HttpResponse:
    """Render a report: the shared filter bar, then the report built from valid filters."""
    manager(request)
    form = _form(request)
    context: dict[str, Any] = {
        "report": REPORTS.get(key),
        "reports": list(REPORTS.values()),
        "form": form,
        "querystring": "",
        # Set below when the filters are valid; the report shows only then.
        "filters": None,
        "time_zone": conf.hospital_tz().key,
        "min_to_judge": conf.min_tickets_to_judge(),
    }
    if form.is_valid():
        filters = form.report_filters()
        context.update(
            filters=filters,
            querystring=form.querystring(),
            hidden_filters=form.query_params().items(),
            scope=form.describe(),
        )
        # Reports tolerate a replica's second of lag (core/replicas.py).
        with lag_tolerant_reads():
            context.update(build(filters))
    return render(request, template or f"reports/{key}.html", context)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    def build(filters: ReportFilters) -> dict[str, Any]:
        summary = queries.headline(filters)
        return {
            "headline": summary,
            "breached": queries.breach_summary(filters),
            "targets": conf.compliance_targets(),
        }

    return _page(request, "index", build)


@login_required
@require_GET
def compliance(request: HttpRequest) -> HttpResponse:
    def build(filters: ReportFilters) -> dict[str, Any]:
        report = queries.compliance(filters)
        return {"data": report, "charts": figures.compliance_charts(report)}

    return _page(request, "compliance", build)


@login_required
@require_GET
def speed(request: HttpRequest) -> HttpResponse:
    def build(filters: ReportFilters) -> dict[str, Any]:
        report = queries.speed(filters)
        return {"data": report, "charts": figures.speed_charts(report)}

    return _page(request, "speed", build)


@login_required
@require_GET
def breaches(request: HttpRequest) -> HttpResponse:
    def build(filters: ReportFilters) -> dict[str, Any]:
        summary = queries.breach_summary(filters)
        found = queries.breaches_page(filters, request.GET.get("page"), timezone.now())
        return {
            "data": summary,
            "found": found,
            "charts": figures.breach_charts(summary),
            "withheld_title": exports.WITHHELD_TITLE,
        }

    return _page(request, "breaches", build)


@login_required
@require_GET
def trends(request: HttpRequest) -> HttpResponse:
    def build(filters: ReportFilters) -> dict[str, Any]:
        report = queries.trends(filters, now=timezone.now())
        return {
            "data": report,
            "charts": figures.trends_charts(report),
            "weeks": [(figures.week_label(week), week) for week in report.weeks],
            "bands": queries.BACKLOG_BANDS,
            "shifts": queries.SHIFTS,
        }

    return _page(request, "trends", build)


@login_required
@require_GET
def critical(request: HttpRequest) -> HttpResponse:
    def build(filters: ReportFilters) -> dict[str, Any]:
        report = queries.critical_areas(filters)
        return {"data": report, "charts": figures.critical_charts(report)}

    return _page(request, "critical", build)


@login_required
@require_GET
def sources(request: HttpRequest) -> HttpResponse:
    def build(filters: ReportFilters) -> dict[str, Any]:
        report = queries.work_sources(filters)
        return {"data": report, "charts": figures.sources_charts(report)}

    return _page(request, "sources", build)


@login_required
@require_GET
def technicians(request: HttpRequest) -> HttpResponse:
    def build(filters: ReportFilters) -> dict[str, Any]:
        report = queries.technicians(filters)
        return {
            "data": report,
            "charts": figures.technicians_charts(report),
            "first_contact_help": FIRST_CONTACT_HELP,
        }

    return _page(request, "technicians", build)


@login_required
@require_GET
def incidents(request: HttpRequest) -> HttpResponse:
    def build(filters: ReportFilters) -> dict[str, Any]:
        report = incidents_report(filters, now=timezone.now())
        return {"data": report, "charts": figures.incidents_charts(report)}

    return _page(request, "incidents", build)


@login_required
@require_GET
def incident(request: HttpRequest, pk: int) -> HttpResponse:
    """One major incident's timeline and figures."""
    manager(request)
    found = incident_report(pk, now=timezone.now())
    if found is None:
        raise Http404
    return render(
        request,
        "reports/incident.html",
        {"data": found, "report": REPORTS["incidents"], "time_zone": conf.hospital_tz().key},
    )


@login_required
@require_GET
def export_csv(request: HttpRequest, report: str) -> HttpResponse | StreamingHttpResponse:
    """A report, or the tickets behind it, as CSV. Titles only when asked for, and only for
    lists of tickets; descriptions and comments never."""
    user = manager(request)
    if report not in ExportAudit.Report.values:
        raise Http404
    form = _form(request)
    if not form.is_valid():
        problems = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponseBadRequest(
            f"These filters cannot be exported: {problems}", content_type="text/plain"
        )
    filters = form.report_filters()
    titles = request.GET.get("include_titles") == "1" and report in ("tickets", "breaches")
    name = exports.filename(report, filters)
    rows: Iterable[exports.Row]
    if report == "tickets":
        header, rows = exports.ticket_export(filters, include_titles=titles)
    elif report == "breaches":
        header, rows = exports.breach_export(filters, include_titles=titles, now=timezone.now())
    else:
        with lag_tolerant_reads():
            header, rows = exports.AGGREGATE_EXPORTS[report](filters)
    return exports.stream(
        user=user,
        report=report,
        filters=form.audit(),
        header=header,
        # Ticket rows are read as they stream, after this view has returned.
        rows=lag_tolerant(rows),
        filename=name,
        included_titles=titles,
    )
