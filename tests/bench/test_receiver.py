"""The webhook receiver the suite and the bench post pages to."""

from __future__ import annotations

import http.client
import json

from bench.receiver import RecordedRequest, WebhookReceiver


def post(receiver: WebhookReceiver, payload: object) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
    try:
        connection.request(
            "POST",
            "/hooks/page",
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_answers_the_given_statuses_in_order_then_the_default_and_records_every_post():
    with WebhookReceiver(statuses=[500, 429]) as receiver:
        answers = [post(receiver, {"ticket": f"HD-{n}"}) for n in (1, 2, 3)]

        assert answers == [500, 429, 200]
        assert [r.json for r in receiver.requests] == [
            {"ticket": "HD-1"},
            {"ticket": "HD-2"},
            {"ticket": "HD-3"},
        ]
        assert [r.status for r in receiver.requests] == [500, 429, 200]
        first, second, third = (r.at for r in receiver.requests)
        assert first <= second <= third


def test_waiting_for_a_page_returns_the_first_request_that_matches():
    def for_hd_2(request: RecordedRequest) -> bool:
        return isinstance(request.json, dict) and request.json.get("ticket") == "HD-2"

    with WebhookReceiver() as receiver:
        post(receiver, {"ticket": "HD-1"})
        post(receiver, {"ticket": "HD-2"})

        found = receiver.wait_for(for_hd_2, timeout=5)

        assert found is not None
        assert found.json == {"ticket": "HD-2"}
        assert found.path == "/hooks/page"


def test_waiting_for_a_page_that_never_comes_gives_none():
    with WebhookReceiver() as receiver:
        post(receiver, {"ticket": "HD-1"})

        assert receiver.wait_for(lambda request: False, timeout=0.01) is None


def test_the_fixture_gives_a_running_receiver(webhook_receiver: WebhookReceiver):
    assert post(webhook_receiver, {"ticket": "HD-9"}) == 200
    assert webhook_receiver.received_keys() == []
    assert len(webhook_receiver.requests) == 1
