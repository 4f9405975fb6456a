"""The manager reports as JSON: the same query functions as the report pages and their CSV
exports, read with the same filter form, for managers and admins only. Anyone else signed in
gets 404, as on the pages, so the reports reveal nothing; anonymous callers get 401 like the
rest of the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core.api_errors import errors
from core.ids import parse_id
from core.replicas import lag_tolerant_reads
from departments.roles import is_manager
from reports import api_serializers as out
from reports import conf, queries
from reports.forms import DEFAULT_PERIOD, PERIODS, ReportFilterForm, filter_data
from reports.incidents import incidents_report
from reports.queries import ReportFilters
from reports.views import REPORTS
from tickets.priority import PRIORITY_LABELS

View = TypeVar("View", bound=type["ReportView"])

FILTER_PARAMETERS = [
    OpenApiParameter(
        "period",
        OpenApiTypes.STR,
        enum=[key for key, _ in PERIODS],
        description=f"The last 7, 30 or 90 days including today, or custom (give start and "
        f"end). Default {DEFAULT_PERIOD}, or custom when start or end is given.",
    ),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day of a custom period."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day of a custom period."),
    OpenApiParameter("team", OpenApiTypes.INT, description="A team's id."),
    OpenApiParameter(
        "category",
        OpenApiTypes.INT,
        description="A category's id; a tile takes in its subcategories.",
    ),
    OpenApiParameter("department", OpenApiTypes.INT, description="A department's id."),
    OpenApiParameter("priority", OpenApiTypes.INT, enum=sorted(PRIORITY_LABELS)),
]
PAGE_PARAMETER = OpenApiParameter(
    "page",
    OpenApiTypes.INT,
    description="A page of the list, from 1; past the last page, the last page.",
)
ACCESS = "Managers and admins only; anyone else signed in gets 404."


def require_manager(request: Request) -> None:
    if not is_manager(request.user):
        raise exceptions.NotFound()


def filter_form(request: Request, problems: dict[str, list[str]]) -> ReportFilterForm:
    """The filter form of the pages over this query string: a 400 with its messages (and any
    other problems found in the query) when it does not hold."""
    form = ReportFilterForm(filter_data(request.query_params), today=queries.local_today())
    if not form.is_valid():
        for field, messages in form.errors.items():
            key = api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field
            problems[key] = [str(message) for message in messages]
    if problems:
        raise exceptions.ValidationError(problems)
    return form


def documented(key: str, *extra: OpenApiParameter) -> Callable[[View], View]:
    """The schema of a report's view: the report's own words, the filters, its output and
    every answer it can give."""

    def decorate(view: View) -> View:
        info = REPORTS[key]
        return extend_schema_view(
            get=extend_schema(
                summary=info.title,
                description=f"{info.lead} The numbers of the report page, for the same "
                f"filters. {ACCESS}",
                parameters=[*FILTER_PARAMETERS, *extra],
                responses={200: view.output, **errors(400, 404)},
            )
        )(view)

    return decorate


class ReportView(APIView):
    """One report, for the filters in the query string."""

    output: type[serializers.Serializer[Any]]

    def get(self, request: Request) -> Response:
        require_manager(request)
        problems = self.query_problems(request)
        form = filter_form(request, problems)
        filters = {**form.cleaned_data, "time_zone": conf.hospital_tz().key}
        context = {"request": request, "filters": filters}
        # Reports tolerate a replica's second of lag (core/replicas.py).
        with lag_tolerant_reads():
            report = self.build(form.report_filters(), request)
            return Response(self.output(report, context=context).data)

    def query_problems(self, request: Request) -> dict[str, list[str]]:
        """Problems with query parameters of this report's own, besides the filters."""
        return {}

    def build(self, filters: ReportFilters, request: Request) -> Any:
        raise NotImplementedError


def report_view(
    key: str, serializer: type[serializers.Serializer[Any]], run: Callable[[ReportFilters], Any]
) -> type[ReportView]:
    """The view of a report that takes the filters alone: its query function and its output."""

    class View(ReportView):
        output = serializer

        def build(self, filters: ReportFilters, request: Request) -> Any:
            return run(filters)

    View.__name__ = View.__qualname__ = f"{serializer.__name__.removesuffix('Serializer')}View"
    return documented(key)(View)


ComplianceView = report_view("compliance", out.ComplianceSerializer, queries.compliance)
SpeedView = report_view("speed", out.SpeedSerializer, queries.speed)
TrendsView = report_view("trends", out.TrendsSerializer, queries.trends)
CriticalAreasView = report_view("critical", out.CriticalAreasSerializer, queries.critical_areas)
SourcesView = report_view("sources", out.SourcesSerializer, queries.work_sources)
TechniciansView = report_view("technicians", out.TechniciansSerializer, queries.technicians)
IncidentsView = report_view(
    "incidents",
    out.IncidentsSerializer,
    lambda filters: incidents_report(filters, now=timezone.now()),
)


@documented("breaches", PAGE_PARAMETER)
class BreachesView(ReportView):
    """The summary counts, and one page of the breach list."""

    output = out.BreachesSerializer

    def query_problems(self, request: Request) -> dict[str, list[str]]:
        page = parse_id(request.query_params.get("page", "1"))
        if page is None or page < 1:
            return {"page": ["A page is a whole number from 1."]}
        return {}

    def build(self, filters: ReportFilters, request: Request) -> Any:
        page = parse_id(request.query_params.get("page", "1")) or 1
        return {
            "summary": queries.breach_summary(filters),
            "found": queries.breaches_page(filters, page, timezone.now()),
        }


class ReportListView(APIView):
    @extend_schema(
        summary="The reports",
        description=f"Each report with its address in this API. {ACCESS}",
        responses={200: out.ReportLinkSerializer(many=True), **errors(404)},
    )
    def get(self, request: Request) -> Response:
        require_manager(request)
        rows = [
            {
                "key": info.key,
                "title": info.title,
                "lead": info.lead,
                "url": request.build_absolute_uri(reverse(f"api-report-{info.key}")),
            }
            for info in REPORTS.values()
        ]
        return Response(out.ReportLinkSerializer(rows, many=True).data)
