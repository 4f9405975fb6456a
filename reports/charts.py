"""Charts as inline SVG, drawn on the server: no JavaScript, nothing from elsewhere.

Readable without colour: every series has its own fill pattern (solid, stripes, dots, grid) or
line dash and marker shape, bars and points carry their values as text, and every chart comes
with the same numbers as a table. The SVG uses presentation attributes and classes only, never
``style``, which the content security policy forbids.

Each builder returns a :class:`Chart`: the SVG (escaped piece by piece with ``format_html``) and
the table of its numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

Formatter = Callable[[float], str]

NARROW = 640
WIDE = 1240
FONT = 13
LEGEND_HEIGHT = 30
INK = "#14213d"
INK_SOFT = "#44506a"
GRID = "#d5dbe7"
ALERT = "#b3261e"
HALO = format_html(
    ' stroke="{}" stroke-width="3.5" stroke-linejoin="round" paint-order="stroke"', "#ffffff"
)


@dataclass(frozen=True, slots=True)
class Style:
    colour: str
    tint: str
    pattern: str  # solid | stripes | dots | grid
    dash: str  # stroke-dasharray for lines ("" = solid)
    marker: str  # circle | square | triangle | diamond
    on_fill: str  # text colour on the fill


STYLES = (
    Style("#0b5cab", "#0b5cab", "solid", "", "circle", "#ffffff"),
    Style("#b4470c", "#fde3d3", "stripes", "7 4", "square", INK),
    Style("#1e7b34", "#dcefe0", "dots", "2 3", "triangle", INK),
    Style("#6b21a8", "#ede1f7", "grid", "9 3 2 3", "diamond", INK),
)


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float | None]
    # As shown on the bars, the points and in the table; by default the chart's formatter.
    labels: Sequence[str] | None = None
    # Values to mark as a problem (below target): colour, an icon and words.
    alerts: Sequence[bool] | None = None
    # Per-value targets drawn as a tick on each bar (a bullet chart); None: no tick.
    targets: Sequence[float | None] | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """A horizontal reference line across a line or column chart (a target)."""

    value: float
    label: str
    style: int = 0


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    description: str
    svg: SafeString
    columns: list[str]
    rows: list[list[str]]
    wide: bool = False
    empty: bool = False


# --- Helpers ----------------------------------------------------------------------------------


def join(parts: Iterable[SafeString | str]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def _n(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def fill_of(chart_id: str, index: int) -> str:
    style = STYLES[index % len(STYLES)]
    return style.colour if style.pattern == "solid" else f"url(#{chart_id}-p{index % len(STYLES)})"


def _patterns(chart_id: str) -> SafeString:
    parts = []
    for index, style in enumerate(STYLES):
        pid = f"{chart_id}-p{index}"
        if style.pattern == "stripes":
            body = format_html(
                '<rect width="8" height="8" fill="{}"/>'
                '<line x1="0" y1="0" x2="0" y2="8" stroke="{}" stroke-width="5"/>',
                style.tint,
                style.colour,
            )
            parts.append(
                format_html(
                    '<pattern id="{}" patternUnits="userSpaceOnUse" width="8" height="8" '
                    'patternTransform="rotate(45)">{}</pattern>',
                    pid,
                    body,
                )
            )
        elif style.pattern == "dots":
            body = format_html(
                '<rect width="7" height="7" fill="{}"/><circle cx="3.5" cy="3.5" r="2" fill="{}"/>',
                style.tint,
                style.colour,
            )
            parts.append(
                format_html(
                    '<pattern id="{}" patternUnits="userSpaceOnUse" width="7" height="7">{}'
                    "</pattern>",
                    pid,
                    body,
                )
            )
        elif style.pattern == "grid":
            body = format_html(
                '<rect width="8" height="8" fill="{}"/>'
                '<path d="M0 0H8M0 0V8" stroke="{}" stroke-width="2.5"/>',
                style.tint,
                style.colour,
            )
            parts.append(
                format_html(
                    '<pattern id="{}" patternUnits="userSpaceOnUse" width="8" height="8">{}'
                    "</pattern>",
                    pid,
                    body,
                )
            )
    return format_html("<defs>{}</defs>", join(parts))


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    css: str = "chart-label",
    fill: str = INK,
    weight: str = "normal",
    rotate: float | None = None,
    halo: bool = False,
) -> SafeString:
    """A text; ``halo`` outlines it in white so it reads over stripes, dots and lines."""
    transform = (
        format_html(' transform="rotate({} {} {})"', _n(rotate), _n(x), _n(y)) if rotate else ""
    )
    outline = HALO if halo else ""
    return format_html(
        '<text x="{}" y="{}" text-anchor="{}" class="{}" fill="{}" font-size="{}" '
        'font-weight="{}"{}{}>{}</text>',
        _n(x),
        _n(y),
        anchor,
        css,
        fill,
        FONT,
        weight,
        transform,
        outline,
        content,
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, stroke: str) -> SafeString:
    return format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" stroke-width="1.5"/>',
        _n(x),
        _n(y),
        _n(max(w, 0.0)),
        _n(max(h, 0.0)),
        fill,
        stroke,
    )


def _line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    stroke: str = GRID,
    width: float = 1,
    dash: str = "",
) -> SafeString:
    dashed = format_html(' stroke-dasharray="{}"', dash) if dash else ""
    return format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}"{}/>',
        _n(x1),
        _n(y1),
        _n(x2),
        _n(y2),
        stroke,
        _n(width),
        dashed,
    )


def _marker(x: float, y: float, index: int) -> SafeString:
    style = STYLES[index % len(STYLES)]
    if style.marker == "circle":
        return format_html(
            '<circle cx="{}" cy="{}" r="4.5" fill="{}" stroke="#ffffff" stroke-width="1.5"/>',
            _n(x),
            _n(y),
            style.colour,
        )
    if style.marker == "square":
        return format_html(
            '<rect x="{}" y="{}" width="9" height="9" fill="{}" stroke="#ffffff" '
            'stroke-width="1.5"/>',
            _n(x - 4.5),
            _n(y - 4.5),
            style.colour,
        )
    if style.marker == "triangle":
        points = f"{_n(x)},{_n(y - 5.5)} {_n(x + 5.5)},{_n(y + 4.5)} {_n(x - 5.5)},{_n(y + 4.5)}"
    else:
        points = f"{_n(x)},{_n(y - 6)} {_n(x + 6)},{_n(y)} {_n(x)},{_n(y + 6)} {_n(x - 6)},{_n(y)}"
    return format_html(
        '<polygon points="{}" fill="{}" stroke="#ffffff" stroke-width="1.5"/>',
        points,
        style.colour,
    )


def _legend(
    chart_id: str, names: Sequence[str], *, lines: bool = False, extra: Sequence[SafeString] = ()
) -> SafeString:
    parts: list[SafeString] = []
    x = 0.0
    for index, name in enumerate(names):
        style = STYLES[index % len(STYLES)]
        if lines:
            parts.append(_line(x, 11, x + 26, 11, stroke=style.colour, width=2.5, dash=style.dash))
            parts.append(_marker(x + 13, 11, index))
        else:
            parts.append(_rect(x + 2, 3, 18, 16, fill_of(chart_id, index), style.colour))
        parts.append(_text(x + 32, 16, name))
        x += 40 + len(name) * 7.2
    parts.extend(extra)
    return format_html('<g class="chart-legend">{}</g>', join(parts))


def _svg(
    chart_id: str,
    title: str,
    description: str,
    size: tuple[float, float],
    body: Iterable[SafeString],
) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" class="chart-svg" '
        'role="img" aria-labelledby="{}-title {}-desc" focusable="false" '
        'font-family="Segoe UI, system-ui, sans-serif">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}{}</svg>',
        _n(size[0]),
        _n(size[1]),
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        _patterns(chart_id),
        join(body),
    )


def axis_duration(seconds: float) -> str:
    """A round duration for an axis: 0, 30 min, 3 h, 1 d, 1 d 12 h."""
    seconds = round(seconds)
    if seconds == 0:
        return "0"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes else ""]  # fmt: skip
    return " ".join(part for part in parts if part)


def nice_ceiling(value: float) -> float:
    """The next "round" number at or above value: 1, 2, (2.5,) 5 x 10^k."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    # 2.5 only from 25 up, so a count axis never shows 2.5 or 7.5.
    for step in (1, 2, 2.5, 5, 10) if magnitude >= 10 else (1, 2, 5, 10):
        if value <= step * magnitude + 1e-9:
            return float(step * magnitude)
    return 10.0 * magnitude


DURATION_STEPS = (
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    2 * 86400,
    5 * 86400,
    10 * 86400,
    20 * 86400,
    50 * 86400,
)


def ticks(maximum: float, *, durations: bool = False, count: int = 4) -> list[float]:
    """Evenly spaced round ticks from 0 to at least maximum."""
    if durations:
        step = next(
            (float(s) for s in DURATION_STEPS if s * count >= maximum), float(DURATION_STEPS[-1])
        )
    else:
        step = nice_ceiling(max(maximum, 1e-9) / count)
    top = max(step, math.ceil(maximum / step - 1e-9) * step)
    return [step * i for i in range(round(top / step) + 1)]


def _table(
    category_header: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter,
    alert_text: str = "",
) -> tuple[list[str], list[list[str]]]:
    """The chart's numbers as a table; a cell the chart marks says why in words."""
    columns = [category_header, *(s.name for s in series)]
    rows = []
    for i, category in enumerate(categories):
        row = [category]
        for s in series:
            cell = _label(s, i, fmt)
            if alert_text and s.alerts and s.alerts[i]:
                cell = f"{cell} (\u26a0 {alert_text})"
            row.append(cell)
        rows.append(row)
    return columns, rows


def _label(series: Series, index: int, fmt: Formatter) -> str:
    if series.labels is not None:
        return series.labels[index]
    value = series.values[index]
    return "—" if value is None else fmt(value)


def _is_empty(series: Sequence[Series]) -> bool:
    """Nothing to show: every value missing or zero, and no label that says something instead
    (a share of too few tickets to judge has no bar, but its label is news)."""
    return not any(
        value or (s.labels is not None and s.labels[i] != "—")
        for s in series
        for i, value in enumerate(s.values)
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- Horizontal bars --------------------------------------------------------------------------

BAR = 17.0
BAR_GAP = 3.0
GROUP_GAP = 14.0


def hbar(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    fmt: Formatter,
    maximum: float | None = None,
    durations: bool = False,
    category_header: str = "",
    alert_text: str = "below target",
    label_width: float = 190,
    wide: bool = False,
) -> Chart:
    """Grouped horizontal bars, one group per category, values in a column at the right. A
    series with ``targets`` gets a target tick on each bar; ``alerts`` marks a value with the
    alert colour, a warning sign and words."""
    canvas = WIDE if wide else NARROW
    widest = max(
        (
            len(_label(s, i, fmt)) + (len(alert_text) + 3 if s.alerts and s.alerts[i] else 0)
            for s in series
            for i in range(len(categories))
        ),
        default=4,
    )
    right = max(48.0, widest * 7.6 + 18)
    longest = max((len(c) for c in categories), default=0)
    label_width = min(
        label_width if not wide else label_width * 1.4, max(110.0, longest * 7.3 + 14)
    )
    plot_left, plot_width = label_width, canvas - label_width - right
    largest = max((v for s in series for v in s.values if v is not None), default=0.0)
    scale_ticks = ticks(maximum if maximum is not None else largest, durations=durations)
    top_value = scale_ticks[-1]
    bar = BAR if len(categories) * len(series) <= 24 else BAR - 3
    group = len(series) * bar + (len(series) - 1) * BAR_GAP + GROUP_GAP
    top = LEGEND_HEIGHT + 8
    height = top + max(len(categories), 1) * group + 24
    plot_bottom = height - 24

    value_x = plot_left + plot_width + 10

    def x_of(value: float) -> float:
        return plot_left + plot_width * min(value, top_value) / top_value

    body: list[SafeString] = []
    has_targets = any(s.targets for s in series)
    extra = []
    if has_targets:
        legend_x = sum(40 + len(s.name) * 7.2 for s in series) if len(series) > 1 else 0.0
        extra = [
            _line(legend_x + 10, 2, legend_x + 10, 20, stroke=INK, width=2.5),
            _text(legend_x + 20, 16, "target"),
        ]
    if len(series) > 1 or has_targets:
        body.append(
            _legend(chart_id, [s.name for s in series] if len(series) > 1 else [], extra=extra)
        )
    for tick in scale_ticks:
        x = x_of(tick)
        body.append(_line(x, top - 4, x, plot_bottom))
        body.append(
            _text(
                x,
                plot_bottom + 17,
                axis_duration(tick) if durations else fmt(tick),
                anchor="middle",
                fill=INK_SOFT,
                css="chart-axis",
            )
        )
    for i, category in enumerate(categories):
        y0 = top + i * group
        body.append(
            _text(
                plot_left - 8,
                y0 + (group - GROUP_GAP) / 2 + 4,
                _short(category, int(label_width / 7.9)),
                anchor="end",
            )
        )
        for j, s in enumerate(series):
            style = STYLES[j % len(STYLES)]
            y = y0 + j * (bar + BAR_GAP)
            value = s.values[i]
            label = _label(s, i, fmt)
            if value is None:
                body.append(_text(value_x, y + bar - 4, label, fill=INK_SOFT, css="chart-value"))
                continue
            width = x_of(value) - plot_left
            body.append(_rect(plot_left, y, width, bar, fill_of(chart_id, j), style.colour))
            target = s.targets[i] if s.targets else None
            if target is not None:
                tx = x_of(target)
                body.append(_line(tx, y - 2, tx, y + bar + 2, stroke=INK, width=2.5))
            alert = bool(s.alerts and s.alerts[i])
            text = f"{label} \u26a0 {alert_text}" if alert else label
            body.append(
                _text(
                    value_x,
                    y + bar - 4,
                    text,
                    fill=ALERT if alert else INK,
                    weight="bold" if alert else "normal",
                    css="chart-value",
                )
            )
    body.append(_line(plot_left, top - 4, plot_left, plot_bottom, stroke=INK_SOFT))
    columns, rows = _table(category_header, categories, series, fmt, alert_text)
    return Chart(
        chart_id,
        title,
        description,
        _svg(chart_id, title, description, (canvas, height), body),
        columns,
        rows,
        wide,
        _is_empty(series),
    )


# --- Columns (grouped or stacked), with an optional line on a percent axis ---------------------


def columns(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    fmt: Formatter,
    stacked: bool = False,
    percent_line: Series | None = None,
    category_header: str = "",
    rotate_labels: bool = False,
    total_label: str = "Total",
    wide: bool = False,
) -> Chart:
    """Vertical columns, grouped side by side or stacked, each labelled with its value (a stack
    with its total on top); ``percent_line`` adds a line on a 0-100 % axis at the right (a
    Pareto's cumulative share)."""
    canvas = WIDE if wide else NARROW
    left, right = 110.0 if rotate_labels else 48.0, 56.0 if percent_line else 16.0
    top = LEGEND_HEIGHT + 18
    plot_height = 230.0
    bottom_space = 96.0 if rotate_labels else 34.0
    height = top + plot_height + bottom_space
    plot_bottom = top + plot_height
    plot_width = canvas - left - right
    n = max(len(categories), 1)
    slot = plot_width / n
    if stacked:
        totals = [
            sum(v or 0 for v in values) for values in zip(*(s.values for s in series), strict=True)
        ]
        largest = max(totals, default=0.0)
    else:
        largest = max((v for s in series for v in s.values if v is not None), default=0.0)
    scale_ticks = ticks(largest)
    top_value = scale_ticks[-1]

    def y_of(value: float) -> float:
        return plot_bottom - plot_height * value / top_value

    body: list[SafeString] = []
    names = [s.name for s in series] if len(series) > 1 or percent_line else []
    extra: list[SafeString] = []
    if percent_line is not None:
        lx = sum(40 + len(name) * 7.2 for name in names)
        extra = [
            _line(lx, 11, lx + 26, 11, stroke=STYLES[1].colour, width=2.5, dash=STYLES[1].dash),
            _marker(lx + 13, 11, 1),
            _text(lx + 32, 16, percent_line.name),
        ]
    if names or extra:
        body.append(_legend(chart_id, names, extra=extra))
    for tick in scale_ticks:
        y = y_of(tick)
        body.append(_line(left, y, canvas - right, y))
        body.append(
            _text(left - 6, y + 4, fmt(tick), anchor="end", fill=INK_SOFT, css="chart-axis")
        )
    if percent_line is not None:
        for pct in (0, 25, 50, 75, 100):
            y = plot_bottom - plot_height * pct / 100
            body.append(
                _text(canvas - right + 6, y + 4, f"{pct}%", fill=INK_SOFT, css="chart-axis")
            )
    bar_width = min(slot * 0.7, 64.0) if stacked else min(slot * 0.8 / max(len(series), 1), 40.0)
    for i, category in enumerate(categories):
        centre = left + slot * (i + 0.5)
        if stacked:
            base = 0.0
            x = centre - bar_width / 2
            for j, s in enumerate(series):
                value = s.values[i] or 0.0
                if value <= 0:
                    continue
                y_top, y_bottom = y_of(base + value), y_of(base)
                style = STYLES[j % len(STYLES)]
                body.append(
                    _rect(x, y_top, bar_width, y_bottom - y_top, fill_of(chart_id, j), style.colour)
                )
                if y_bottom - y_top >= 15 and bar_width >= 22:
                    body.append(
                        _text(
                            centre,
                            (y_top + y_bottom) / 2 + 4.5,
                            _label(s, i, fmt),
                            anchor="middle",
                            fill=style.on_fill,
                            weight="bold",
                            css="chart-value",
                            halo=style.pattern != "solid",
                        )
                    )
                base += value
            body.append(
                _text(
                    centre,
                    y_of(base) - 6,
                    fmt(base),
                    anchor="middle",
                    weight="bold",
                    css="chart-value",
                )
            )
        else:
            start = centre - bar_width * len(series) / 2
            for j, s in enumerate(series):
                found = s.values[i]
                x = start + j * bar_width
                if found is None:
                    continue
                value = found
                style = STYLES[j % len(STYLES)]
                body.append(
                    _rect(
                        x + 1,
                        y_of(value),
                        bar_width - 2,
                        y_of(0) - y_of(value),
                        fill_of(chart_id, j),
                        style.colour,
                    )
                )
                body.append(
                    _text(
                        x + bar_width / 2,
                        y_of(value) - 6,
                        _label(s, i, fmt),
                        anchor="middle",
                        css="chart-value",
                    )
                )
        label = _short(category, 22 if rotate_labels else max(int(slot / 7), 4))
        if rotate_labels:
            body.append(_text(centre + 4, plot_bottom + 14, label, anchor="end", rotate=-35))
        else:
            body.append(_text(centre, plot_bottom + 18, label, anchor="middle"))
    body.append(_line(left, plot_bottom, canvas - right, plot_bottom, stroke=INK_SOFT))
    if percent_line is not None:
        points = []
        for i, share in enumerate(percent_line.values):
            if share is None:
                continue
            points.append((left + slot * (i + 0.5), plot_bottom - plot_height * share / 100))
        style = STYLES[1]
        body.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5" '
                'stroke-dasharray="{}"/>',
                " ".join(f"{_n(x)},{_n(y)}" for x, y in points),
                style.colour,
                style.dash,
            )
        )
        for i, (x, y) in enumerate(points):
            body.append(_marker(x, y, 1))
            body.append(
                _text(
                    x,
                    y - 9,
                    _label(percent_line, i, fmt),
                    anchor="middle",
                    css="chart-value",
                    fill=style.colour,
                    weight="bold",
                    halo=True,
                )
            )
    table_series = [*series, *([percent_line] if percent_line else [])]
    table_columns, rows = _table(category_header, categories, table_series, fmt)
    if stacked:
        table_columns.append(total_label)
        for i, row in enumerate(rows):
            row.append(fmt(sum(s.values[i] or 0 for s in series)))
    return Chart(
        chart_id,
        title,
        description,
        _svg(chart_id, title, description, (canvas, height), body),
        table_columns,
        rows,
        wide,
        _is_empty(series),
    )


# --- Lines ------------------------------------------------------------------------------------


def lines(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    fmt: Formatter,
    maximum: float | None = None,
    minimum: float = 0.0,
    references: Sequence[Reference] = (),
    category_header: str = "",
    wide: bool = False,
) -> Chart:
    """Lines with a marker and the value at every point; each series has its own dash and
    marker shape. ``references`` draws target lines, labelled at their right end."""
    canvas = WIDE if wide else NARROW
    left, right = 48.0, 150.0 if references else 24.0
    top = LEGEND_HEIGHT + 22
    plot_height = 220.0
    height = top + plot_height + 34
    plot_bottom = top + plot_height
    plot_width = canvas - left - right
    largest = max((v for s in series for v in s.values if v is not None), default=0.0)
    if maximum is not None:
        step = 10.0 if maximum - minimum <= 60 else 20.0
        low_tick = math.floor(minimum / step) * step
        scale_ticks = [low_tick + step * i for i in range(round((maximum - low_tick) / step) + 1)]
    else:
        scale_ticks = ticks(largest)
    low, high = scale_ticks[0], scale_ticks[-1]
    n = max(len(categories), 1)
    slot = plot_width / n

    def y_of(value: float) -> float:
        clipped = min(max(value, low), high)
        return plot_bottom - plot_height * (clipped - low) / (high - low)

    body: list[SafeString] = [_legend(chart_id, [s.name for s in series], lines=True)]
    for tick in scale_ticks:
        y = y_of(tick)
        body.append(_line(left, y, canvas - right, y))
        body.append(
            _text(left - 6, y + 4, fmt(tick), anchor="end", fill=INK_SOFT, css="chart-axis")
        )
    for reference in references:
        y = y_of(reference.value)
        body.append(_line(left, y, canvas - right, y, stroke=INK, width=1.5, dash="4 3"))
        offset = 4 + 14 * references.index(reference)
        body.append(
            _text(canvas - right + 6, y + offset, reference.label, fill=INK, css="chart-axis")
        )
    every = max(1, math.ceil(n / 14))
    for i, category in enumerate(categories):
        if i % every == 0:
            body.append(
                _text(
                    left + slot * (i + 0.5),
                    plot_bottom + 18,
                    category,
                    anchor="middle",
                    css="chart-axis",
                    fill=INK_SOFT,
                )
            )
    body.append(_line(left, plot_bottom, canvas - right, plot_bottom, stroke=INK_SOFT))
    show_values = n <= 16
    for j, s in enumerate(series):
        style = STYLES[j % len(STYLES)]
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append((left + slot * (i + 0.5), y_of(value)))
        for run in runs:
            if len(run) > 1:
                body.append(
                    format_html(
                        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"{}/>',
                        " ".join(f"{_n(x)},{_n(y)}" for x, y in run),
                        style.colour,
                        format_html(' stroke-dasharray="{}"', style.dash) if style.dash else "",
                    )
                )
        for i, value in enumerate(s.values):
            if value is None:
                continue
            x, y = left + slot * (i + 0.5), y_of(value)
            body.append(_marker(x, y, j))
            if show_values:
                alert = bool(s.alerts and s.alerts[i])
                dy = -10 if j % 2 == 0 else 20
                # The full label where it fits the point's slot; the table below has it always.
                label = _label(s, i, fmt)
                label = label if len(label) * 7.2 <= slot else fmt(value)
                text = f"\u26a0 {label}" if alert else label
                body.append(
                    _text(
                        x,
                        y + dy,
                        text,
                        anchor="middle",
                        fill=ALERT if alert else style.colour,
                        weight="bold",
                        css="chart-value",
                        halo=True,
                    )
                )
    columns_, rows = _table(category_header, categories, series, fmt, "below target")
    return Chart(
        chart_id,
        title,
        description,
        _svg(chart_id, title, description, (canvas, height), body),
        columns_,
        rows,
        wide,
        _is_empty(series),
    )
