"""The bench's command line: what the history options mean."""

from __future__ import annotations

from bench.harness import HISTORY_CHOICES, Result, parse_args
from bench.seed import SeedConfig
from bench.ticketgen import HISTORIES


def test_history_choices_are_the_plans():
    assert HISTORY_CHOICES == HISTORIES


def test_queue_profile_grows_older_history_by_default():
    args = parse_args(["--profile", "queue"])

    assert (args.tickets, args.grow_from, args.history) == (1_000_000, 100_000, "older")


def test_spread_history_is_a_choice():
    assert parse_args(["--profile", "queue", "--history", "spread"]).history == "spread"


def test_seed_config_describes_each_history():
    older = SeedConfig(tickets=1_000_000, first_stage=100_000)
    spread = SeedConfig(tickets=1_000_000, first_stage=100_000, history="spread")

    assert older.describe_history() == (
        "100,000 tickets filed over the last 365 days, then 900,000 older ones over the 3,285 "
        "days before (history 'older')"
    )
    assert spread.describe_history() == (
        "100,000 tickets, then 900,000 more, all filed over the last 365 days (history 'spread')"
    )
    assert SeedConfig(tickets=5_000).describe_history() == (
        "5,000 tickets filed over the last 365 days"
    )


def test_a_result_line_gives_both_ratios_to_the_baseline():
    floor = Result(name="floor_auth", n=200, p50_ms=2.5, p95_ms=3.0, queries=6, cpu_p50_ms=2.0)
    page = Result(name="queue_page", n=200, p50_ms=9.0, p95_ms=10.5, queries=7, cpu_p50_ms=6.0)

    assert page.line(floor) == (
        "queue_page: n=200 p50_ms=9.00 p95_ms=10.50 queries=7 ratio_p95=3.50 cpu_p50_ms=6.00 "
        "cpu_ratio=3.00"
    )
