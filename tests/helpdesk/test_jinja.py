"""The Jinja2 partials' environment: escaping always on, a missing name is an error, and the
helpers the queue uses give what Django's own would."""

from __future__ import annotations

import jinja2
import pytest
from django.template.loader import get_template
from django.test import RequestFactory
from django.urls import reverse, set_script_prefix

from helpdesk.jinja import ENGINE, environment, render_partial
from helpdesk.links import SITE_LINKS, pk_url, site_links


def test_escaping_cannot_be_turned_off():
    env = environment(autoescape=False, loader=jinja2.DictLoader({"t": "{{ text }}"}))
    assert env.get_template("t").render(text="<script>alert(1)</script>") == (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    )


def test_a_missing_name_is_an_error_not_an_empty_cell():
    env = environment(loader=jinja2.DictLoader({"t": "{{ row.nmber }}"}))
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("t").render(row={"number": "HD-1001"})


def test_partials_render_through_the_django_backend():
    request = RequestFactory().get("/")
    html = render_partial("queue/_views.html", {"views": []}, request)
    assert html == ""
    assert get_template("queue/_row_list.html", using=ENGINE)


@pytest.mark.parametrize("pk", [1, 42, 8080808080, 999999999999])
def test_pk_url_matches_reverse(pk):
    for name in ("ticket_detail", "claim"):
        assert pk_url(name)(pk) == reverse(name, kwargs={"pk": pk})


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
