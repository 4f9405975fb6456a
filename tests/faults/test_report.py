"""The harness's table and the page it writes to docs/reliability.md."""

from __future__ import annotations

import math
from datetime import date

from faults.report import Machine, Row, document, failures, table

PASSED = Row("baseline", 1200, 0, 84.4, 12, 12, 0, 3, 3, True, notes=("40 filings answered",))
FAILED = Row(
    "redis down", 900, 2, 2400.0, 10, 9, 0, 0, 0, False,
    ("1 page(s) never reached the gateway: 7", "2 request(s) failed"),
)  # fmt: skip
STANDALONE = Row("redis eviction", 0, 0, math.nan, 0, 0, 0, 0, 0, True)
MACHINE = Machine(cpus=2, memory_gib=23.6, postgres="15.20", redis="7.0.15", load_average=3.25)


def test_the_table_lines_up_its_columns_and_says_pass_or_fail():
    lines = table([PASSED, FAILED, STANDALONE]).splitlines()
    assert lines[0].startswith("| scenario       | requests | errors | p95 filing (ms) |")
    assert set(lines[1]) == {"|", "-"}
    assert lines[2] == (
        "| baseline       | 1200     | 0      | 84              | 12             | 12        "
        "      | 0                | 3                 | 3                 | pass   |"
    )
    assert lines[3].endswith("| FAIL   |")
    # A start-up check has no filings to time.
    assert "| redis eviction | 0        | 0      | -               |" in lines[4]
    assert len({len(line) for line in lines}) == 1


def test_failures_name_their_scenario():
    assert failures([PASSED, FAILED]) == [
        "redis down: 1 page(s) never reached the gateway: 7",
        "redis down: 2 request(s) failed",
    ]


def test_the_document_has_the_machine_the_date_the_table_and_what_broke():
    text = document(
        [PASSED, FAILED],
        machine=MACHINE,
        day=date(2026, 12, 6),
        command="python -m faults --short",
        seconds=420,
        benchmark=["9.5 filings/s sustained"],
    )
    assert "`python -m faults --short` on 2026-12-06, 7.0 minutes" in text
    assert "2 CPUs, 24 GiB memory, PostgreSQL 15.20, Redis 7.0.15; load average 3.2" in text
    assert table([PASSED, FAILED]) in text
    assert "- 9.5 filings/s sustained" in text
    assert "## What the faults did\n\n- baseline: 40 filings answered\n" in text
    assert text.rstrip().endswith("- redis down: 2 request(s) failed")


def test_a_clean_run_says_nothing_broke():
    text = document(
        [PASSED], machine=MACHINE, day=date(2026, 12, 6), command="c", seconds=60, benchmark=[]
    )
    assert text.rstrip().endswith("## Invariants broken\n\nNone.")
    assert "Benchmark" not in text


def test_the_document_says_what_each_scenario_injects_and_proves():
    text = document(
        [PASSED],
        machine=MACHINE,
        day=date(2026, 12, 6),
        command="c",
        seconds=60,
        benchmark=[],
        scenarios=[("baseline", "the load alone"), ("clock jump", "a sweep two hours ahead")],
    )
    assert (
        "## The scenarios\n\n- baseline: the load alone\n- clock jump: a sweep two hours ahead\n"
        in (text)
    )
