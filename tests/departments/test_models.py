"""Rules of the organisation's rows that hold without the database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from departments.models import Profile


def test_a_profile_takes_the_paging_channels_it_names() -> None:
    profile = Profile(page_channels="console, email,webhook")
    profile.clean()
    assert profile.channels == ["console", "email", "webhook"]


def test_a_profile_refuses_a_channel_nobody_delivers_and_names_those_that_exist() -> None:
    with pytest.raises(ValidationError) as refused:
        Profile(page_channels="console,sms").clean()
    assert refused.value.message_dict["page_channels"] == [
        "Unknown channel sms; use console, email, webhook."
    ]
