"""Nothing a signed-in page fetches is stored in the browser (tests/helpdesk/test_cache_headers.py),
and the live queue's polling still gets its 304s in a real browser: its script keeps the ETag and
sends If-None-Match itself."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from tests.browser.conftest import login
from tests.factories import TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Label printer in bay 4 prints blank labels"


def test_the_live_queue_gets_304s_while_nothing_changes(
    page: Any, live_server: Any, tech: Any, nurse_medsurg: Any
) -> None:
    TicketFactory(requester=nurse_medsurg, title=TITLE)
    # The queue's version includes the minute ("breaching soon" moves with the clock): the polls
    # run at the start of one, the clock ticking, so none of them crosses into the next. (Only
    # seconds ahead of the real clock: the browser still keeps the session cookie.)
    start_of_next_minute = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(start_of_next_minute + timedelta(seconds=1), tick=True):
        login(page, live_server, "tech")
        page.goto(f"{live_server.url}/queue/")
        statuses = []
        for _ in range(3):
            with page.expect_response(re.compile(r"/queue/rows/")) as answer:
                page.evaluate("window.helpdeskQueuePoll()")
            response = answer.value
            assert "no-store" in response.headers["cache-control"]
            statuses.append(response.status)
    assert statuses == [200, 304, 304]
