"""The harness's table, printed and written to docs/reliability.md with the machine and the date."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

HEADERS = (
    "scenario",
    "requests",
    "errors",
    "p95 filing (ms)",
    "pages expected",
    "pages delivered",
    "pages duplicated",
    "breaches expected",
    "breaches recorded",
    "result",
)


@dataclass(frozen=True, slots=True)
class Row:
    scenario: str
    requests: int
    errors: int
    filing_p95_ms: float
    pages_expected: int
    pages_delivered: int
    pages_duplicated: int
    breaches_expected: int
    breaches_recorded: int
    passed: bool
    violations: tuple[str, ...] = ()
    # What the fault did, in words (which worker was killed, how many tasks were flushed).
    notes: tuple[str, ...] = ()

    def cells(self) -> tuple[str, ...]:
        p95 = "-" if math.isnan(self.filing_p95_ms) else f"{self.filing_p95_ms:.0f}"
        return (
            self.scenario,
            str(self.requests),
            str(self.errors),
            p95,
            str(self.pages_expected),
            str(self.pages_delivered),
            str(self.pages_duplicated),
            str(self.breaches_expected),
            str(self.breaches_recorded),
            "pass" if self.passed else "FAIL",
        )


@dataclass(frozen=True, slots=True)
class Machine:
    cpus: int
    memory_gib: float
    postgres: str
    redis: str
    # Other work on the machine moves every timing: how busy it was (1-minute load average).
    load_average: float = math.nan

    def describe(self) -> str:
        busy = "" if math.isnan(self.load_average) else f"; load average {self.load_average:.1f}"
        return (
            f"{self.cpus} CPUs, {self.memory_gib:.0f} GiB memory, PostgreSQL {self.postgres}, "
            f"Redis {self.redis}{busy}"
        )


def table(rows: Sequence[Row]) -> str:
    """A Markdown table, columns padded so that it also reads as plain text."""
    lines = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(HEADERS))]

    def render(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([render(HEADERS), rule, *(render(row.cells()) for row in rows)])


def failures(rows: Sequence[Row]) -> list[str]:
    return [f"{row.scenario}: {violation}" for row in rows for violation in row.violations]


def document(
    rows: Sequence[Row],
    *,
    machine: Machine,
    day: date,
    command: str,
    seconds: float,
    benchmark: Sequence[str],
    scenarios: Sequence[tuple[str, str]] = (),
) -> str:
    """The page: the run, the machine, the table, then (for each scenario run) what it injects
    and what it proves, what the faults did, the baseline's benchmark and what broke."""
    failed = failures(rows)
    parts = [
        "# Reliability: load and faults",
        "",
        'Written by `python -m faults` (see the README\'s "Load and faults"). Each scenario '
        "runs the load on two web instances, two Celery workers and two beats, injects one "
        "fault, waits for the background work to finish, and checks the invariants by SQL.",
        "",
        f"- Run: `{command}` on {day.isoformat()}, {seconds / 60:.1f} minutes",
        f"- Machine: {machine.describe()}",
        "",
        table(rows),
        "",
    ]
    if scenarios:
        parts += [
            "## The scenarios",
            "",
            *(f"- {name}: {proves}" for name, proves in scenarios),
            "",
        ]
    noted = [f"- {row.scenario}: {'; '.join(row.notes)}" for row in rows if row.notes]
    if noted:
        parts += ["## What the faults did", "", *noted, ""]
    if benchmark:
        parts += ["## Benchmark (baseline)", "", *(f"- {line}" for line in benchmark), ""]
    parts += ["## Invariants broken", ""]
    parts += [f"- {line}" for line in failed] if failed else ["None."]
    return "\n".join(parts) + "\n"
