"""Reply addresses: a reply names its ticket and person, and only a signed one counts."""

from __future__ import annotations

import pytest

from tickets.mail import read_reply_token, reply_address, reply_token, thread_id


@pytest.fixture(autouse=True)
def mailbox(settings):
    settings.HELPDESK = {**settings.HELPDESK, "REPLY_ADDRESS": "helpdesk@lakeside.example"}


def test_a_reply_address_names_the_ticket_and_the_person():
    address = reply_address(234, 56)
    assert address.startswith("helpdesk+hd-1234.56.")
    assert address.endswith("@lakeside.example")
    target = read_reply_token(f"Helpdesk <{address}>")
    assert (target.ticket_id, target.user_id) == (234, 56)


def test_a_mail_server_folding_the_address_to_capitals_still_threads():
    assert read_reply_token(reply_address(234, 56).upper()).ticket_id == 234


@pytest.mark.parametrize(
    "tampered",
    [
        lambda token: token.replace("hd-1234", "hd-1235"),
        lambda token: token.replace(".56.", ".57."),
        lambda token: token[:-1] + ("0" if token[-1] != "0" else "1"),
        lambda token: token[:-1],
    ],
    ids=["other ticket", "other person", "changed signature", "short signature"],
)
def test_a_forged_or_mistyped_token_belongs_to_nothing(tampered):
    assert read_reply_token(tampered(reply_token(234, 56))) is None


def test_a_token_signed_with_another_secret_belongs_to_nothing(settings):
    token = reply_token(234, 56)
    settings.SECRET_KEY = "another hospital's secret key, long enough to be a real one"
    assert read_reply_token(token) is None


def test_text_without_a_token_belongs_to_nothing():
    assert read_reply_token("Re: [HD-1234] Printer jammed") is None
    assert read_reply_token("helpdesk+hd-1000.1.0123456789abcdef@x") is None


def test_every_mail_about_a_ticket_refers_to_one_conversation():
    assert thread_id(234) == "<hd-1234@lakeside.example>"
