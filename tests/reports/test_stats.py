"""Percentiles: the Python route is PostgreSQL's percentile_cont, number for number."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection

from reports.stats import Measure, grouped_percentiles, percentile_cont
from tests.conftest import need
from tests.factories import TicketFactory
from tests.reports.conftest import local
from tickets.models import PageChain, Ticket


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.5, 7.0),
        ([7.0], 0.9, 7.0),
        ([1.0, 2.0], 0.5, 1.5),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5),
        # rank 0.9 * 3 = 2.7: 3 + 0.7 * (4 - 3)
        ([1.0, 2.0, 3.0, 4.0], 0.9, 3.7),
        ([10.0, 20.0, 30.0, 40.0, 50.0], 0.9, 46.0),
        ([5.0, 5.0, 5.0], 0.9, 5.0),
        ([1.0, 100.0], 0.0, 1.0),
        ([1.0, 100.0], 1.0, 100.0),
    ],
)
def test_python_percentile_cont(values, fraction, expected):
    found = percentile_cont(values, fraction)
    assert found == (None if expected is None else pytest.approx(expected))


def test_percentile_must_be_a_fraction():
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile_cont([1.0], 1.5)


@pytest.mark.django_db
@pytest.mark.services
def test_postgresql_percentile_cont_matches_the_python_route(reference_data, tech):
    """On PostgreSQL, the SQL route (percentile_cont) and the Python route answer the same on
    the same tickets and page chains: grouped, with ties, gaps (NULLs) and one-value groups."""
    need(connection.vendor == "postgresql", "PostgreSQL")
    rng = random.Random(2026)
    start = local(3, 2, 8)
    for n in range(120):
        ticket = TicketFactory(priority=1 + n % 5, created_at=start + timedelta(minutes=n))
        wall = None if n % 7 == 0 else float(rng.choice([60, 60, 300]) + rng.randint(0, 90000))
        Ticket.objects.filter(pk=ticket.pk).update(
            response_seconds=wall,
            response_business_seconds=None if wall is None else wall * rng.random(),
        )
        if n % 3 == 0:
            PageChain.objects.create(
                ticket=ticket, team=ticket.team, reason=PageChain.Reason.MANUAL,
                status=PageChain.Status.ACKNOWLEDGED, started_at=ticket.created_at,
                acknowledged_at=ticket.created_at + timedelta(seconds=rng.randint(5, 3000),
                                                              microseconds=rng.randint(0, 999999)),
            )  # fmt: skip
    measures = {
        "wall": Measure("response_seconds"),
        "business": Measure("response_business_seconds"),
    }
    tickets = Ticket.objects.all()
    for group_by in (["priority"], ["team_id", "priority"], []):
        sql = grouped_percentiles(tickets, group_by, measures, method="sql")
        python = grouped_percentiles(tickets, group_by, measures, method="python")
        assert sql.keys() == python.keys()
        for key, found in sql.items():
            for name, summary in found.items():
                other = python[key][name]
                assert summary.n == other.n
                assert summary.p50 == pytest.approx(other.p50, rel=1e-12)
                assert summary.p90 == pytest.approx(other.p90, rel=1e-12)
    chains = PageChain.objects.all()
    ack = {"ack": Measure("acknowledged_at", since="started_at")}
    sql_ack = grouped_percentiles(chains, [], ack, method="sql")[()]["ack"]
    python_ack = grouped_percentiles(chains, [], ack, method="python")[()]["ack"]
    assert sql_ack.n == python_ack.n == 40
    assert sql_ack.p50 == pytest.approx(python_ack.p50, rel=1e-12)
    assert sql_ack.p90 == pytest.approx(python_ack.p90, rel=1e-12)


@pytest.mark.django_db
def test_sql_route_is_refused_off_postgresql(reference_data):
    from django.db.utils import NotSupportedError

    if connection.vendor == "postgresql":
        pytest.skip("this checks the refusal on SQLite")
    with pytest.raises(NotSupportedError):
        grouped_percentiles(Ticket.objects.all(), [], {"x": Measure("response_seconds")},
                            method="sql")  # fmt: skip


@pytest.mark.django_db
def test_an_empty_set_has_one_empty_group(reference_data):
    found = grouped_percentiles(Ticket.objects.filter(pk=0), [], {"x": Measure("response_seconds")})
    assert found[()]["x"].n == 0
    assert found[()]["x"].p50 is None
