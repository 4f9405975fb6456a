"""Numbers as the reports show them."""

from __future__ import annotations

DASH = "—"


def duration(seconds: float | None) -> str:
    """12 s, 4 min 30 s, 42 min, 3 h 05 min, 2 d 4 h."""
    if seconds is None:
        return DASH
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{round(seconds)} s"
    if seconds < 600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if seconds < 86400:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}%"


def whole_percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.0f}%"


def count(value: float | None) -> str:
    return DASH if value is None else f"{round(value):,}"


TOO_FEW = "too few to judge"


def share(part: int, whole: int, *, fmt: str = "{:.1f}%") -> str:
    """A percentage with the count it stands for: "80.0% (4 of 5)"; a dash out of nothing."""
    if not whole:
        return DASH
    return f"{fmt.format(part * 100.0 / whole)} ({part} of {whole})"


def judged_share(part: int, whole: int, *, too_few: bool, fmt: str = "{:.1f}%") -> str:
    """As :func:`share`, but a share of too few tickets says so instead of a percentage:
    "too few to judge (1 of 3)"."""
    if whole and too_few:
        return f"{TOO_FEW} ({part} of {whole})"
    return share(part, whole, fmt=fmt)
