"""The registry of measures.

A measure is a small function registered with ``@measure("name")``. It gets the ``Bench`` (the
seeded ids, and clients signed in as anyone) and does its one-time setup (sign in, fetch a form,
check the page is the one meant), then returns the operation to time: a callable doing one request
(or one call of a service, a sweep...) and raising ``BenchError`` when the answer is not the
expected one. The harness warms the operation up, counts the SQL queries of one extra call, then
times ``n`` calls. Measures run in registration order; ``floor`` and ``floor_auth`` come first, and
``floor_auth`` is every ratio's denominator.

To add one: write the function below, decorated, in the order it should run. A measure that is
slow per call (a sweep over a million tickets) passes ``n=`` and ``warmup=`` to keep runs short.

Module import needs no Django setup (the harness validates ``--only`` before making a database);
models are imported inside functions.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.db import close_old_connections
from django.test import Client
from django.urls import Resolver404, resolve, reverse

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

    from bench.seed import Seeded

Operation = Callable[[], object]
BASELINE = "floor_auth"
ORIGIN = "https://testserver"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class BenchError(RuntimeError):
    """A measured operation did not do what the measure expects (wrong status, form error...)."""


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    prepare: Callable[[Bench], Operation]
    # None: the run's --warmup / --n.
    warmup: int | None = None
    n: int | None = None


REGISTRY: dict[str, Measure] = {}


def measure(
    name: str, *, warmup: int | None = None, n: int | None = None
) -> Callable[[Callable[[Bench], Operation]], Callable[[Bench], Operation]]:
    def register(prepare: Callable[[Bench], Operation]) -> Callable[[Bench], Operation]:
        if name in REGISTRY:
            raise ValueError(f"measure {name!r} is registered twice")
        REGISTRY[name] = Measure(name=name, prepare=prepare, warmup=warmup, n=n)
        return prepare

    return register


@dataclass
class Bench:
    seeded: Seeded

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


def get(client: Client, path: str, *, expect: int = 200) -> Response:
    close_old_connections()
    try:
        response = client.get(path, secure=True)
    finally:
        close_old_connections()
    _expect(response, "GET", path, expect)
    return response


def post(client: Client, path: str, data: dict[str, Any], *, expect: int = 302) -> Response:
    close_old_connections()
    try:
        # Browsers send Origin with a POST; over HTTPS the CSRF check needs it (or a Referer).
        response = client.post(path, data, secure=True, headers={"Origin": ORIGIN})
    finally:
        close_old_connections()
    _expect(response, "POST", path, expect)
    return response


def _expect(response: Response, method: str, path: str, status: int) -> None:
    if response.status_code != status:
        where = f" to {response['Location']}" if response.has_header("Location") else ""
        raise BenchError(
            f"{method} {path} answered {response.status_code}{where}, expected {status}: "
            f"{_snippet(response)}"
        )


def _snippet(response: Response) -> str:
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
    seeded = bench.seeded
    client = bench.client(seeded.filer_id)
    path = reverse("file_ticket")
    form = get(client, path)
    page = form.content.decode()
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
