"""The charts of each report, built from the reports' own numbers."""

from __future__ import annotations

import math
from collections.abc import Sequence

from reports import queries
from reports.charts import Chart, Reference, Series, columns, hbar, lines
from reports.formatting import count, duration, judged_share, share, whole_percent
from reports.incidents import IncidentsReport
from reports.queries import Outcomes, Rate, TeamAnswers
from reports.stats import Summary
from tickets.priority import PRIORITY_LABELS


def rate_label(rate: Rate) -> str:
    """A rate as the charts write it: "77.8% (7 of 9)", "too few to judge (1 of 3)", or a dash
    when none counted."""
    return judged_share(rate.met, rate.counted, too_few=rate.too_few_to_judge)


def _judged_value(percent: float | None, too_few: bool) -> float | None:
    # A share of too few tickets gets no bar or point: its label says why, in neutral ink.
    return None if too_few else percent


def _rate_series(name: str, rates: Sequence[Rate], *, targets: bool = True) -> Series:
    return Series(
        name=name,
        values=[_judged_value(rate.percent, rate.too_few_to_judge) for rate in rates],
        labels=[rate_label(rate) for rate in rates],
        alerts=[rate.judged_below_target for rate in rates],
        targets=[rate.target for rate in rates] if targets else None,
    )


def _compliance_bars(chart_id: str, title: str, header: str, names: Sequence[str],
                     outcomes: Sequence[Outcomes]) -> Chart:  # fmt: skip
    rates = [rate for o in outcomes for rate in (o.response, o.resolution)]
    below = sum(rate.judged_below_target for rate in rates)
    too_few = sum(rate.too_few_to_judge for rate in rates)
    return hbar(
        chart_id,
        title,
        f"Response and resolution compliance for {len(names)} {header.lower()} groups against "
        f"their targets; {below} value{'s' if below != 1 else ''} below target"
        + (f", {too_few} with too few tickets to judge." if too_few else "."),
        names,
        [
            _rate_series("First response", [o.response for o in outcomes]),
            _rate_series("Resolution", [o.resolution for o in outcomes]),
        ],
        fmt=whole_percent,
        maximum=100,
        category_header=header,
        wide=True,
    )


def compliance_charts(report: queries.ComplianceReport) -> list[Chart]:
    departments = [row.department.name for row in report.rows]
    priorities = [PRIORITY_LABELS[p] for p in report.priorities if report.by_priority[p].tickets]
    return [
        _compliance_bars(
            "chart-compliance-department",
            "Compliance by department",
            "Department",
            [*departments, "All departments"],
            [*(row.total for row in report.rows), report.overall],
        ),
        _compliance_bars(
            "chart-compliance-priority",
            "Compliance by priority",
            "Priority",
            priorities,
            [report.by_priority[p] for p in report.priorities if report.by_priority[p].tickets],
        ),
    ]


def _percentile_series(summaries: Sequence[Summary]) -> list[Series]:
    return [
        Series("Median", [s.p50 for s in summaries]),
        Series("90th percentile", [s.p90 for s in summaries]),
    ]


def speed_charts(report: queries.SpeedReport) -> list[Chart]:
    charts = []
    for measure, what in (
        ("response_business", "Time to first response"),
        ("resolution_business", "Time to resolve"),
    ):
        rows = report.by_priority
        charts.append(
            hbar(
                f"chart-speed-{measure}",
                f"{what} by priority (business time)",
                f"{what}, median and 90th percentile, in business time, for {len(rows)} "
                "priorities.",
                [row.label for row in rows],
                _percentile_series([row[measure] for row in rows]),
                fmt=duration,
                durations=True,
                category_header="Priority",
            )
        )
    teams = report.by_team
    charts.append(
        hbar(
            "chart-speed-team",
            "Time to resolve by team (business time)",
            f"Time to resolve, median and 90th percentile, in business time, for {len(teams)} "
            "teams.",
            [row.label for row in teams],
            _percentile_series([row["resolution_business"] for row in teams]),
            fmt=duration,
            durations=True,
            category_header="Team",
            wide=True,
        )
    )
    return charts


def breach_charts(summary: queries.BreachSummary) -> list[Chart]:
    rows = summary.rows
    return [
        hbar(
            "chart-breaches-department",
            "Breaches by department",
            f"{summary.tickets} breached tickets: {summary.response} missed the first response "
            f"target and {summary.resolution} the resolution target.",
            [row.department.name for row in rows],
            [
                Series("First response missed", [row.response for row in rows]),
                Series("Resolution missed", [row.resolution for row in rows]),
            ],
            fmt=count,
            category_header="Department",
            wide=True,
        )
    ]


def week_label(week: queries.TrendWeek) -> str:
    return f"{week.start.day} {week.start:%b}"


def _floor_ten(value: float) -> float:
    return max(0.0, math.floor(value / 10) * 10 - 10)


def trends_charts(report: queries.TrendsReport) -> list[Chart]:
    weeks = report.weeks
    labels = [week_label(week) for week in weeks]
    response = [w.outcomes.response for w in weeks]
    resolution = [w.outcomes.resolution for w in weeks]
    targets = [response[0].target, resolution[0].target] if weeks else [90.0, 85.0]
    shown = [r.percent for r in (*response, *resolution) if r.percent is not None]
    low = _floor_ten(min([*shown, *targets]))
    shift_rows = report.shifts
    return [
        columns(
            "chart-trends-volume",
            "Tickets filed per week, by shift",
            f"Tickets filed in each of {len(weeks)} weeks, stacked by the shift they were filed "
            "in: day 07:00-15:00, evening 15:00-23:00, night 23:00-07:00.",
            labels,
            [Series(s.label, [w.by_shift[s.key] for w in weeks]) for s in queries.SHIFTS],
            fmt=count,
            stacked=True,
            category_header="Week of",
        ),
        lines(
            "chart-trends-compliance",
            "Compliance per week",
            f"First response and resolution compliance in each of {len(weeks)} weeks, with the "
            "targets as dashed lines.",
            labels,
            [
                _rate_series("First response", response, targets=False),
                _rate_series("Resolution", resolution, targets=False),
            ],
            fmt=whole_percent,
            maximum=100,
            minimum=low,
            references=[
                Reference(targets[0], f"Response target {targets[0]:g}%", 0),
                Reference(targets[1], f"Resolution target {targets[1]:g}%", 1),
            ],
            category_header="Week of",
        ),
        columns(
            "chart-trends-backlog",
            "Open backlog at the end of each week, by age",
            "Tickets still open at the end of each week (or now, for this week), stacked by how "
            "long they had been open.",
            labels,
            [
                Series(label, [w.backlog[key] for w in weeks])
                for key, label, _ in queries.BACKLOG_BANDS
            ],
            fmt=count,
            stacked=True,
            category_header="Week of",
        ),
        hbar(
            "chart-trends-shifts",
            "Compliance by shift, weekdays and weekends",
            "First response and resolution compliance of the tickets filed in each shift, on "
            "weekdays and at weekends.",
            [row.label for row in shift_rows],
            [
                _rate_series("First response", [row.outcomes.response for row in shift_rows]),
                _rate_series("Resolution", [row.outcomes.resolution for row in shift_rows]),
            ],
            fmt=whole_percent,
            maximum=100,
            category_header="Shift",
        ),
    ]


def critical_charts(report: queries.CriticalReport) -> list[Chart]:
    rows = [*report.rows, report.total]
    names = [row.label for row in rows]
    return [
        hbar(
            "chart-critical-ack",
            "Time to acknowledge a page",
            "Median and 90th percentile time from the first page to its acknowledgement, by "
            "critical area.",
            names,
            _percentile_series([row.ack for row in rows]),
            fmt=duration,
            durations=True,
            category_header="Area",
        ),
        hbar(
            "chart-critical-escalations",
            "Paging and escalations",
            "Page chains started, escalated to the secondary on call, escalated to the manager, "
            "and left unanswered, by critical area.",
            names,
            [
                Series("Chains started", [row.chains for row in rows]),
                Series("To secondary", [row.to_secondary for row in rows]),
                Series("To manager", [row.to_manager for row in rows]),
                Series("Unanswered", [row.unanswered for row in rows]),
            ],
            fmt=count,
            category_header="Area",
        ),
    ]


def incidents_charts(report: IncidentsReport) -> list[Chart]:
    names = [f"{row.number} {row.service}" for row in report.rows]
    return [
        hbar(
            "chart-incidents-clock",
            "How fast clinical staff were told",
            "Time from the start to the declaration, and from the declaration to the first "
            "update, by major incident.",
            names,
            [
                Series("Time to declare", [row.time_to_declare for row in report.rows]),
                Series("Time to first update", [row.time_to_first_update for row in report.rows]),
            ],
            fmt=duration,
            durations=True,
            category_header="Incident",
        ),
        hbar(
            "chart-incidents-cost",
            "Clinician-minutes lost",
            "People affected times the incident's duration in minutes, by major incident.",
            names,
            [Series("Clinician-minutes", [row.clinician_minutes_lost for row in report.rows])],
            fmt=count,
            category_header="Incident",
        ),
    ]


def sources_charts(report: queries.SourcesReport) -> list[Chart]:
    pareto = report.pareto
    places = report.locations
    return [
        columns(
            "chart-sources-pareto",
            "Tickets by category (Pareto)",
            f"{report.tickets} tickets by category, largest first, with the cumulative share as "
            "a line.",
            [row.name for row in pareto],
            [Series("Tickets", [row.tickets for row in pareto])],
            percent_line=Series(
                "Cumulative share",
                [row.cumulative_percent for row in pareto],
                labels=[share(row.cumulative, report.tickets, fmt="{:.0f}%") for row in pareto],
            ),
            fmt=count,
            rotate_labels=True,
            category_header="Category",
            wide=True,
        ),
        hbar(
            "chart-sources-locations",
            "Locations with the most repeat tickets",
            f"The {len(places)} locations where the same kind of problem came back most often.",
            [f"{row.name} ({row.code})" for row in places],
            [
                Series("Repeats", [row.repeats for row in places]),
                Series("All tickets", [row.tickets for row in places]),
            ],
            fmt=count,
            category_header="Location",
            label_width=240,
            wide=True,
        ),
    ]


def technicians_charts(report: queries.TechniciansReport) -> list[Chart]:
    rows = report.rows
    names = [row.name for row in rows]
    return [
        hbar(
            "chart-technicians-handled",
            "Tickets handled",
            "Tickets each technician resolved, and how many of them were first-contact "
            "resolutions.",
            names,
            [
                Series("Handled", [row.handled for row in rows]),
                Series("First-contact resolution", [row.first_contact for row in rows]),
                Series("Reopened", [row.reopened for row in rows]),
            ],
            fmt=count,
            category_header="Technician",
        ),
        hbar(
            "chart-technicians-resolve",
            "Median time to resolve (business time)",
            "Each technician's median time to resolve, in business time.",
            names,
            [Series("Median", [row.resolve["resolution_business"].p50 for row in rows])],
            fmt=duration,
            durations=True,
            category_header="Technician",
        ),
        still_broken_chart(report.teams),
    ]


def still_broken_label(answers: TeamAnswers) -> str:
    return judged_share(answers.still_broken, answers.answered, too_few=answers.too_few_to_judge)


def still_broken_chart(teams: Sequence[TeamAnswers]) -> Chart:
    judged = sum(not team.too_few_to_judge for team in teams)
    return hbar(
        "chart-technicians-fixed",
        '"Fixed?" answered "No, still broken", by team',
        f'Of the tickets whose requester answered "Fixed?", the share she said was still '
        f"broken at least once, for {len(teams)} teams ({judged} with enough answers to judge).",
        [team.team.name for team in teams],
        [
            Series(
                "Said still broken",
                [_judged_value(team.still_broken_percent, team.too_few_to_judge) for team in teams],
                labels=[still_broken_label(team) for team in teams],
            )
        ],
        fmt=whole_percent,
        maximum=100,
        category_header="Team",
    )
