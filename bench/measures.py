"""The registry of measures.

A measure is a small function registered with ``@measure("name")``. It gets the ``Bench`` (the
seeded ids, and clients signed in as anyone) and does its one-time setup (sign in, fetch a form,
check the page is the one meant), then returns the operation to time: a callable doing one request
(or one call of a service, a sweep...) and raising ``BenchError`` when the answer is not the
expected one. The harness warms the operation up, counts the SQL queries of one extra call, then
times ``n`` calls. Measures run in registration order; ``floor`` and ``floor_auth`` come first, and
``floor_auth`` is every ratio's denominator.

To add one: write the function below, decorated, in the order it should run. A measure that is
slow per call (a sweep over a million tickets) passes ``n=`` and ``warmup=`` to cap the run's
``--n`` / ``--warmup``. Measures whose cost may follow the size of the history pass
``history=True``: with ``--grow-from`` they run at each history size (``name@200k``,
``name@1m``), the others at the final size only.

An operation may be a ``Timed``: ``reset`` runs untimed after every call (to put the data back,
so that every call sees the same state) and ``close`` once at the end. An operation that times
itself (from an instant after its start, to an event in another process) returns ``Elapsed``.
``prepare`` raises ``Skip`` when the measure cannot run here (a missing service); the harness
prints ``# name skipped: reason``.

Module import needs no Django setup (the harness validates ``--only`` before making a database);
models are imported inside functions.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import statistics
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode, urlsplit

from django.db import close_old_connections
from django.db.models import Case, QuerySet
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from bench.receiver import RecordedRequest, WebhookReceiver

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

    from bench.seed import Seeded

Operation = Callable[[], object]
BASELINE = "floor_auth"
ORIGIN = "https://testserver"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class BenchError(RuntimeError):
    """A measured operation did not do what the measure expects (wrong status, form error...)."""


class Skip(Exception):
    """The measure cannot run in this environment; the message says why."""


class Elapsed(float):
    """Returned by an operation that times itself: the sample, in seconds."""


@dataclass(frozen=True, slots=True)
class Timed:
    """An operation with untimed work after each call (``reset``) and at the end (``close``)."""

    run: Callable[[], object]
    reset: Callable[[], None] | None = None
    close: Callable[[], None] | None = None

    def __call__(self) -> object:
        return self.run()


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    prepare: Callable[[Bench], Operation]
    # None: the run's --warmup / --n; otherwise at most this many.
    warmup: int | None = None
    n: int | None = None
    # Timed again at each history size of a two-stage run.
    history: bool = False


REGISTRY: dict[str, Measure] = {}


def measure(
    name: str, *, warmup: int | None = None, n: int | None = None, history: bool = False
) -> Callable[[Callable[[Bench], Operation]], Callable[[Bench], Operation]]:
    def register(prepare: Callable[[Bench], Operation]) -> Callable[[Bench], Operation]:
        if name in REGISTRY:
            raise ValueError(f"measure {name!r} is registered twice")
        REGISTRY[name] = Measure(name=name, prepare=prepare, warmup=warmup, n=n, history=history)
        return prepare

    return register


@dataclass
class Bench:
    seeded: Seeded
    # The run's temporary directory (worker logs go there).
    var_dir: Path = dataclass_field(default_factory=Path)
    # page_latency: the Redis URL the run publishes to, or why it cannot run here.
    redis_url: str | None = None
    worker_skip: str = ""

    def client(self, user_id: int | None = None) -> Client:
        """A browser: CSRF enforced as in production, signed in as ``user_id`` if given."""
        client = Client(enforce_csrf_checks=True)
        if user_id is not None:
            from django.contrib.auth import get_user_model

            client.force_login(get_user_model().objects.get(pk=user_id), backend=MODEL_BACKEND)
        return client


# --- Requests --------------------------------------------------------------------------------
# Over HTTPS, as production is served (SECURE_SSL_REDIRECT is on). django.test.Client runs the
# real WSGI handler and middleware but keeps Django's close_old_connections off the request
# signals; a WSGI server does not, so it runs here around every request: the per-request
# connection health check on PostgreSQL, and the reconnect per request on SQLite (CONN_MAX_AGE 0).


def get(
    client: Client,
    path: str,
    *,
    expect: int | Collection[int] = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    close_old_connections()
    try:
        response = client.get(path, secure=True, headers=headers)
    finally:
        close_old_connections()
    _expect(response, "GET", path, expect)
    return response


def post(client: Client, path: str, data: dict[str, Any], *, expect: int = 302) -> Response:
    """A form sent as browsers send it: urlencoded (the test client's default, multipart, costs
    ~2 ms of parsing that no browser form in the product causes)."""
    close_old_connections()
    try:
        # Browsers send Origin with a POST; over HTTPS the CSRF check needs it (or a Referer).
        response = client.post(
            path,
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
            secure=True,
            headers={"Origin": ORIGIN},
        )
    finally:
        close_old_connections()
    _expect(response, "POST", path, expect)
    return response


def api(
    client: Client,
    method: str,
    path: str,
    token: str,
    *,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    expect: int = 200,
) -> Response:
    """An API call with a token (no session, no CSRF: token-authenticated requests need none)."""
    sent = {"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})}
    close_old_connections()
    try:
        if method == "GET":
            response = client.get(path, secure=True, headers=sent)
        else:
            response = client.generic(
                method,
                path,
                json.dumps(body or {}),
                content_type="application/json",
                secure=True,
                headers=sent,
            )
    finally:
        close_old_connections()
    _expect(response, method, path, expect)
    return response


def _expect(response: Response, method: str, path: str, status: int | Collection[int]) -> None:
    wanted = {status} if isinstance(status, int) else set(status)
    if response.status_code not in wanted:
        where = f" to {response['Location']}" if response.has_header("Location") else ""
        raise BenchError(
            f"{method} {path} answered {response.status_code}{where}, expected {status}: "
            f"{_snippet(response)}"
        )


def _snippet(response: Response) -> str:
    if response.streaming:
        return "(streamed)"
    text = response.content.decode(errors="replace")
    errors = re.findall(r'class="field-error">([^<]*)<', text)
    if errors:
        return "form errors: " + "; ".join(errors)
    return " ".join(text.split())[:200]


_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def _url_name(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).url_name
    except Resolver404:
        return None


def csrf_token(response: Response) -> str:
    found = _CSRF_INPUT.search(response.content)
    if found is None:
        raise BenchError(f"no CSRF token in the page at {response.request['PATH_INFO']}")
    return found.group(1).decode()


# --- Measures, in the order they run -----------------------------------------------------------


@measure("floor")
def floor(bench: Bench) -> Operation:
    """A bare view, anonymous: one indexed query, a tiny response."""
    client = bench.client()
    path = f"{reverse('bench_floor')}?pk={bench.seeded.sample_ticket_id}"
    if get(client, path).content != b"ok":
        raise BenchError(f"the floor view did not find ticket {bench.seeded.sample_ticket_id}")
    return lambda: get(client, path)


@measure(BASELINE)
def floor_auth(bench: Bench) -> Operation:
    """The bare view, signed in: session and user loaded, session saved, one indexed query."""
    client = bench.client(bench.seeded.nurse_id)
    path = f"{reverse('bench_floor_auth')}?pk={bench.seeded.sample_ticket_id}"
    if get(client, path).content != b"ok":
        raise BenchError("the signed-in floor view did not answer ok")
    return lambda: get(client, path)


@measure("file_ticket_form_post")
def file_ticket_form_post(bench: Bench) -> Operation:
    """A nurse sends the filing form (fresh idempotency key each time); 302 to the confirmation."""
    return _file_ticket_form_post(bench)


def _file_ticket_form_post(bench: Bench, *, must_show: str = "") -> Operation:
    seeded = bench.seeded
    client = bench.client(seeded.filer_id)
    path = reverse("file_ticket")
    form = get(client, path)
    page = form.content.decode()
    if must_show and must_show not in page:
        raise BenchError(f"the filing form does not show {must_show!r}")
    offered = {"location": seeded.nurse_location_id, "category": seeded.filing_category_id}
    for field, value in offered.items():
        if f'value="{value}"' not in page:
            raise BenchError(f"the filing form does not offer {field} {value}")
    data = {
        "csrfmiddlewaretoken": csrf_token(form),
        "category": str(seeded.filing_category_id),
        "title": "Wristband printer jams on every label",
        "callback": "x4567",
        "location": str(seeded.nurse_location_id),
        "care_delayed": "no",
        "scope": "unit",
        "workaround": "yes",
        "description": (
            "The wristband printer at the nurses' station jams after one label since this "
            "morning. Tried reloading the roll and power cycling. Using the printer on 5 South."
        ),
    }

    def file_one() -> None:
        response = post(client, path, {**data, "idempotency_key": uuid.uuid4().hex})
        if _url_name(response["Location"]) != "ticket_filed":
            raise BenchError(f"filing redirected to {response['Location']}, not a confirmation")

    return file_one


@measure("file_ticket_form_post_during_incident")
def file_ticket_form_post_during_incident(bench: Bench) -> Operation:
    """The filing form sent while a hospital-wide major incident is open on its category: every
    page carries the banner (from the cache) and the form offers "add yourself" first. The
    incident is resolved, untimed, at the end."""
    from django.contrib.auth.models import User

    from incidents.services import declare, resolve
    from tickets.models import Category

    seeded = bench.seeded
    technician = User.objects.get(pk=seeded.technician_ids[0])
    incident = declare(
        by=technician,
        service="Bench EHR",
        message="The EHR is down across the hospital.",
        category=Category.objects.get(pk=seeded.filing_category_id),
    )
    operation = _file_ticket_form_post(bench, must_show="this is already known. Add yourself")

    def close() -> None:
        resolve(incident=incident, by=technician, resolution="Back.")

    return Timed(operation, close=close)


@measure("attachment_upload_1mb")
def attachment_upload_1mb(bench: Bench) -> Operation:
    """A nurse sends the filing form with a 1 MB screenshot (multipart, as the browser sends a
    form with a file): the upload read, checked, re-encoded and stored with the ticket."""
    seeded = bench.seeded
    client = bench.client(seeded.filer_id)
    path = reverse("file_ticket")
    form = get(client, path)
    screenshot = _png((580, 580), noise=True)
    if not 900_000 < len(screenshot) < 1_100_000:
        raise BenchError(f"the screenshot is {len(screenshot)} bytes, not about 1 MB")
    data = {
        "csrfmiddlewaretoken": csrf_token(form),
        "category": str(seeded.filing_category_id),
        "title": "Label printer error on screen",
        "callback": "x4567",
        "location": str(seeded.nurse_location_id),
        "care_delayed": "no",
        "scope": "me",
        "workaround": "yes",
        "description": "Screenshot of the error attached.",
    }

    def file_one() -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        close_old_connections()
        try:
            response = client.post(
                path,
                {
                    **data,
                    "idempotency_key": uuid.uuid4().hex,
                    "attachments": SimpleUploadedFile("screen.png", screenshot, "image/png"),
                },
                secure=True,
                headers={"Origin": ORIGIN},
            )
        finally:
            close_old_connections()
        _expect(response, "POST", path, 302)
        if _url_name(response["Location"]) != "ticket_filed":
            raise BenchError(f"filing redirected to {response['Location']}, not a confirmation")

    return file_one


@measure("my_tickets_page")
def my_tickets_page(bench: Bench) -> Operation:
    """A nurse with ~50 tickets opens My tickets, among all the seeded tickets."""
    seeded = bench.seeded
    client = bench.client(seeded.nurse_id)
    path = reverse("my_tickets")
    rows = get(client, path).content.count(b'class="ticket-row"')
    if rows != min(seeded.nurse_tickets, 50):
        raise BenchError(f"My tickets lists {rows} tickets, expected {seeded.nurse_tickets}")
    return lambda: get(client, path)


# --- The technicians' queue, the ticket page, claim -------------------------------------------
# As a technician (IT staff): the queue is theirs, and their GET of a ticket page is audited.


def _open_ticket_ids(
    bench: Bench, *, unassigned: bool | None = None, limit: int = 1, due: bool = False
) -> list[int]:
    """Open tickets, newest first, not the nurse's; not the breach sweep's due ones unless
    ``due`` (the seed's only unassigned open tickets are those: a measure that changes them
    must put them back exactly)."""
    from tickets.models import Ticket

    seeded = bench.seeded
    tickets = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES).exclude(
        requester_id=seeded.nurse_id
    )
    if not due:
        tickets = tickets.exclude(pk__in=seeded.breach_ticket_ids)
    if unassigned is not None:
        tickets = tickets.filter(assignee__isnull=unassigned)
    return list(tickets.order_by("-pk").values_list("pk", flat=True)[:limit])


def _technician(bench: Bench, index: int = 0) -> int:
    ids = bench.seeded.technician_ids
    if not ids:
        raise BenchError("the seed made no technicians")
    return ids[index % len(ids)]


_QUEUE_ROW = b'class="queue-row'


@measure("queue_page")
def queue_page(bench: Bench) -> Operation:
    """A technician opens the queue (default view: all open, first page of 50, view counts)."""
    from tickets.queue import PAGE_SIZE

    client = bench.client(_technician(bench))
    path = reverse("queue")
    rows = get(client, path).content.count(_QUEUE_ROW)
    if rows != min(PAGE_SIZE, bench.seeded.open_tickets):
        raise BenchError(f"the queue lists {rows} rows, expected {PAGE_SIZE}")
    return lambda: get(client, path)


def _touch(ticket_id: int) -> None:
    """Move an open ticket's updated_at to now, as any write does: the queue's ETag changes."""
    from django.utils import timezone

    from tickets.models import Ticket

    Ticket.objects.filter(pk=ticket_id).update(updated_at=timezone.now())


@measure("queue_fragment_changed")
def queue_fragment_changed(bench: Bench) -> Operation:
    """The page's poll after an open ticket changed (untimed: its updated_at moved): 200 with the
    rows and counts, sent with the previous response's ETag as a browser does."""
    from tickets.models import Ticket

    client = bench.client(_technician(bench, 1))
    path = reverse("queue_fragment")
    touched = _open_ticket_ids(bench, unassigned=False, limit=1)
    if not touched:
        raise BenchError("no assigned open ticket to touch")
    saved = Ticket.objects.get(pk=touched[0]).updated_at
    first = get(client, path)
    if first.content.count(_QUEUE_ROW) == 0:
        raise BenchError("the queue fragment lists no rows")
    etag = [first["ETag"]]
    _touch(touched[0])  # the first call, too, follows a change

    def poll() -> None:
        response = get(client, path, headers={"If-None-Match": etag[0]})
        etag[0] = response["ETag"]

    def close() -> None:
        Ticket.objects.filter(pk=touched[0]).update(updated_at=saved)

    return Timed(poll, reset=lambda: _touch(touched[0]), close=close)


# The ETag holds the current minute (UTC): a poll that straddles a minute gets a 200. The reset
# waits past a boundary that is this close, and a 200 that still comes back is retried.
_MINUTE_MARGIN_S = 0.25
_MAX_RETRIES = 3


@measure("queue_fragment_unchanged")
def queue_fragment_unchanged(bench: Bench) -> Operation:
    """The page's poll when nothing changed: 304 on the previous response's ETag. The operation
    times itself: a 200 (the minute turned between two polls) takes the new ETag and polls again,
    counted as a retry, not a sample."""
    client = bench.client(_technician(bench, 2))
    path = reverse("queue_fragment")
    etag = [get(client, path)["ETag"]]
    retries = [0]
    waits = [0]

    def refresh() -> None:
        etag[0] = get(client, path)["ETag"]

    def poll() -> Elapsed:
        for _ in range(_MAX_RETRIES + 1):
            start = time.perf_counter()
            response = get(client, path, expect=(200, 304), headers={"If-None-Match": etag[0]})
            elapsed = time.perf_counter() - start
            if response.status_code == 304:
                return Elapsed(elapsed)
            retries[0] += 1
            etag[0] = response["ETag"]
        raise BenchError(
            f"{_MAX_RETRIES + 1} polls in a row answered 200: the queue keeps changing"
        )

    def reset() -> None:
        """Untimed: if the minute turns within the margin, wait it out and take the new ETag."""
        second = time.time() % 60
        if second > 60 - _MINUTE_MARGIN_S:
            time.sleep(60 - second + 0.01)
            waits[0] += 1
            refresh()

    def close() -> None:
        _say(
            f"queue_fragment_unchanged: waited past {waits[0]} minute boundaries, "
            f"{retries[0]} polls answered 200 and were retried (not counted as samples)"
        )

    return Timed(poll, reset=reset, close=close)


TIMELINE_EVENTS = 20
# Screenshots on the ticket_page's ticket, each listed with a thumbnail.
TICKET_PAGE_ATTACHMENTS = 5


def _png(size: tuple[int, int], *, noise: bool = False) -> bytes:
    """A PNG made here: flat colour (a few hundred bytes), or noise (as large as its pixels)."""
    import io

    from PIL import Image

    width, height = size
    image = (
        Image.frombytes("RGB", size, os.urandom(width * height * 3))
        if noise
        else Image.new("RGB", size, (30, 90, 160))
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _attach_screenshots(ticket: Any, count: int) -> None:
    """Give the ticket ``count`` screenshots through the service, as a requester's comment."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tickets.services import ticket_comment

    missing = count - ticket.attachments.live().count()
    if missing > 0:
        ticket_comment(
            ticket=ticket,
            author=ticket.requester,
            text="Screenshots of the error.",
            attachments=[
                SimpleUploadedFile(f"screen-{n}.png", _png((1280, 800))) for n in range(missing)
            ],
        )


@measure("ticket_page")
def ticket_page(bench: Bench) -> Operation:
    """A technician opens an open ticket with ~20 timeline events (IT's workspace: actions,
    related tickets, the full timeline). Each view it records stays on the audit log, which
    cannot be deleted from: the page never reads the log, so the rows do not change what is
    timed."""
    from datetime import timedelta

    from tickets.models import Ticket, TicketEvent

    tech = _technician(bench, 3)
    found = _open_ticket_ids(bench, unassigned=False, limit=1)
    if not found:
        raise BenchError("no assigned open ticket")
    ticket = Ticket.objects.get(pk=found[0])
    have = ticket.events.count()
    kinds = [
        (TicketEvent.Kind.COMMENT, True, "Still failing after the restart."),
        (TicketEvent.Kind.INTERNAL_NOTE, False, "Driver mismatch on this model; checking."),
        (TicketEvent.Kind.STATUS, True, ""),
        (TicketEvent.Kind.PRIORITY, False, "Whole unit affected."),
    ]
    start = ticket.created_at
    step = max((_now() - start) / (TIMELINE_EVENTS + 1), timedelta(seconds=1))
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket=ticket,
            at=start + step * (number + 1),
            actor_id=tech if number % 2 else ticket.requester_id,
            kind=kinds[number % len(kinds)][0],
            is_public=kinds[number % len(kinds)][1],
            text=kinds[number % len(kinds)][2],
        )
        for number in range(max(0, TIMELINE_EVENTS - have))
    )
    _attach_screenshots(ticket, TICKET_PAGE_ATTACHMENTS)
    client = bench.client(tech)
    path = ticket.get_absolute_url()
    if ticket.number.encode() not in get(client, path).content:
        raise BenchError(f"the page at {path} does not show {ticket.number}")
    return Timed(lambda: get(client, path))


@measure("claim")
def claim(bench: Bench) -> Operation:
    """A technician claims an unassigned open ticket from the queue (the row's form: POST with
    CSRF, 302 back to the ticket). Untimed after each call: the ticket is put back exactly as it
    was (unassigned, its status and updated_at, the assignment event deleted), and the next call
    claims the next one of a pool of 50. The seed's unassigned open tickets are the breach
    sweep's due ones (new, nobody on them yet), so they must be put back exactly."""
    from tickets.models import Ticket, TicketEvent

    tech = _technician(bench, 4)
    pool = _open_ticket_ids(bench, unassigned=True, limit=50, due=True)
    if len(pool) < 2:
        raise BenchError(f"{len(pool)} unassigned open tickets; the claim measure needs two")
    saved = {
        pk: (status, updated_at)
        for pk, status, updated_at in Ticket.objects.filter(pk__in=pool).values_list(
            "pk", "status", "updated_at"
        )
    }
    client = bench.client(tech)
    page = get(client, reverse("queue"))
    data = {"csrfmiddlewaretoken": csrf_token(page)}
    turn = [0]

    def claim_one() -> None:
        pk = pool[turn[0] % len(pool)]
        response = post(client, reverse("claim", args=[pk]), data)
        if _url_name(response["Location"]) != "ticket_detail":
            raise BenchError(f"claiming {pk} redirected to {response['Location']}")

    def reset() -> None:
        pk = pool[turn[0] % len(pool)]
        turn[0] += 1
        # A browser follows the redirect and shows the message; here it is dropped instead, so
        # that the messages cookie does not grow call after call.
        client.cookies.pop("messages", None)
        status, updated_at = saved[pk]
        put_back = Ticket.objects.filter(pk=pk, assignee_id=tech).update(
            assignee=None, status=status, updated_at=updated_at
        )
        if put_back != 1:
            raise BenchError(f"ticket {pk} was not claimed by the technician")
        _delete(
            TicketEvent.objects.filter(
                ticket_id=pk, actor_id=tech, kind=TicketEvent.Kind.ASSIGNMENT
            )
        )

    return Timed(claim_one, reset=reset)


# --- The API, with tokens ----------------------------------------------------------------------
# The token rate counts every call per user in the shared cache; bench/settings.py sets it so
# high that no measure is ever refused, so one token per measure serves all its calls.


def _token(user_id: int, name: str) -> str:
    """A raw API token for one user, issued untimed."""
    from django.contrib.auth import get_user_model

    from departments.models import ApiToken

    user = get_user_model().objects.get(pk=user_id)
    return ApiToken.issue(user=user, name=f"bench {name}")[1]


@measure("api_ticket_list")
def api_ticket_list(bench: Bench) -> Operation:
    """A technician's token lists the open queue, queue order, first page (50)."""
    token = _token(_technician(bench, 5), "api_ticket_list")
    client = Client()
    path = f"{reverse('api-ticket-list')}?ordering=queue"
    results = api(client, "GET", path, token).json().get("results", [])
    if len(results) != min(50, bench.seeded.open_tickets):
        raise BenchError(f"the API list returned {len(results)} tickets, expected 50")
    return lambda: api(client, "GET", path, token)


@measure("api_ticket_create")
def api_ticket_create(bench: Bench) -> Operation:
    """The filing nurse's token files a ticket (the form's fields, as JSON; a fresh
    Idempotency-Key each time): 201."""
    from departments.models import Location
    from tickets.models import Category

    seeded = bench.seeded
    token = _token(seeded.filer_id, "api_ticket_create")
    client = Client()
    path = reverse("api-ticket-list")
    body = {
        "category": Category.objects.get(pk=seeded.filing_category_id).slug,
        "title": "Wristband printer jams on every label",
        "callback": "x4567",
        "location": Location.objects.get(pk=seeded.nurse_location_id).code,
        "care_delayed": False,
        "scope": "unit",
        "workaround": True,
        "description": (
            "The wristband printer at the nurses' station jams after one label since this "
            "morning. Tried reloading the roll and power cycling. Using the printer on 5 South."
        ),
    }

    def create() -> None:
        api(
            client,
            "POST",
            path,
            token,
            body=body,
            headers={"Idempotency-Key": uuid.uuid4().hex},
            expect=201,
        )

    return create


@measure("api_ticket_detail")
def api_ticket_detail(bench: Bench) -> Operation:
    """A technician's token reads one open ticket."""
    token = _token(_technician(bench, 6), "api_ticket_detail")
    client = Client()
    found = _open_ticket_ids(bench, unassigned=False, limit=2)
    if not found:
        raise BenchError("no open ticket")
    pk = found[-1]
    path = reverse("api-ticket-detail", args=[pk])
    if api(client, "GET", path, token).json().get("id") not in (pk, None):
        raise BenchError(f"the API answered another ticket than {pk}")
    return lambda: api(client, "GET", path, token)


# --- Reports, as a manager ---------------------------------------------------------------------
# The last 90 days (the form's "period=90"). history=True: with --grow-from (--profile queue)
# they run at both history sizes. Slow per call at a million tickets, so fewer calls.

REPORT_RANGE = "period=90"


def _report(bench: Bench, url_name: str, marker: bytes) -> Operation:
    client = bench.client(bench.seeded.manager_id)
    path = f"{reverse(url_name)}?{REPORT_RANGE}"
    page = get(client, path).content
    if marker not in page or b'class="field-error"' in page:
        raise BenchError(f"the report at {path} shows no {marker.decode()!r} or a filter error")
    return lambda: get(client, path)


@measure("report_compliance_90d", history=True, n=20, warmup=2)
def report_compliance_90d(bench: Bench) -> Operation:
    """SLA compliance by department and priority over the last 90 days."""
    return _report(bench, "reports:compliance", b"<table")


@measure("report_speed_90d", history=True, n=20, warmup=2)
def report_speed_90d(bench: Bench) -> Operation:
    """Time to first response and resolution (median, 90th percentile) over the last 90 days."""
    return _report(bench, "reports:speed", b"<table")


@measure("report_critical_areas", history=True, n=20, warmup=2)
def report_critical_areas(bench: Bench) -> Operation:
    """The critical areas report (ED, OR, ICU...) over the last 90 days."""
    return _report(bench, "reports:critical", b"<table")


@measure("csv_export_90d", history=True, n=10, warmup=1)
def csv_export_90d(bench: Bench) -> Operation:
    """The tickets behind the reports as CSV, last 90 days: timed to the streamed last byte."""
    client = bench.client(bench.seeded.manager_id)
    path = f"{reverse('reports:export', kwargs={'report': 'tickets'})}?{REPORT_RANGE}"
    lines = [0]

    def export() -> None:
        close_old_connections()
        try:
            response = client.get(path, secure=True)
            _expect(response, "GET", path, 200)
            body = b"".join(cast("Iterable[bytes]", cast(Any, response).streaming_content))
            response.close()
        finally:
            close_old_connections()
        lines[0] = body.count(b"\n")
        if lines[0] < 2:
            raise BenchError(f"the export at {path} has no rows")

    export()
    return Timed(export, close=lambda: _say(f"csv_export_90d: {lines[0] - 1:,} rows per export"))


def _say(text: str) -> None:
    print(f"# {text}", flush=True)


# --- Background work ---------------------------------------------------------------------------
# The sweep runs in a Celery task, not a request: it is called directly, with the instant the data
# was made for. ratio_p95 is informative only for these.


@measure("sla_sweep_idle", history=True)
def sla_sweep_idle(bench: Bench) -> Operation:
    """One SLA sweep when nothing is due: four claims on the partial indexes, chains, redelivery."""
    from tickets.sweep import sla_sweep

    now = bench.seeded.sweep_idle_at

    def sweep() -> None:
        result = sla_sweep(now=now)
        if result.total or result.redelivered or result.chains_advanced:
            raise BenchError(
                f"the idle sweep did work: {result.total} claimed, {result.redelivered} "
                f"redelivered, {result.chains_advanced} chains advanced"
            )

    sweep()
    return sweep


@measure("incident_detect", history=True)
def incident_detect(bench: Bench) -> Operation:
    """The major incident detection query at the sweep's instant: the window's open tickets
    grouped by category tile (the index on created_at keeps it the size of the window, whatever
    the history)."""
    from incidents.services import clusters

    now = bench.seeded.sweep_idle_at
    return lambda: clusters(now=now)


@measure("sla_sweep_breach_1000", history=True, n=5, warmup=1)
def sla_sweep_breach(bench: Bench) -> Operation:
    """One SLA sweep that breaches the seeded due tickets' first response (1,000 at full size):
    the claim, an event and an alert each, and a page chain each (``paging.start_chain``: the
    team's on-call primary is paged on the console). Afterwards, untimed, the marks are cleared,
    the rows it wrote deleted and the tasks it queued purged."""
    from django.db.models import Case, DateTimeField, Value, When

    from tickets.models import Ticket
    from tickets.sweep import sla_sweep

    seeded = bench.seeded
    now = seeded.sweep_breach_at
    due = list(seeded.breach_ticket_ids)

    def sweep() -> None:
        result = sla_sweep(now=now)
        breached = result.count("response", "breach")
        if breached != len(due) or result.total != len(due) or result.chains_started != len(due):
            raise BenchError(
                f"the sweep breached {breached} first responses ({result.total} claims in all) "
                f"and started {result.chains_started} page chains, expected {len(due)} each"
            )

    # The claim moves updated_at too; put back what the seed wrote.
    updated = dict(Ticket.objects.filter(pk__in=due).values_list("pk", "updated_at"))
    seeded_updated_at = Case(
        *(When(pk=pk, then=Value(at)) for pk, at in updated.items()),
        output_field=DateTimeField(),
    )

    def reset() -> None:
        _undo_breach(due, now, seeded_updated_at)

    return Timed(sweep, reset=reset)


def _undo_breach(ticket_ids: list[int], at: datetime, updated_at: Case) -> None:
    """Put the due tickets back as they were before the sweep at ``at`` breached them."""
    from django.db import transaction

    from bench.worker import purge_queue
    from tickets.models import OutgoingEmail, Page, PageChain, SlaAlert, Ticket, TicketEvent
    from tickets.notifications import SLA_ALERT

    chains = PageChain.objects.filter(ticket_id__in=ticket_ids, started_at=at)
    alerts = SlaAlert.objects.filter(ticket_id__in=ticket_ids, created_at=at)
    with transaction.atomic():
        _delete(Page.objects.filter(chain__in=chains))
        _delete(chains)
        _delete(OutgoingEmail.objects.filter(kind=SLA_ALERT, about_id__in=alerts.values("pk")))
        _delete(alerts)
        _delete(
            TicketEvent.objects.filter(
                ticket_id__in=ticket_ids,
                at=at,
                kind__in=[TicketEvent.Kind.SLA_BREACH, TicketEvent.Kind.PAGE],
            )
        )
        Ticket.objects.filter(pk__in=ticket_ids).update(
            response_breached_at=None, updated_at=updated_at
        )
    purge_queue()  # the e-mails' and pages' delivery tasks: nothing consumes the bench queue


def _delete(queryset: QuerySet[Any]) -> None:
    """DELETE the rows in one statement, bypassing the models' guards (the ticket timeline is
    append-only in the product; the bench takes back what its own sweep appended)."""
    from django.db import connection

    subquery, params = queryset.values("pk").query.sql_with_params()
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id IN ({subquery})", params)  # noqa: S608


@measure("page_latency", n=20, warmup=2)
def page_latency(bench: Bench) -> Operation:
    """An ED P1 filed through the form; a real Celery worker (Redis broker, bench queue) delivers
    the on-call page to a local webhook receiver. Timed from the POST's response to the page's
    arrival at the receiver. The worker is started here and killed at the end."""
    if bench.worker_skip:
        raise Skip(bench.worker_skip)
    from bench.seed import PAGE_DEPARTMENT
    from bench.worker import CeleryWorker, purge_queue
    from departments.models import Profile, Team
    from oncall import selectors
    from oncall.channels import verify_signature
    from tickets.models import Category, OutgoingEmail, Ticket
    from tickets.notifications import FILING_NOTICE

    seeded = bench.seeded
    category = Category.objects.get(pk=seeded.page_category_id)
    team = Team.objects.select_related("rotation").get(pk=category.team_id)
    on_call = selectors.on_call(team, _now())
    if on_call is None or on_call.primary is None:
        raise BenchError(f"nobody is on call for {team.name}")
    # The on-call primary is paged by webhook; so is everyone in the rotation, in case the
    # weekly hand-off falls during the run.
    members = list(team.rotation.members.values_list("user_id", flat=True))
    saved_channels = dict(
        Profile.objects.filter(user_id__in=members).values_list("pk", "page_channels")
    )
    Profile.objects.filter(pk__in=saved_channels).update(page_channels="webhook")

    secret = secrets.token_hex(16)
    receiver = WebhookReceiver().start()
    worker = CeleryWorker(
        env={
            "CELERY_BROKER_URL": bench.redis_url or "",
            "HELPDESK_PAGING_WEBHOOK_URL": receiver.url,
            "HELPDESK_PAGING_WEBHOOK_SECRET": secret,
        },
        log_path=bench.var_dir / "celery-worker.log",
    )
    filed: list[int] = []

    def close() -> None:
        try:
            worker.stop()
        finally:
            receiver.stop()
            purge_queue()
            for pk, channels in saved_channels.items():
                Profile.objects.filter(pk=pk).update(page_channels=channels)

    try:
        purge_queue()
        worker.start()
        client = bench.client(seeded.filer_id)
        path = reverse("file_ticket")
        form = get(client, path)
        data = {
            "csrfmiddlewaretoken": csrf_token(form),
            "category": str(category.pk),
            "title": "Epic frozen on every triage PC",
            "callback": "x4410",
            "location": str(seeded.page_location_id),
            # The filer's own unit is another: she says she is reporting for the ED.
            "reporting_for": PAGE_DEPARTMENT,
            "care_delayed": "yes",
            "scope": "unit",
            "workaround": "no",
            "description": "Spinning wheel at triage, cannot chart. Restarted one PC, same.",
        }
    except BaseException:
        close()
        raise

    def file_and_wait() -> Elapsed:
        response = post(client, path, {**data, "idempotency_key": uuid.uuid4().hex})
        posted = time.perf_counter()
        match = resolve(urlsplit(response["Location"]).path)
        if match.url_name != "ticket_filed":
            raise BenchError(f"filing redirected to {response['Location']}, not a confirmation")
        ticket = Ticket(pk=int(match.kwargs["pk"]))
        filed.append(ticket.pk)
        page = receiver.wait_for(lambda request: _is_page_for(request, ticket.number), timeout=30)
        if page is None:
            raise BenchError(
                f"no page for {ticket.number} reached the receiver in 30s; worker log: "
                f"{worker.log_tail()}"
            )
        signed = verify_signature(
            secret,
            page.headers.get("X-Helpdesk-Timestamp", ""),
            page.body,
            page.headers.get("X-Helpdesk-Signature", ""),
        )
        if not signed or page.json.get("priority") != "P1 Critical":
            raise BenchError(f"the page for {ticket.number} is unsigned or not P1: {page.json}")
        return Elapsed(page.at - posted)

    def settle() -> None:
        """Let the worker finish the filing notice too, so the next page waits on nothing."""
        deadline = time.perf_counter() + 30
        while OutgoingEmail.objects.filter(
            kind=FILING_NOTICE, about_id=filed[-1], status__in=["pending", "sending"]
        ).exists():
            if time.perf_counter() > deadline:
                raise BenchError(f"the worker never sent the filing notice: {worker.log_tail()}")
            time.sleep(0.01)
        time.sleep(0.05)

    return Timed(file_and_wait, reset=settle, close=close)


@measure("login_ldap")
def login_ldap(bench: Bench) -> Operation:
    """A nurse signs in through the form against a directory: django-auth-ldap's search with
    the service account, the bind as her and the group search against a local slapd, then the
    account refreshed by the help desk's provisioning. A fresh browser (and form) each call."""

    from django.test import override_settings

    from bench.slapd import CAST, running_directory, slapd_available
    from core.reference_cache import forget_reference_rows
    from helpdesk.settings import ldap_settings

    if not slapd_available():
        raise Skip("slapd (OpenLDAP) is not installed")
    nurse = CAST[0]
    started = running_directory()
    directory = started.__enter__()
    saved_env = {name: os.environ.get(name) for name in directory.env()}
    os.environ.update(directory.env())
    configured = override_settings(
        **ldap_settings(),
        HELPDESK_DIRECTORY={"GROUP_ROLES": {}, "GROUP_UNITS": {"GRP-ED-NURSING": "ED"}},
    )
    configured.enable()
    forget_reference_rows()

    def close() -> None:
        configured.disable()
        forget_reference_rows()
        _restore_environment(saved_env)
        started.__exit__(None, None, None)

    path = reverse("login")
    browser: list[tuple[Client, str]] = []

    def fresh_browser() -> None:
        client = bench.client()
        browser[:] = [(client, csrf_token(get(client, path)))]

    def sign_in() -> None:
        client, token = browser[0]
        data = {"csrfmiddlewaretoken": token, "username": nurse.uid, "password": nurse.password}
        response = post(client, path, data)
        if _url_name(response["Location"]) in {"login", "choose_unit"}:
            raise BenchError(f"signing in redirected to {response['Location']}")

    try:
        fresh_browser()
        sign_in()
        fresh_browser()
    except BaseException:
        close()
        raise
    return Timed(sign_in, reset=fresh_browser, close=close)


MAIL_BATCH = 100
MAIL_TARGET_MS = 50


@measure("mail_poll_100", warmup=1, n=10)
def mail_poll_100(bench: Bench) -> Operation:
    """One poll of the help desk's mailbox (a local dovecot, over TLS) with 100 new messages in
    it: 70 new problems from a nurse (each filed as a ticket), 20 replies threading into her
    ticket and 10 out-of-office replies, then all 100 moved to the processed folder. The
    messages are delivered untimed before each poll. Closing prints the time per message, whose
    target is under 50 ms."""
    from email.message import EmailMessage
    from email.utils import make_msgid

    from django.contrib.auth import get_user_model
    from django.test import override_settings

    from bench.dovecot import dovecot_available, running_mail_server
    from helpdesk.settings import mailboxes_from_env
    from intake.imap import mailbox_config
    from intake.polling import poll
    from tickets.mail import reply_address
    from tickets.models import Ticket

    if not dovecot_available():
        raise Skip("dovecot (dovecot-imapd) is not installed")
    nurse = get_user_model().objects.get(pk=bench.seeded.nurse_id)
    ticket = Ticket.objects.filter(requester=nurse, status__in=Ticket.OPEN_STATUSES).first()
    if ticket is None:
        raise BenchError("the seeded nurse has no open ticket to reply to")
    started = running_mail_server()
    server = started.__enter__()
    env = server.env("BENCH")
    saved_env = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    configured = override_settings(HELPDESK_MAILBOXES=mailboxes_from_env())
    configured.enable()
    config = mailbox_config("bench")
    assert config is not None
    per_message: list[float] = []

    def message(number: int) -> bytes:
        mail = EmailMessage()
        mail["From"] = f"{nurse.get_full_name()} <{nurse.email}>"
        mail["Message-ID"] = make_msgid(f"bench{number}", "lakeside.example")
        mail["Subject"] = f"Label printer {number} in bay 4 prints blank labels"
        mail["To"] = "helpdesk@localhost"
        if number % 10 == 7:
            mail["Auto-Submitted"] = "auto-replied"
            mail.replace_header("Subject", "Automatic reply: out of the office")
        elif number % 10 in (3, 8):
            mail.replace_header("To", reply_address(ticket.pk, nurse.pk))
        mail.set_content(
            "The label printer prints blank labels since the ribbon change.\n\n"
            "On Mon, IT Service Desk <helpdesk@localhost> wrote:\n> We have your ticket.\n"
        )
        return mail.as_bytes()

    numbers = iter(range(10**9))

    def deliver() -> None:
        server.deliver(*(message(next(numbers)) for _ in range(MAIL_BATCH)))

    def poll_once() -> None:
        start = time.perf_counter()
        result = poll(config)
        if result.error or sum(result.outcomes.values()) != MAIL_BATCH:
            raise BenchError(f"the poll did not take in {MAIL_BATCH} messages: {result.summary}")
        per_message.append((time.perf_counter() - start) / MAIL_BATCH)

    def close() -> None:
        configured.disable()
        _restore_environment(saved_env)
        started.__exit__(None, None, None)
        if len(per_message) >= 2:
            twentieths = statistics.quantiles(per_message, n=20, method="inclusive")
            _say(
                f"mail_poll_100 per message, every poll (warm-up included): "
                f"p50 {statistics.median(per_message) * 1000:.2f} ms, "
                f"p95 {twentieths[-1] * 1000:.2f} ms (target under {MAIL_TARGET_MS} ms)"
            )

    try:
        deliver()
    except BaseException:
        close()
        raise
    return Timed(poll_once, reset=deliver, close=close)


def _restore_environment(saved: dict[str, str | None]) -> None:
    """Put back the variables a measure set for its server (None: it was not set)."""
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _is_page_for(request: RecordedRequest, ticket_number: str) -> bool:
    return isinstance(request.json, dict) and request.json.get("ticket") == ticket_number


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()
