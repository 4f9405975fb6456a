"""The server-drawn charts and the way numbers are written."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from reports.charts import (
    Reference,
    Series,
    axis_duration,
    columns,
    hbar,
    lines,
    nice_ceiling,
    ticks,
)
from reports.figures import rate_label
from reports.formatting import count, duration, percent
from reports.queries import Rate

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0 s"),
        (45.4, "45 s"),
        (270, "4 min 30 s"),
        (600, "10 min"),
        (1350, "22 min"),
        (3599, "1 h 00 min"),
        (3600, "1 h 00 min"),
        (16560, "4 h 36 min"),
        (86400, "1 d"),
        (2 * 86400 + 4 * 3600, "2 d 4 h"),
    ],
)
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_percent_and_count():
    assert (percent(None), percent(66.666), percent(100)) == ("—", "66.7%", "100.0%")
    assert (count(None), count(1234)) == ("—", "1,234")


def test_round_axis_steps():
    assert [nice_ceiling(v) for v in (0, 0.3, 2.5, 7, 25, 26, 180)] == [1, 0.5, 5, 10, 25, 50, 200]
    assert ticks(100) == [0, 25, 50, 75, 100]
    assert ticks(9) == [0, 5, 10]
    assert ticks(5000, durations=True) == [0, 1800, 3600, 5400]
    assert [axis_duration(s) for s in (0, 1800, 5400, 86400 + 43200)] == [
        "0", "30 min", "1 h 30 min", "1 d 12 h"
    ]  # fmt: skip


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 (our own SVG)


def test_bars_carry_values_targets_and_alerts_in_words():
    chart = hbar(
        "c1", "Compliance", "Two departments.", ["ED", "<b>R&D</b>"],
        [Series("Response", [80.0, 95.0], labels=["80.0%", "95.0%"], alerts=[True, False],
                targets=[90.0, 90.0]),
         Series("Resolution", [None, 70.0], alerts=[False, True])],
        fmt=percent, maximum=100, category_header="Department",
    )  # fmt: skip
    root = parse(str(chart.svg))
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "80.0% \u26a0 below target" in texts
    assert "95.0%" in texts
    assert "—" in texts  # a missing value is said, not left blank
    assert "<b>R&D</b>" in texts  # escaped into text, not markup
    assert "<b>" not in str(chart.svg)
    assert root.find(f"{SVG}title").text == "Compliance"
    assert root.get("role") == "img"
    # The second series is striped, not only another colour.
    assert root.find(f".//{SVG}pattern") is not None
    assert any(r.get("fill") == "url(#c1-p1)" for r in root.iter(f"{SVG}rect"))
    assert "style" not in str(chart.svg)
    assert chart.columns == ["Department", "Response", "Resolution"]
    assert chart.rows[0] == ["ED", "80.0% (\u26a0 below target)", "—"]
    assert chart.rows[1][2] == "70.0% (\u26a0 below target)"


def test_stacked_columns_with_totals_and_a_cumulative_line():
    chart = columns(
        "c2", "Volume", "Two weeks.", ["2 Feb", "9 Feb"],
        [Series("Day", [3, 2]), Series("Night", [1, 0])],
        fmt=count, stacked=True, category_header="Week",
    )  # fmt: skip
    texts = ["".join(t.itertext()) for t in parse(str(chart.svg)).iter(f"{SVG}text")]
    assert "4" in texts  # the totals on top
    assert "2" in texts
    assert chart.rows == [["2 Feb", "3", "1", "4"], ["9 Feb", "2", "0", "2"]]
    assert chart.columns[-1] == "Total"

    pareto = columns(
        "c3", "Pareto", "Categories.", ["EHR", "Printers"], [Series("Tickets", [3, 1])],
        fmt=count, percent_line=Series("Cumulative", [75.0, 100.0], labels=["75%", "100%"]),
        rotate_labels=True,
    )  # fmt: skip
    root = parse(str(pareto.svg))
    assert root.find(f".//{SVG}polyline") is not None
    assert pareto.rows == [["EHR", "3", "75%"], ["Printers", "1", "100%"]]


def test_lines_have_markers_dashes_and_targets():
    chart = lines(
        "c4", "Weekly compliance", "Two weeks.", ["2 Feb", "9 Feb"],
        [Series("Response", [80.0, None], alerts=[True, False]),
         Series("Resolution", [90.0, 95.0])],
        fmt=percent, maximum=100, minimum=60,
        references=[Reference(90, "Response target 90%"),
                    Reference(85, "Resolution target 85%", 1)],
    )  # fmt: skip
    root = parse(str(chart.svg))
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "Response target 90%" in texts
    assert "\u26a0 80.0%" in texts
    dashed = [p for p in root.iter(f"{SVG}polyline") if p.get("stroke-dasharray")]
    assert dashed  # the second series is dashed
    assert root.find(f".//{SVG}circle") is not None  # series 1: circles
    assert chart.rows[0] == ["2 Feb", "80.0% (\u26a0 below target)", "90.0%"]


def test_a_chart_with_nothing_to_draw_says_so():
    chart = hbar("c5", "Acks", "None.", ["ED"], [Series("Median", [None])], fmt=duration)
    assert chart.empty


def test_a_percentage_carries_its_count_or_says_too_few_to_judge():
    assert rate_label(Rate(met=45, counted=50, target=90)) == "90.0% (45 of 50)"
    assert rate_label(Rate(met=0, counted=5, target=90)) == "0.0% (0 of 5)"
    assert rate_label(Rate(met=0, counted=1, target=90)) == "too few to judge (0 of 1)"
    assert rate_label(Rate(met=0, counted=0, target=90)) == "—"


def test_a_chart_of_shares_too_few_to_judge_is_not_empty():
    chart = hbar(
        "c6", "Compliance", "One department.", ["ED"],
        [Series("Response", [None], labels=["too few to judge (1 of 2)"], alerts=[False])],
        fmt=percent, maximum=100,
    )  # fmt: skip
    assert not chart.empty
    texts = ["".join(t.itertext()) for t in parse(str(chart.svg)).iter(f"{SVG}text")]
    assert "too few to judge (1 of 2)" in texts
    assert not any("below target" in text for text in texts)
    assert chart.rows == [["ED", "too few to judge (1 of 2)"]]


def test_line_points_keep_their_counts_in_the_table_when_the_drawing_is_crowded():
    weeks = [f"{day} Jan" for day in range(1, 15)]
    chart = lines(
        "c7", "Weekly", "Fourteen weeks.", weeks,
        [Series("Response", [90.0] * 14, labels=["90.0% (45 of 50)"] * 14)],
        fmt=percent, maximum=100, minimum=60,
    )  # fmt: skip
    texts = ["".join(t.itertext()) for t in parse(str(chart.svg)).iter(f"{SVG}text")]
    assert "90.0%" in texts
    assert chart.rows[0] == ["1 Jan", "90.0% (45 of 50)"]
