"""What a browser would post back from an admin page: every field of one form as the page
filled it in, so a test changes only what a person would change."""

from __future__ import annotations

from html.parser import HTMLParser

from django.contrib.auth.models import User
from django.test import Client

SKIPPED_INPUTS = {"submit", "button", "image", "reset", "file"}


class _FormReader(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, list[str]] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = attr.get("id") == self.form_id
        if not self.inside:
            return
        name = attr.get("name", "")
        if tag == "input" and name and attr.get("type", "text") not in SKIPPED_INPUTS:
            if attr.get("type") in ("checkbox", "radio") and "checked" not in attr:
                return
            self.fields.setdefault(name, []).append(attr.get("value", "on"))
        elif tag == "select" and name:
            self.select = name
            self.fields.setdefault(name, [])
        elif tag == "option" and self.select and "selected" in attr:
            self.fields[self.select].append(attr.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = name
            self.fields[name] = [""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            # Like a browser: the newline right after <textarea> is not part of the value.
            self.fields[self.textarea][0] = self.fields[self.textarea][0].removeprefix("\n")
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.fields[self.textarea][0] += data


def form_data(html: str, form_id: str) -> dict[str, list[str]]:
    reader = _FormReader(form_id)
    reader.feed(html)
    if not reader.fields:
        raise AssertionError(f"No form #{form_id} with fields on the page")
    return reader.fields


def signed_in(user: User) -> Client:
    """A browser of its own for ``user``, beside the admin's (pytest-django's admin_client)."""
    client = Client()
    client.force_login(user)
    return client
