"""The reports as JSON: output serializers over the dataclasses that reports/queries.py returns
to the pages and the CSV exports, so every number is the one the page shows.

Durations are seconds (null where no ticket had one), percentages are numbers from 0 to 100
(null where nothing was counted), dates and times ISO 8601 in the hospital's time zone. No free
text: a breached ticket is named by its number and links, never by its title, which may hold
patient data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils.urls import replace_query_param

from reports import conf, queries
from reports.forms import PERIODS
from tickets.api_serializers import person
from tickets.models import Ticket

# --- Shared pieces ----------------------------------------------------------------------------


class SlugRefSerializer(serializers.Serializer[Any]):
    """A team or a category: its id (what the filters take), slug and name."""

    id = serializers.IntegerField(source="pk")
    slug = serializers.CharField()
    name = serializers.CharField()


class DepartmentRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    code = serializers.CharField()
    name = serializers.CharField()
    tier = serializers.IntegerField()
    auto_escalate = serializers.BooleanField()


class ReportFiltersSerializer(serializers.Serializer[Any]):
    """The filters as the report resolved them: the period's dates, the time zone its days are
    counted in, and the filters applied (null where none)."""

    period = serializers.ChoiceField(choices=PERIODS)
    start = serializers.DateField(help_text="The first day covered (local).")
    end = serializers.DateField(help_text="The last day covered (local), inclusive.")
    time_zone = serializers.CharField(help_text="The hospital's time zone, e.g. America/Chicago.")
    team = SlugRefSerializer(allow_null=True)
    category = SlugRefSerializer(allow_null=True, help_text="A tile takes in its subcategories.")
    department = DepartmentRefSerializer(allow_null=True)
    priority = serializers.IntegerField(allow_null=True)


class TargetsSerializer(serializers.Serializer[Any]):
    response = serializers.FloatField(help_text="Percent of first responses to be on time.")
    resolution = serializers.FloatField(help_text="Percent of resolutions to be on time.")


class RateSerializer(serializers.Serializer[Any]):
    """Targets met out of targets counted. A target counts once its outcome is known."""

    met = serializers.IntegerField()
    counted = serializers.IntegerField()
    missed = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True, help_text="Null when none counted.")
    target = serializers.FloatField(help_text="The compliance target, percent.")
    below_target = serializers.BooleanField(
        help_text="The percentage is under the target, however few were counted."
    )
    too_few_to_judge = serializers.BooleanField(
        help_text="Fewer tickets counted than the reports' minimum to judge (5 by default, the "
        'HELPDESK MIN_TICKETS_TO_JUDGE setting): the pages show the count as "too few to '
        'judge" instead of marking it below target.'
    )


class OutcomesSerializer(serializers.Serializer[Any]):
    tickets = serializers.IntegerField(help_text="Tickets filed.")
    response = RateSerializer()
    resolution = RateSerializer()


class PriorityOutcomesSerializer(OutcomesSerializer):
    priority = serializers.IntegerField()


# A report, led by the filters it was run with (given in the context).
class ReportSerializer(serializers.Serializer[Any]):
    filters = serializers.SerializerMethodField()

    @extend_schema_field(ReportFiltersSerializer)
    def get_filters(self, report: Any) -> dict[str, Any]:
        return dict(ReportFiltersSerializer(self.context["filters"]).data)


def by_priority(outcomes: dict[int, queries.Outcomes]) -> list[dict[str, Any]]:
    return [
        {"priority": priority, **OutcomesSerializer(found).data}
        for priority, found in outcomes.items()
    ]


class DurationSerializer(serializers.Serializer[Any]):
    """A duration's median and 90th percentile over the tickets that had one."""

    count = serializers.IntegerField(source="n", help_text="Tickets with a time.")
    median_seconds = serializers.FloatField(source="p50", allow_null=True)
    p90_seconds = serializers.FloatField(source="p90", allow_null=True)


# --- The list of reports ----------------------------------------------------------------------


class ReportLinkSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    title = serializers.CharField()
    lead = serializers.CharField()
    url = serializers.URLField()


# --- SLA compliance ---------------------------------------------------------------------------


class ComplianceRowSerializer(serializers.Serializer[Any]):
    department = DepartmentRefSerializer()
    by_priority = serializers.SerializerMethodField()
    total = OutcomesSerializer(help_text="All priorities.")

    @extend_schema_field(PriorityOutcomesSerializer(many=True))
    def get_by_priority(self, row: queries.ComplianceRow) -> list[dict[str, Any]]:
        return by_priority(row.by_priority)


class ComplianceSerializer(ReportSerializer):
    targets = TargetsSerializer()
    priorities = serializers.ListField(child=serializers.IntegerField())
    departments = ComplianceRowSerializer(source="rows", many=True)
    by_priority = serializers.SerializerMethodField(help_text="All departments.")
    overall = OutcomesSerializer()

    @extend_schema_field(PriorityOutcomesSerializer(many=True))
    def get_by_priority(self, report: queries.ComplianceReport) -> list[dict[str, Any]]:
        return by_priority(report.by_priority)


# --- Speed ------------------------------------------------------------------------------------


class SpeedTimesSerializer(serializers.Serializer[Any]):
    label = serializers.CharField()  # type: ignore[assignment]
    response_business = DurationSerializer(source="summaries.response_business")
    response_wall = DurationSerializer(source="summaries.response_wall")
    resolution_business = DurationSerializer(source="summaries.resolution_business")
    resolution_wall = DurationSerializer(source="summaries.resolution_wall")


class SpeedPrioritySerializer(SpeedTimesSerializer):
    priority = serializers.IntegerField(source="key")


class SpeedTeamSerializer(SpeedTimesSerializer):
    team_id = serializers.IntegerField(source="key")


class SpeedSerializer(ReportSerializer):
    by_priority = SpeedPrioritySerializer(many=True)
    by_team = SpeedTeamSerializer(many=True)
    overall = SpeedTimesSerializer()


# --- Breaches ---------------------------------------------------------------------------------


class OverrunSerializer(serializers.Serializer[Any]):
    late_seconds = serializers.FloatField(
        source="seconds", help_text="Wall-clock seconds from the deadline to the response or "
        "resolution (or to now, or to the pause while the ticket waits on someone)."
    )  # fmt: skip
    ongoing = serializers.BooleanField(help_text="Still running: the figure grows.")


class BreachSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="ticket.pk")
    number = serializers.CharField(source="ticket.number")
    url = serializers.SerializerMethodField(help_text="The ticket's page.")
    api_url = serializers.SerializerMethodField(help_text="The ticket in this API.")
    filed_at = serializers.DateTimeField(source="ticket.created_at")
    department = serializers.CharField(source="ticket.department.code")
    priority = serializers.IntegerField(source="ticket.priority")
    status = serializers.ChoiceField(source="ticket.status", choices=Ticket.Status.choices)
    team = serializers.CharField(source="ticket.team.slug")
    assignee = serializers.SerializerMethodField()
    response = OverrunSerializer(allow_null=True, help_text="Null when the target was met.")
    resolution = OverrunSerializer(allow_null=True, help_text="Null when the target was met.")

    def _absolute(self, path: str) -> str:
        return str(self.context["request"].build_absolute_uri(path))

    @extend_schema_field(serializers.URLField())
    def get_url(self, breach: queries.Breach) -> str:
        return self._absolute(breach.ticket.get_absolute_url())

    @extend_schema_field(serializers.URLField())
    def get_api_url(self, breach: queries.Breach) -> str:
        return self._absolute(reverse("api-ticket-detail", args=[breach.ticket.pk]))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_assignee(self, breach: queries.Breach) -> str | None:
        return person(breach.ticket.assignee)


class BreachCountsSerializer(serializers.Serializer[Any]):
    tickets = serializers.IntegerField(help_text="Tickets that missed a target.")
    response = serializers.IntegerField(help_text="Tickets that missed the response target.")
    resolution = serializers.IntegerField(help_text="Tickets that missed the resolution target.")


class BreachCountSerializer(BreachCountsSerializer):
    department = DepartmentRefSerializer()


class BreachSummarySerializer(BreachCountsSerializer):
    by_department = BreachCountSerializer(source="rows", many=True)


# {"summary": BreachSummary, "found": BreachPage}: the counts, and one page of the list.
class BreachesSerializer(ReportSerializer):
    summary = BreachSummarySerializer()
    count = serializers.IntegerField(
        source="found.page.paginator.count", help_text="Breached tickets in all pages."
    )
    page = serializers.IntegerField(source="found.page.number")
    pages = serializers.IntegerField(source="found.page.paginator.num_pages")
    next = serializers.SerializerMethodField()
    previous = serializers.SerializerMethodField()
    results = BreachSerializer(source="found.breaches", many=True, help_text="Newest first.")

    def _page_url(self, number: int | None) -> str | None:
        if number is None:
            return None
        url = self.context["request"].build_absolute_uri()
        return str(replace_query_param(url, "page", number))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_next(self, found: dict[str, Any]) -> str | None:
        page = found["found"].page
        return self._page_url(page.next_page_number() if page.has_next() else None)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_previous(self, found: dict[str, Any]) -> str | None:
        page = found["found"].page
        return self._page_url(page.previous_page_number() if page.has_previous() else None)


# --- Trends -----------------------------------------------------------------------------------


def _counts(name: str, keys: Iterable[str]) -> type[serializers.Serializer[Any]]:
    """A serializer of fixed integer counts keyed by name (shift keys, backlog bands)."""
    fields: dict[str, Any] = {key: serializers.IntegerField() for key in keys}
    return type(name, (serializers.Serializer,), fields)


ShiftCountsSerializer = _counts("ShiftCountsSerializer", (s.key for s in queries.SHIFTS))
BacklogSerializer = _counts("BacklogSerializer", (key for key, _, _ in queries.BACKLOG_BANDS))


class TrendWeekSerializer(serializers.Serializer[Any]):
    week_of = serializers.DateField(help_text="The Monday of the week.")
    start = serializers.DateField(help_text="The week's first day inside the period.")
    end = serializers.DateField(help_text="The week's last day inside the period.")
    part_week = serializers.BooleanField(source="partial", help_text="Cut by the period.")
    tickets = serializers.IntegerField(source="outcomes.tickets")
    by_shift = ShiftCountsSerializer(help_text="Tickets filed, by the local shift.")
    weekend = serializers.IntegerField(help_text="Tickets filed on Saturday or Sunday.")
    response = RateSerializer(source="outcomes.response")
    resolution = RateSerializer(source="outcomes.resolution")
    backlog_at = serializers.DateTimeField(help_text="The week's end, or now.")
    backlog = BacklogSerializer(help_text="Tickets open at backlog_at, by age.")
    backlog_total = serializers.IntegerField()


class ShiftRowSerializer(serializers.Serializer[Any]):
    shift = serializers.ChoiceField(source="shift.key", choices=[s.key for s in queries.SHIFTS])
    weekend = serializers.BooleanField()
    label = serializers.CharField()  # type: ignore[assignment]
    starts_hour = serializers.IntegerField(source="shift.starts")
    ends_hour = serializers.IntegerField(source="shift.ends")
    tickets = serializers.IntegerField(source="outcomes.tickets")
    response = RateSerializer(source="outcomes.response")
    resolution = RateSerializer(source="outcomes.resolution")


class TrendsSerializer(ReportSerializer):
    targets = serializers.SerializerMethodField()
    weeks = TrendWeekSerializer(many=True)
    shifts = ShiftRowSerializer(many=True)
    overall = OutcomesSerializer()

    @extend_schema_field(TargetsSerializer)
    def get_targets(self, report: queries.TrendsReport) -> dict[str, Any]:
        """The targets the rates were measured against."""
        used = conf.Targets(
            response=report.overall.response.target,
            resolution=report.overall.resolution.target,
        )
        return dict(TargetsSerializer(used).data)


# --- Critical areas ---------------------------------------------------------------------------


class CriticalAreaSerializer(serializers.Serializer[Any]):
    department = DepartmentRefSerializer(allow_null=True, help_text="Null for all areas.")
    open_now = serializers.IntegerField(help_text="Open now (the dates do not apply).")
    open_breached = serializers.IntegerField(help_text="Open now and past a deadline.")
    filed = serializers.IntegerField()
    pages_sent = serializers.IntegerField()
    chains = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    time_to_acknowledge = DurationSerializer(source="ack")
    to_secondary = serializers.IntegerField()
    to_manager = serializers.IntegerField()
    unanswered = serializers.IntegerField()
    incidents = serializers.IntegerField(
        help_text="Major incidents declared in the period that affected the area (hospital-wide "
        "ones included)."
    )


class CriticalAreasSerializer(ReportSerializer):
    codes = serializers.ListField(child=serializers.CharField())
    areas = CriticalAreaSerializer(source="rows", many=True)
    total = CriticalAreaSerializer()


# --- Where the work comes from ----------------------------------------------------------------


class ParetoSerializer(serializers.Serializer[Any]):
    category_id = serializers.IntegerField()
    name = serializers.CharField()
    tickets = serializers.IntegerField()
    percent = serializers.FloatField()
    cumulative_percent = serializers.FloatField()
    cumulative = serializers.IntegerField(help_text="Tickets in this and the larger categories.")


class RepeatLocationSerializer(serializers.Serializer[Any]):
    location_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField(source="department_code")
    tickets = serializers.IntegerField()
    repeats = serializers.IntegerField()
    top_category = serializers.CharField()
    top_category_tickets = serializers.IntegerField()


class ChannelSerializer(serializers.Serializer[Any]):
    channel = serializers.ChoiceField(source="source", choices=Ticket.Source.choices)
    name = serializers.CharField(source="label")
    tickets = serializers.IntegerField()
    percent = serializers.FloatField(
        allow_null=True, help_text="Share of the period's tickets; null when there were none."
    )


class SourcesSerializer(ReportSerializer):
    tickets = serializers.IntegerField()
    categories = ParetoSerializer(source="pareto", many=True)
    channels = ChannelSerializer(
        many=True, help_text="Tickets by how they arrived: web form, e-mail, API, phone."
    )
    locations = RepeatLocationSerializer(many=True)


# --- Technicians ------------------------------------------------------------------------------


class TechnicianSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    name = serializers.CharField()
    handled = serializers.IntegerField(help_text="Resolved at least once.")
    resolved = serializers.IntegerField(help_text="Resolved now.")
    reopened = serializers.IntegerField()
    reopen_percent = serializers.FloatField(source="reopen_rate", allow_null=True)
    first_contact = serializers.IntegerField()
    first_contact_percent = serializers.FloatField(source="first_contact_rate", allow_null=True)
    resolve_business = DurationSerializer(source="resolve.resolution_business")
    resolve_wall = DurationSerializer(source="resolve.resolution_wall")


class TeamAnswersSerializer(serializers.Serializer[Any]):
    """The requesters' answers to "Fixed?" on a team's tickets filed in the period."""

    team = SlugRefSerializer()
    answered = serializers.IntegerField(
        help_text="Tickets whose requester answered, or said still broken and the ticket is "
        "back at work."
    )
    still_broken = serializers.IntegerField(
        help_text="Of those, tickets she said were still broken at least once."
    )
    still_broken_percent = serializers.FloatField(
        allow_null=True, help_text="still_broken out of answered; null when none answered."
    )
    too_few_to_judge = serializers.BooleanField(
        help_text="Fewer answers than the reports' minimum to judge."
    )


class TechniciansSerializer(ReportSerializer):
    first_contact_definition = serializers.SerializerMethodField()
    technicians = TechnicianSerializer(source="rows", many=True)
    teams = TeamAnswersSerializer(many=True, help_text='"Fixed?" answers, by team.')

    def get_first_contact_definition(self, report: queries.TechniciansReport) -> str:
        return queries.FIRST_CONTACT_HELP


# --- Major incidents --------------------------------------------------------------------------


class IncidentFiguresSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField(help_text="MI-12")
    service = serializers.CharField()
    team = serializers.CharField()
    resolved = serializers.BooleanField()
    hospital_wide = serializers.BooleanField()
    declared_for = DepartmentRefSerializer(many=True, help_text="Empty when hospital-wide.")
    started_at = serializers.DateTimeField()
    first_ticket_at = serializers.DateTimeField(allow_null=True)
    detected_at = serializers.DateTimeField(allow_null=True)
    declared_at = serializers.DateTimeField()
    first_update_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    updates = serializers.IntegerField()
    tickets = serializers.IntegerField(help_text="Tickets the incident explains.")
    units = DepartmentRefSerializer(
        many=True, help_text="The units of the people affected and of the tickets."
    )
    people = serializers.IntegerField(
        help_text="People affected: those who said me too and the tickets' requesters, once each."
    )
    time_to_declare_seconds = serializers.FloatField(source="time_to_declare", allow_null=True)
    time_to_first_update_seconds = serializers.FloatField(
        source="time_to_first_update", allow_null=True
    )
    duration_seconds = serializers.FloatField(
        source="duration", help_text="Started to resolved; to now while open."
    )
    clinician_minutes_lost = serializers.FloatField(help_text="People affected x duration.")
    url = serializers.SerializerMethodField(help_text="The incident's report page.")

    def get_url(self, row: Any) -> str:
        path = reverse("reports:incident", args=[row.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class IncidentsSerializer(ReportSerializer):
    incidents = IncidentFiguresSerializer(source="rows", many=True)
    people = serializers.IntegerField()
    clinician_minutes_lost = serializers.FloatField()
