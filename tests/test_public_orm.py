"""The project reads and writes through Django's public API only.

A private attribute of Django is a promise nobody made: it changes between releases without a
deprecation, and the next upgrade breaks the page that used it, often silently (a row converted
the wrong way rather than an error). This test reads every project ``.py`` file (not the
virtualenv, not the tests themselves, which may name these words to test for them) and refuses:

- ``_iterable_class``: how a QuerySet turns rows into objects, values or tuples;
- ``get_compiler``, ``apply_converters``, ``get_converters``, ``has_composite_fields``: driving
  the compiler by hand, which turns a query into SQL and rows back into values;
- ``ValuesListIterable`` / ``ModelIterable`` / ``ValuesIterable``: the iterables behind
  ``_iterable_class``;
- ``.extra_select``, ``.annotation_select``, ``.values_select``, ``.select_related =``: the
  ``Query`` object's internals; the QuerySet methods of the same names are the public way;
- ``from_db(``: rebuilding model instances from rows read by hand; a QuerySet builds them.
  (``refresh_from_db(`` is public and allowed.)

Not refused: ``_meta`` (documented: the Model ``_meta`` API) and ``_default_manager`` (documented
on Model), whose leading underscore only keeps them clear of field names; a custom expression's
``as_sql(compiler, connection)`` / ``as_sqlite(...)`` and the ``SQLCompiler`` type it receives
(the documented way to write a ``Func``); ``queryset.query.sql_with_params()``, the one way to
put a QuerySet's SQL inside hand-written SQL (the sweep's and the reports' ``WITH`` queries).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".venv", "tests", "node_modules", ".git", "var", "build"}

PRIVATE = re.compile(
    r"_iterable_class"
    r"|\bget_compiler\b"
    r"|\bapply_converters\b"
    r"|\bget_converters\b"
    r"|\bhas_composite_fields\b"
    r"|\b(?:ValuesList|Values|Model|FlatValuesList|NamedValuesList)Iterable\b"
    r"|\.(?:extra_select|annotation_select|values_select)\b"
    r"|\.select_related\s*=(?!=)"
    r"|(?<!refresh_)\bfrom_db\("
)


def project_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED.intersection(path.relative_to(ROOT).parts[:-1])
    )


def test_the_scan_reads_the_project():
    names = {path.relative_to(ROOT).as_posix() for path in project_files()}
    assert {"tickets/selectors.py", "tickets/views.py", "departments/roles.py"} <= names
    assert not any(name.startswith(("tests/", ".venv/")) for name in names)


def test_the_pattern_finds_what_it_refuses():
    for private in (
        "qs._iterable_class is X",
        "query.get_compiler(using=db)",
        "compiler.apply_converters(rows, c)",
        "converters = compiler.get_converters(columns)",
        "if query.annotation_select:",
        "Ticket.from_db(db, names, row)",
    ):
        assert PRIVATE.search(private), private
    for public in ("ticket.refresh_from_db()", "Ticket._meta.concrete_fields", ".values('a')"):
        assert not PRIVATE.search(public), public


def test_no_private_django_attribute_in_the_project():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in project_files()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if PRIVATE.search(line)
    ]
    assert found == []
