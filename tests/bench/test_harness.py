"""The bench's command line: what the history options mean."""

from __future__ import annotations

from bench.harness import HISTORY_CHOICES, parse_args
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
