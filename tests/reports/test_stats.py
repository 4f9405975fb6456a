"""Percentiles: the Python route is PostgreSQL's percentile_cont, number for number."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection

from departments.models import Team
from reports.stats import (
    Measure,
    Summary,
    grouped_percentiles,
    percentile_cont,
    percentiles_by_sets,
)
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
        assert_same(sql, grouped_percentiles(tickets, group_by, measures, method="python"))
    chains = PageChain.objects.all()
    ack = {"ack": Measure("acknowledged_at", since="started_at")}
    sql_ack = grouped_percentiles(chains, [], ack, method="sql")[()]["ack"]
    python_ack = grouped_percentiles(chains, [], ack, method="python")[()]["ack"]
    assert sql_ack.n == python_ack.n == 40
    assert sql_ack.p50 == pytest.approx(python_ack.p50, rel=1e-12)
    assert sql_ack.p90 == pytest.approx(python_ack.p90, rel=1e-12)

    # Several groupings in one query (GROUPING SETS), through a join too.
    sets = [("priority",), ("team_id", "priority"), ()]
    sql_sets = percentiles_by_sets(tickets, sets, measures, method="sql")
    python_sets = percentiles_by_sets(tickets, sets, measures, method="python")
    assert sql_sets.keys() == python_sets.keys() == set(sets)
    for grouping_set in sets:
        assert_same(sql_sets[grouping_set], python_sets[grouping_set])
        assert_same(sql_sets[grouping_set], grouped_percentiles(tickets, grouping_set, measures))
    chain_sets = [("ticket__priority",), ()]
    assert_same(
        percentiles_by_sets(chains, chain_sets, ack, method="sql")[("ticket__priority",)],
        percentiles_by_sets(chains, chain_sets, ack, method="python")[("ticket__priority",)],
    )


def assert_same(found: dict, expected: dict) -> None:
    assert found.keys() == expected.keys()
    for key, summaries in found.items():
        for name, summary in summaries.items():
            other = expected[key][name]
            assert summary.n == other.n
            assert summary.p50 == pytest.approx(other.p50, rel=1e-12)
            assert summary.p90 == pytest.approx(other.p90, rel=1e-12)


@pytest.mark.django_db
def test_percentiles_by_sets_groups_each_way_at_once(reference_data):
    """Five tickets, three groupings, answers worked out by hand (on this database's route)."""
    desk = Team.objects.get(slug="service-desk")
    field = Team.objects.get(slug="field-services")
    start = local(3, 2, 8)
    # (priority, team, response seconds); None: not answered yet.
    for n, (priority, team, seconds) in enumerate([
        (1, desk, 100.0),
        (1, field, 300.0),
        (1, desk, None),
        (3, desk, 200.0),
        (3, field, 1000.0),
    ]):  # fmt: skip
        ticket = TicketFactory(created_at=start + timedelta(minutes=n))
        Ticket.objects.filter(pk=ticket.pk).update(
            priority=priority, team=team, response_seconds=seconds
        )
    measures = {"wall": Measure("response_seconds")}

    found = percentiles_by_sets(
        Ticket.objects.all(), [("priority",), ("team_id",), ("priority", "team_id"), ()], measures
    )

    def summary(grouping_set: tuple[str, ...], key: tuple) -> tuple:
        wall = found[grouping_set][key]["wall"]
        return wall.n, wall.p50, wall.p90

    # P1: 100, 300 (one unanswered): median 200, p90 at rank 0.9: 100 + 0.9 * 200.
    assert summary(("priority",), (1,)) == (2, pytest.approx(200), pytest.approx(280))
    assert summary(("priority",), (3,)) == (2, pytest.approx(600), pytest.approx(920))
    # Service desk: 100, 200; field services: 300, 1000.
    assert summary(("team_id",), (desk.pk,)) == (2, pytest.approx(150), pytest.approx(190))
    assert summary(("team_id",), (field.pk,)) == (2, pytest.approx(650), pytest.approx(930))
    assert summary(("priority", "team_id"), (1, desk.pk)) == (1, 100, 100)
    assert set(found[("priority", "team_id")]) == {
        (1, desk.pk), (1, field.pk), (3, desk.pk), (3, field.pk)
    }  # fmt: skip
    # All four: 100, 200, 300, 1000: median 250, p90 at rank 2.7: 300 + 0.7 * 700.
    assert summary((), ()) == (4, pytest.approx(250), pytest.approx(790))


@pytest.mark.django_db
def test_percentiles_by_sets_of_nothing(reference_data):
    found = percentiles_by_sets(
        Ticket.objects.filter(pk=0), [("priority",), ()], {"x": Measure("response_seconds")}
    )
    assert found[("priority",)] == {}
    assert found[()][()]["x"].n == 0
    assert found[()][()]["x"].p90 is None


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["auto", "python"])
def test_percentiles_of_filters_that_match_nothing(reference_data, method):
    """An empty IN list (a department filter outside the critical areas) cannot even be
    written as SQL; the answer is the same as for no rows."""
    found = percentiles_by_sets(
        Ticket.objects.filter(department_id__in=[]),
        [("priority",), ()],
        {"x": Measure("response_seconds")},
        method=method,
    )
    assert found[("priority",)] == {}
    assert found[()][()]["x"] == Summary(0, None, None)


def test_percentiles_need_a_grouping_set():
    with pytest.raises(ValueError, match="grouping set"):
        percentiles_by_sets(Ticket.objects.none(), [], {"x": Measure("response_seconds")})


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
