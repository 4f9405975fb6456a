"""What must hold after every scenario, checked on rows read from the database by SQL.

``observe`` reads the rows (tickets by the keys the load filed them under, the pages written in
the scenario's window and what the gateway received for them, the breaches due and recorded);
``check`` is a pure function of them and of the scenario's rules, so its judgement is tested on
hand-made rows (tests/faults/).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection

from faults.ledger import Filing

UNSENT_PAGE_STATUSES = ("pending", "sending")
UNSENT_EMAIL_STATUSES = ("pending", "sending")  # OutgoingEmail's, the same words


@dataclass(frozen=True, slots=True)
class Rules:
    """What a scenario allows. A gateway that drops repeats by Idempotency-Key makes a page that
    was sent twice (the worker died between the gateway's answer and the row's update) reach
    its recipient once: only the scenarios that kill a worker mid-delivery allow that."""

    allow_request_errors: bool = False
    gateway_dedupes: bool = False
    # An e-mail claimed by a worker that was killed before it could mark it sent goes again:
    # the relay may have taken it already. Only where a worker is killed.
    allow_email_resend: bool = False
    max_filing_p95_ms: float | None = None
    # A gateway that kept failing makes a page use all its attempts and be marked failed (its
    # chain escalates): expected only where the scenario fails the gateway.
    failed_pages_allowed: bool = False


@dataclass(frozen=True, slots=True)
class PageRow:
    page_id: int
    status: str

    @property
    def key(self) -> str:
        return f"page-{self.page_id}"  # Page.dedupe_key, the gateway's Idempotency-Key


@dataclass(frozen=True, slots=True)
class Observed:
    # Ticket ids found for each (requester, key) the load was told it filed.
    tickets_by_filing: dict[tuple[int, str], list[int]]
    pages: list[PageRow]  # written during the scenario
    # Idempotency-Keys of the deliveries the gateway accepted (2xx), one entry per delivery.
    delivered_keys: list[str]
    pages_unsent: int  # anywhere in the database, after the drain
    # E-mails to people in the outbox (tickets_outgoingemail: filing notices, SLA alerts, replies,
    # incident notices, each kind the same) written during the scenario: still
    # pending or sending after the drain, given up, and sent more than once (a claim that was
    # taken back from a worker and sent again; the relay never fails here).
    emails_unsent: int
    emails_failed: int
    emails_resent: int
    breaches_expected: list[int]  # tickets whose first-response target passed unanswered
    breaches_recorded: list[int]  # of which those the sweep recorded
    # (ticket, clock) pairs with more than one "SLA breached" event.
    double_breaches: list[tuple[int, str]]
    server_errors: int  # 5xx lines in the web logs during the scenario


@dataclass(frozen=True, slots=True)
class Figures:
    requests: int
    errors: int
    filing_p95_ms: float
    # While the fault lasted, where the scenario measures it apart (Redis down).
    fault_filing_p95_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    pages_expected: int
    pages_delivered: int
    pages_duplicated: int
    breaches_expected: int
    breaches_recorded: int
    violations: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations


def check(rules: Rules, filings: Sequence[Filing], observed: Observed, figures: Figures) -> Outcome:
    violations: list[str] = []

    for filing in filings:
        found = observed.tickets_by_filing.get((filing.requester_id, filing.key), [])
        if len(found) != 1:
            violations.append(
                f"{filing.via} filing {filing.key} (answered as ticket {filing.ticket_id}) is in "
                f"the database {len(found)} times"
            )
        elif found[0] != filing.ticket_id:
            violations.append(
                f"{filing.via} filing {filing.key} was answered as ticket {filing.ticket_id} but "
                f"is stored as {found[0]}"
            )

    given_up = {"cancelled", "failed"} if rules.failed_pages_allowed else {"cancelled"}
    expected = [page for page in observed.pages if page.status not in given_up]
    counts = Counter(observed.delivered_keys)
    delivered = [page for page in expected if counts[page.key] > 0]
    duplicated = sum(max(counts[page.key] - 1, 0) for page in observed.pages)
    missing = [page.page_id for page in expected if counts[page.key] == 0]
    if missing:
        violations.append(f"{len(missing)} page(s) never reached the gateway: {few(missing)}")
    failed = [page.page_id for page in expected if page.status == "failed"]
    if failed:
        violations.append(f"{len(failed)} page(s) marked failed: {few(failed)}")
    if duplicated and not rules.gateway_dedupes:
        violations.append(f"{duplicated} page delivery(ies) repeated")
    if observed.pages_unsent:
        violations.append(f"{observed.pages_unsent} page(s) left pending or sending")
    if observed.emails_unsent:
        violations.append(f"{observed.emails_unsent} e-mail(s) left pending or sending")
    if observed.emails_failed:
        violations.append(f"{observed.emails_failed} e-mail(s) given up")
    if observed.emails_resent and not rules.allow_email_resend:
        violations.append(f"{observed.emails_resent} e-mail(s) sent more than once")

    unrecorded = sorted(set(observed.breaches_expected) - set(observed.breaches_recorded))
    if unrecorded:
        violations.append(f"{len(unrecorded)} due breach(es) never recorded: {few(unrecorded)}")
    if observed.double_breaches:
        pairs = [f"{ticket}/{clock}" for ticket, clock in observed.double_breaches]
        violations.append(f"breach recorded more than once: {few(pairs)}")

    if figures.requests == 0:
        violations.append("the load made no request")
    if observed.server_errors:
        violations.append(f"{observed.server_errors} server error(s) in the web logs")
    if figures.errors and not rules.allow_request_errors:
        violations.append(f"{figures.errors} request(s) failed")
    bounded = (
        figures.filing_p95_ms
        if figures.fault_filing_p95_ms is None
        else figures.fault_filing_p95_ms
    )
    if rules.max_filing_p95_ms is not None and bounded > rules.max_filing_p95_ms:
        during = "" if figures.fault_filing_p95_ms is None else " during the fault"
        violations.append(
            f"filing p95{during} {bounded:.0f} ms over {rules.max_filing_p95_ms:.0f} ms"
        )
    return Outcome(
        pages_expected=len(expected),
        pages_delivered=len(delivered),
        pages_duplicated=duplicated,
        breaches_expected=len(observed.breaches_expected),
        breaches_recorded=len(set(observed.breaches_recorded) & set(observed.breaches_expected)),
        violations=violations,
    )


def few(items: Iterable[object], limit: int = 8) -> str:
    shown = [str(item) for item in items]
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


# --- Reading the rows ---------------------------------------------------------------------------


def observe(
    *,
    filings: Sequence[Filing],
    started: datetime,
    ended: datetime,
    delivered_keys: list[str],
    server_errors: int,
    sweep_seconds: int,
    sweeps_back_at: datetime | None = None,
) -> Observed:
    """The rows the checks judge, read by SQL. ``started``/``ended`` bound the scenario; where
    it stopped the sweeps, ``sweeps_back_at`` is when they ran again: a ticket answered before
    then, even late, was never seen unanswered past its target by a sweep (its miss is on the
    ticket, ``response_met``), and faults/checks.py judges it."""
    with connection.cursor() as cursor:
        wanted = [(filing.requester_id, filing.key) for filing in filings]
        by_filing: dict[tuple[int, str], list[int]] = {pair: [] for pair in wanted}
        if wanted:
            cursor.execute(
                "SELECT t.requester_id, t.idempotency_key, t.id FROM tickets_ticket t "
                "JOIN unnest(%s::int[], %s::text[]) AS w(requester_id, key) "
                "ON t.requester_id = w.requester_id AND t.idempotency_key = w.key",
                [[pair[0] for pair in wanted], [pair[1] for pair in wanted]],
            )
            for requester_id, key, ticket_id in cursor.fetchall():
                by_filing[(requester_id, key)].append(ticket_id)

        cursor.execute(
            "SELECT id, status FROM tickets_page WHERE created_at >= %s AND created_at < %s",
            [started, ended],
        )
        pages = [PageRow(page_id, status) for page_id, status in cursor.fetchall()]
        cursor.execute(
            "SELECT count(*) FROM tickets_page WHERE status = ANY(%s)",
            [list(UNSENT_PAGE_STATUSES)],
        )
        pages_unsent = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT count(*) FILTER (WHERE status = ANY(%s)), "
            "count(*) FILTER (WHERE status = 'failed'), "
            "count(*) FILTER (WHERE status = 'sent' AND attempts > 1) "
            "FROM tickets_outgoingemail WHERE created_at >= %s AND created_at < %s",
            [list(UNSENT_EMAIL_STATUSES), started, ended],
        )
        emails_unsent, emails_failed, emails_resent = (int(n) for n in cursor.fetchone())

        # A first-response target that passed with nobody answering (or answering only after
        # two sweeps more) must have been recorded as breached by a sweep.
        grace = f"{2 * sweep_seconds} seconds"
        seen_from = sweeps_back_at or started
        cursor.execute(
            "SELECT id, response_breached_at IS NOT NULL FROM tickets_ticket "
            "WHERE response_due_at >= %s AND response_due_at < %s "
            "AND (first_response_at IS NULL "
            "OR first_response_at > GREATEST(response_due_at, %s) + %s::interval) "
            "AND (resolved_at IS NULL OR resolved_at > GREATEST(response_due_at, %s) "
            "+ %s::interval) AND status <> 'cancelled'",
            [
                started,
                ended - timedelta(seconds=2 * sweep_seconds),
                seen_from,
                grace,
                seen_from,
                grace,
            ],
        )
        due = cursor.fetchall()
        cursor.execute(
            "SELECT ticket_id, new_value FROM tickets_ticketevent WHERE kind = 'sla_breach' "
            "GROUP BY ticket_id, new_value HAVING count(*) > 1"
        )
        doubles = [(int(ticket_id), str(clock)) for ticket_id, clock in cursor.fetchall()]
    return Observed(
        tickets_by_filing=by_filing,
        pages=pages,
        delivered_keys=delivered_keys,
        pages_unsent=pages_unsent,
        emails_unsent=emails_unsent,
        emails_failed=emails_failed,
        emails_resent=emails_resent,
        breaches_expected=[ticket_id for ticket_id, _ in due],
        breaches_recorded=[ticket_id for ticket_id, recorded in due if recorded],
        double_breaches=doubles,
        server_errors=server_errors,
    )


def unfinished(*, since: datetime) -> int:
    """Pages and e-mails (SLA alerts among them) not yet delivered (the harness waits for none
    before checking)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM tickets_page WHERE status = ANY(%s)) + "
            "(SELECT count(*) FROM tickets_outgoingemail WHERE status = ANY(%s) "
            "AND created_at >= %s)",
            [list(UNSENT_PAGE_STATUSES), list(UNSENT_EMAIL_STATUSES), since],
        )
        return int(cursor.fetchone()[0])
