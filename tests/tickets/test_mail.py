"""Reply addresses: a reply names its ticket and person, and only a signed one counts."""

from __future__ import annotations

import pytest

from tests.factories import TicketFactory
from tickets.mail import (
    read_reply_token,
    reply_address,
    reply_token,
    tagged_subject,
    thread_id,
    ticket_email,
)


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


def test_the_subject_carries_the_ticket_tag_once():
    assert tagged_subject(234, "We have your ticket") == "[HD-1234] We have your ticket"
    # A subject that went round a mail client and back keeps the tag it has.
    assert tagged_subject(234, "RE: [hd-1234] We have your ticket") == (
        "RE: [hd-1234] We have your ticket"
    )
    assert tagged_subject(234, tagged_subject(234, "Resolved")) == "[HD-1234] Resolved"


@pytest.mark.django_db
def test_an_email_to_someone_without_an_address_is_refused_before_it_is_built(nurse_medsurg):
    ticket = TicketFactory(requester=nurse_medsurg)
    nurse_medsurg.email = ""
    with pytest.raises(ValueError, match=f"no e-mail address to send {ticket.number}"):
        ticket_email(ticket, to=nurse_medsurg, subject="We have your ticket", body="")
    with pytest.raises(ValueError, match="no e-mail address"):
        ticket_email(ticket, to=" ", subject="New ticket", body="")
