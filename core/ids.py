"""Ids as they arrive in URLs, query strings and form fields: ASCII digits that fit the
database's id column, nothing else.

``str.isdigit()`` is not that test: it accepts "²" and "①", which ``int()`` refuses (a server
error), and Arabic-Indic digits, which ``int()`` reads as another spelling of an ASCII id. Every
id a person or a program types is read here, and anything else is "no such row".
"""

from __future__ import annotations

# The largest value of a bigint (PostgreSQL) or INTEGER (SQLite) primary key.
ID_MAX = 2**63 - 1
# Path segments an id can be: for route converters and DRF's lookup_value_regex.
ID_PATTERN = "[0-9]+"


def parse_id(text: str) -> int | None:
    """The id ``text`` spells in ASCII digits, or None when it spells none a row can have."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= ID_MAX else None


class IdConverter:
    """``<id:pk>`` in a route: a path whose id could never name a row does not match, so it is
    a 404 before any view (or its method check) runs."""

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError(value)
        return parsed

    def to_url(self, value: int) -> str:
        return str(value)
