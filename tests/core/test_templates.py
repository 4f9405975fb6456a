"""Every page of the project is a Jinja2 template under templates/ (the admin keeps Django's own);
a badge is one macro wherever it shows, and a person is named one way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.template import engines

from departments.roles import display_name, person_name

TEMPLATES = Path(settings.BASE_DIR) / "templates"

# Django template tags and filter arguments that Jinja2 would print or refuse.
DJANGO_SYNTAX = re.compile(
    r"\{%\s*(load|csrf_token|url|static|empty|comment|endcomment|firstof|cycle|now|spaceless)\b"
    r"|\{%\s*include\s+\S+\s+with\b"
    r"|\{%\s*with\s+\w+=[^\s,]+\s+\w+="
    r"|\|\w+:[\"'\w]"
    r"|forloop\."
)


def _pages() -> list[Path]:
    return sorted(
        path
        for path in TEMPLATES.rglob("*.html")
        if "admin" not in path.relative_to(TEMPLATES).parts
    )


def test_the_pages_are_found():
    assert len(_pages()) > 30


@pytest.mark.parametrize("path", _pages(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_no_page_uses_django_template_syntax(path):
    found = [match.group(0) for match in DJANGO_SYNTAX.finditer(path.read_text())]
    assert found == []


@pytest.mark.parametrize("path", _pages(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_every_page_compiles_as_jinja2(path):
    env = engines["jinja2"].env  # type: ignore[attr-defined]
    env.get_template(str(path.relative_to(TEMPLATES)))


def test_the_pages_engine_comes_first_and_the_admin_keeps_django():
    first, second = settings.TEMPLATES
    assert first["BACKEND"] == "django.template.backends.jinja2.Jinja2"
    assert first["APP_DIRS"] is False
    assert second["BACKEND"] == "django.template.backends.django.DjangoTemplates"
    assert second["APP_DIRS"] is True


def _badges():
    return engines["jinja2"].env.get_template("_badges.html").module  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("priority", "icon"), [(1, "&#9650;&#9650;"), (2, "&#9650;"), (3, "&#9632;"), (4, "&#9660;")]
)
def test_priority_badge_has_colour_icon_and_words(priority, icon):
    html = str(_badges().priority_badge(priority, f"P{priority} <label>"))
    assert html.startswith(f'<span class="badge priority priority-{priority}">')
    assert f'<span class="badge-icon" aria-hidden="true">{icon}</span>' in html
    assert html.endswith(f"P{priority} &lt;label&gt;</span>")


@pytest.mark.parametrize(
    ("status", "icon"),
    [
        ("on_track", "&#10003;"),
        ("at_risk", "&#9888;"),
        ("breached", "&#10007;"),
        ("paused", "&#10074;&#10074;"),
        ("met", "&#10004;"),
    ],
)
def test_sla_badge_has_colour_icon_and_words(status, icon):
    html = str(_badges().sla_badge(status, "At risk"))
    icon_part = f'<span aria-hidden="true">{icon}</span>'
    assert html == f'<span class="badge sla sla-{status}">{icon_part} At risk</span>'


def test_status_badge_names_the_status():
    html = str(_badges().status_badge("in_progress", "In progress"))
    assert html == '<span class="badge status status-in_progress">In progress</span>'


def test_person_is_the_full_name_else_the_username():
    assert display_name(User(username="jdoe", first_name="Jane", last_name="Doe")) == "Jane Doe"
    assert display_name(User(username="jdoe", first_name="Jane")) == "Jane"
    assert display_name(User(username="jdoe")) == "jdoe"
    assert display_name(User(username="jdoe", first_name=" ", last_name="")) == "jdoe"
    assert person_name("", "", "monitor.lab") == "monitor.lab"


def test_templates_name_a_person_through_the_one_function():
    env = engines["jinja2"].env  # type: ignore[attr-defined]
    template = env.from_string("{{ who|person }}")
    assert template.render(who=User(username="tech2")) == "tech2"
    assert template.render(who=User(username="t", first_name="Ann", last_name="Lee")) == "Ann Lee"
    for path in _pages():
        assert "get_full_name" not in path.read_text(), path
