"""The harness's judgement, on hand-made rows: what counts as a lost ticket, a lost or doubled
page, a missed or doubled breach."""

from __future__ import annotations

from dataclasses import replace

from faults.invariants import Figures, Observed, PageRow, Rules, check
from faults.ledger import Filing

FORM = Filing("form", requester_id=7, key="k1", ticket_id=101, emergency=True)
API = Filing("api", requester_id=9, key="api:k2", ticket_id=102, emergency=False)
FIGURES = Figures(requests=50, errors=0, filing_p95_ms=120.0)


def observed(**changes: object) -> Observed:
    healthy = Observed(
        tickets_by_filing={(7, "k1"): [101], (9, "api:k2"): [102]},
        pages=[PageRow(1, "sent"), PageRow(2, "sent"), PageRow(3, "cancelled")],
        delivered_keys=["page-1", "page-2"],
        pages_unsent=0,
        emails_unsent=0,
        emails_failed=0,
        emails_resent=0,
        breaches_expected=[101],
        breaches_recorded=[101],
        double_breaches=[],
        server_errors=0,
    )
    return replace(healthy, **changes)  # type: ignore[arg-type]


def test_a_healthy_run_passes_with_its_counts():
    outcome = check(Rules(), [FORM, API], observed(), FIGURES)
    assert outcome.passed, outcome.violations
    # The cancelled page (acknowledged before it was sent) is not expected at the gateway.
    assert (outcome.pages_expected, outcome.pages_delivered, outcome.pages_duplicated) == (2, 2, 0)
    assert (outcome.breaches_expected, outcome.breaches_recorded) == (1, 1)


def test_a_ticket_the_client_was_told_was_filed_but_is_missing_fails():
    outcome = check(Rules(), [FORM, API], observed(tickets_by_filing={(7, "k1"): [101]}), FIGURES)
    assert outcome.violations == [
        "api filing api:k2 (answered as ticket 102) is in the database 0 times"
    ]


def test_a_retried_key_stored_twice_fails():
    outcome = check(
        Rules(), [API], observed(tickets_by_filing={(9, "api:k2"): [102, 103]}), FIGURES
    )
    assert "api filing api:k2 (answered as ticket 102) is in the database 2 times" in (
        outcome.violations
    )


def test_a_filing_answered_with_another_ticket_than_stored_fails():
    outcome = check(Rules(), [FORM], observed(tickets_by_filing={(7, "k1"): [105]}), FIGURES)
    assert outcome.violations == ["form filing k1 was answered as ticket 101 but is stored as 105"]


def test_a_page_that_never_reached_the_gateway_fails():
    outcome = check(Rules(), [], observed(delivered_keys=["page-1"]), FIGURES)
    assert outcome.pages_delivered == 1
    assert outcome.violations == ["1 page(s) never reached the gateway: 2"]


def test_a_page_sent_twice_fails_unless_the_gateway_drops_repeats():
    twice = observed(delivered_keys=["page-1", "page-2", "page-2"])
    assert check(Rules(), [], twice, FIGURES).violations == ["1 page delivery(ies) repeated"]
    deduped = check(Rules(gateway_dedupes=True), [], twice, FIGURES)
    assert deduped.passed
    assert deduped.pages_duplicated == 1


def test_pages_left_unsent_fail():
    outcome = check(Rules(), [], observed(pages_unsent=2), FIGURES)
    assert outcome.violations == ["2 page(s) left pending or sending"]


def test_e_mails_left_unsent_given_up_or_sent_twice_fail():
    outcome = check(
        Rules(), [], observed(emails_unsent=3, emails_failed=1, emails_resent=2), FIGURES
    )
    assert outcome.violations == [
        "3 e-mail(s) left pending or sending",
        "1 e-mail(s) given up",
        "2 e-mail(s) sent more than once",
    ]


def test_an_e_mail_sent_again_after_its_worker_was_killed_passes_where_a_worker_is_killed():
    outcome = check(Rules(allow_email_resend=True), [], observed(emails_resent=1), FIGURES)
    assert outcome.passed


def test_a_failed_page_fails_even_when_it_reached_the_gateway():
    outcome = check(Rules(), [], observed(pages=[PageRow(1, "failed")]), FIGURES)
    assert outcome.violations == ["1 page(s) marked failed: 1"]


def test_a_missed_or_doubled_breach_fails():
    outcome = check(
        Rules(),
        [],
        observed(
            breaches_expected=[101, 102],
            breaches_recorded=[101],
            double_breaches=[(101, "response")],
        ),
        FIGURES,
    )
    assert outcome.breaches_recorded == 1
    assert outcome.violations == [
        "1 due breach(es) never recorded: 102",
        "breach recorded more than once: 101/response",
    ]


def test_server_errors_and_failed_requests_fail_unless_the_fault_kills_requests():
    figures = Figures(requests=50, errors=3, filing_p95_ms=120.0)
    outcome = check(Rules(), [], observed(server_errors=1), figures)
    assert outcome.violations == [
        "1 server error(s) in the web logs",
        "3 request(s) failed",
    ]
    allowed = check(Rules(allow_request_errors=True), [], observed(), figures)
    assert allowed.passed


def test_slow_filing_fails_where_the_scenario_bounds_it():
    slow = Figures(requests=50, errors=0, filing_p95_ms=2500.0)
    assert check(Rules(), [], observed(), slow).passed
    bounded = check(Rules(max_filing_p95_ms=2000), [], observed(), slow)
    assert bounded.violations == ["filing p95 2500 ms over 2000 ms"]


def test_where_the_fault_is_timed_apart_its_own_p95_is_bounded():
    ramp = Figures(requests=50, errors=0, filing_p95_ms=2500.0, fault_filing_p95_ms=900.0)
    assert check(Rules(max_filing_p95_ms=2000), [], observed(), ramp).passed
    slow = Figures(requests=50, errors=0, filing_p95_ms=900.0, fault_filing_p95_ms=2100.0)
    assert check(Rules(max_filing_p95_ms=2000), [], observed(), slow).violations == [
        "filing p95 during the fault 2100 ms over 2000 ms"
    ]


def test_a_load_that_made_no_request_fails():
    idle = Figures(requests=0, errors=0, filing_p95_ms=0.0)
    assert check(Rules(), [], observed(), idle).violations == ["the load made no request"]


def test_a_failed_page_is_expected_only_where_the_scenario_fails_the_gateway():
    failing = observed(pages=[PageRow(1, "sent"), PageRow(2, "failed")], delivered_keys=["page-1"])
    outcome = check(Rules(failed_pages_allowed=True), [], failing, FIGURES)
    assert outcome.passed, outcome.violations
    assert (outcome.pages_expected, outcome.pages_delivered) == (1, 1)
    assert check(Rules(), [], failing, FIGURES).violations == [
        "1 page(s) never reached the gateway: 2",
        "1 page(s) marked failed: 2",
    ]
