"""The pages' Jinja2 environment: escaping always on, a missing name is an error, and the helpers
the pages use give what Django's own would."""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2
import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.template.loader import get_template
from django.test import RequestFactory
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from core.links import SITE_LINKS, ids_url, pk_url, site_links
from helpdesk.jinja import environment


def test_escaping_cannot_be_turned_off():
    env = environment(autoescape=False, loader=jinja2.DictLoader({"t": "{{ text }}"}))
    assert env.get_template("t").render(text="<script>alert(1)</script>") == (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    )


def test_a_missing_name_is_an_error_not_an_empty_cell():
    env = environment(loader=jinja2.DictLoader({"t": "{{ row.nmber }}"}))
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("t").render(row={"number": "HD-1001"})


def test_pages_render_through_the_django_backend():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    template = get_template("queue/_views.html")
    assert isinstance(template.template, jinja2.Template)
    assert template.render({"views": []}, request) == ""


@pytest.mark.parametrize("pk", [1, 42, 8080808080, 999999999999])
def test_pk_url_matches_reverse(pk):
    for name in ("ticket_detail", "claim"):
        assert pk_url(name)(pk) == reverse(name, kwargs={"pk": pk})


@pytest.mark.parametrize(("pk", "row"), [(1, 2), (42, 42), (8080808080, 8080808081)])
def test_ids_url_matches_reverse(pk, row):
    for name in ("attachment_download", "remove_attachment"):
        expected = reverse(name, kwargs={"pk": pk, "attachment": row})
        assert ids_url(name, "pk", "attachment")(pk, row) == expected


def test_site_links_match_reverse():
    links = site_links()
    assert links.keys() == SITE_LINKS.keys()
    for key, name in SITE_LINKS.items():
        assert links[key] == reverse(name)


def test_links_follow_the_script_prefix():
    """Behind a path prefix (SCRIPT_NAME) the links carry it, and another prefix gets its own."""
    try:
        set_script_prefix("/helpdesk/")
        assert site_links()["queue"] == reverse("queue")
        assert site_links()["queue"].startswith("/helpdesk/")
        assert pk_url("claim")(7) == reverse("claim", kwargs={"pk": 7})
    finally:
        set_script_prefix("/")
    assert not site_links()["queue"].startswith("/helpdesk/")


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("one line", "one line"),
        ("first\nsecond", "first<br>second"),
        ("windows\r\nline\rold mac", "windows<br>line<br>old mac"),
        (
            "<b>bold</b> & 'quotes'\n\"x\"",
            "&lt;b&gt;bold&lt;/b&gt; &amp; &#39;quotes&#39;<br>&#34;x&#34;",
        ),
        ("", ""),
    ],
)
def test_linebreaksbr_escapes_each_line_and_keeps_the_breaks(text, html):
    env = environment(loader=jinja2.DictLoader({"t": "{{ text|linebreaksbr }}"}))
    assert env.get_template("t").render(text=text) == html


@time_machine.travel(datetime(2026, 3, 8, 8, 30, tzinfo=UTC), tick=False)
def test_time_tag_prints_the_local_moment_both_ways():
    """08:30 UTC on the day US clocks go forward is 03:30 CDT in the hospital's zone."""
    env = environment(loader=jinja2.DictLoader({"t": '{{ at|time_tag("%a %-d %b, %H:%M") }}'}))
    assert env.get_template("t").render(at=timezone.now()) == (
        '<time datetime="2026-03-08T03:30:00-05:00">Sun 8 Mar, 03:30</time>'
    )
    assert env.get_template("t").render(at=None) == ""


def test_iso_is_the_same_moment_with_its_offset():
    moment = datetime(2026, 3, 8, 8, 30, tzinfo=UTC)
    env = environment(loader=jinja2.DictLoader({"t": "{{ at|iso }}|{{ none|iso }}"}))
    printed = env.get_template("t").render(at=moment, none=None)
    assert printed == "2026-03-08T08:30:00+00:00|"
    assert datetime.fromisoformat(printed.rstrip("|")) == moment
