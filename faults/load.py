"""The load: the people of a hospital using the help desk at once, driven by locust from Python.

* Nurses open the filing form (for its CSRF token) and send it, most about their own unit, some
  about the ED with patient care delayed (which pages the on-call technician at once).
* Technicians poll the queue fragment every 15 s (with If-None-Match, as the page does), claim
  unassigned tickets they see, reply to and resolve the ones they hold.
* Managers open the reports.
* An integration files through the API with an Idempotency-Key and, on an error or a timeout,
  sends the same request again with the same key, as its documentation asks.

Every filing the load got a success for is written to the ``Ledger``: the invariants check that
each is in the database exactly once. People are signed in with sessions made beforehand
(``Person.session_key``), so the load measures the help desk's work, not password hashing.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gevent
from locust import HttpUser, between, constant, task
from locust.env import Environment
from locust.stats import (
    RequestStats,
    calculate_response_time_percentile,
    diff_response_time_dicts,
)
from requests import RequestException
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from faults.ledger import Filing, Ledger

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_FILED = re.compile(r"/tickets/(\d+)/filed/")
_CLAIMABLE = re.compile(r'data-claim-url="([^"]+)"[^>]*>(?:(?!</tr>).)*claim-button', re.S)

FILE_FORM = "file: form"
FILE_POST = "file: POST form"
FILE_API = "file: POST API"
QUEUE_FRAGMENT = "queue: fragment poll"
FILING_NAMES = (FILE_POST, FILE_API)

# Once, for a GET only, on a connection that failed before any answer came.
KEEP_ALIVE_RETRY = Retry(total=1, connect=1, read=1, status=0, redirect=0, allowed_methods={"GET"})
# The integration's patience for one attempt, and how often it tries one filing.
API_TIMEOUT_SECONDS = 10.0
API_ATTEMPTS = 6


@dataclass(frozen=True, slots=True)
class Person:
    user_id: int
    session_key: str


@dataclass(frozen=True, slots=True)
class Place:
    location_id: int
    location_code: str
    department_code: str


@dataclass(frozen=True, slots=True)
class Cast:
    """Who uses the help desk during a run, and what they file about."""

    base_urls: tuple[str, ...]
    session_cookie: str
    nurses: tuple[Person, ...]
    technicians: tuple[Person, ...]
    managers: tuple[Person, ...]
    integration_token: str
    integration_user_id: int
    # What nurses file about: an ordinary place and category, and the ED with its category.
    ward: Place
    ward_category: tuple[int, str]  # (id, slug)
    emergency: Place
    emergency_category: tuple[int, str]
    resolution_code: str


@dataclass
class Shared:
    """What every simulated person reads: the cast, the ledger, and handing out identities."""

    cast: Cast
    ledger: Ledger
    emergency_share: float = 0.2
    _turns: dict[str, int] = field(default_factory=dict)

    def next_person(self, role: str, people: tuple[Person, ...]) -> tuple[Person, str]:
        turn = self._turns.get(role, 0)
        self._turns[role] = turn + 1
        base_urls = self.cast.base_urls
        # Round robin over the web instances: the load balancer a hospital puts in front.
        return people[turn % len(people)], base_urls[turn % len(base_urls)]


class _Signed(HttpUser):
    abstract = True
    shared: ClassVar[Shared]
    role: ClassVar[str] = ""

    def people(self) -> tuple[Person, ...]:
        raise NotImplementedError

    def on_start(self) -> None:
        person, base_url = self.shared.next_person(self.role, self.people())
        self.person = person
        self.client.base_url = base_url
        # A browser sends a GET again when the kept-alive connection it reused turns out closed
        # by the server (gunicorn closes idle ones after a few seconds): so do these people.
        self.client.mount("http://", HTTPAdapter(max_retries=KEEP_ALIVE_RETRY))
        host = base_url.split("://", 1)[1].split(":", 1)[0]
        self.client.cookies.set(self.shared.cast.session_cookie, person.session_key, domain=host)

    def csrf_from(self, path: str, name: str) -> str | None:
        with self.client.get(path, name=name, catch_response=True) as response:
            found = _CSRF_INPUT.search(response.text or "")
            if response.status_code != 200 or found is None:
                response.failure(f"{response.status_code} without a form")
                return None
            response.success()
            return str(found.group(1))

    def post_form(
        self, path: str, data: dict[str, str], *, name: str, then: Callable[[str], object]
    ) -> str | None:
        """POST without following the redirect; a success is a 302 whose Location passes."""
        with self.client.post(
            path, data=data, name=name, allow_redirects=False, catch_response=True
        ) as response:
            location = str(response.headers.get("Location", ""))
            if response.status_code == 302 and then(location):
                response.success()
                return location
            response.failure(f"{response.status_code} to {location or 'nowhere'}")
            return None


class Nurse(_Signed):
    role = "nurse"
    wait_time = between(2, 6)

    def people(self) -> tuple[Person, ...]:
        return self.shared.cast.nurses

    @task
    def file_ticket(self) -> None:
        cast = self.shared.cast
        token = self.csrf_from("/file/", FILE_FORM)
        if token is None:
            return
        emergency = random.random() < self.shared.emergency_share
        place = cast.emergency if emergency else cast.ward
        category = cast.emergency_category if emergency else cast.ward_category
        key = uuid.uuid4().hex
        data = {
            "csrfmiddlewaretoken": token,
            "category": str(category[0]),
            "title": "Epic frozen at triage" if emergency else "Label printer jams",
            "callback": "x4410",
            "location": str(place.location_id),
            "reporting_for": place.department_code,
            "care_delayed": "yes" if emergency else "no",
            "scope": "unit",
            "workaround": "no" if emergency else "yes",
            "description": "Spinning wheel, cannot chart. Restarted one PC, same."
            if emergency
            else "The printer at the nurses' station jams after one label since this morning.",
            "idempotency_key": key,
        }
        location = self.post_form("/file/", data, name=FILE_POST, then=_FILED.search)
        if location:
            found = _FILED.search(location)
            assert found is not None
            self.shared.ledger.add(
                Filing("form", self.person.user_id, key, int(found.group(1)), emergency)
            )


class BusyNurse(Nurse):
    """Files one ticket after another, with no pause: the capacity measure's load."""

    wait_time = constant(0)


class Technician(_Signed):
    """Polls the live queue every 15 s; now and then works a ticket."""

    role = "technician"
    wait_time = constant(15)

    def people(self) -> tuple[Person, ...]:
        return self.shared.cast.technicians

    def on_start(self) -> None:
        super().on_start()
        self.etag = ""
        self.token = self.csrf_from("/queue/", "queue: page")
        self.claimable: list[str] = []
        self.holding: list[int] = []

    @task
    def poll_and_work(self) -> None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        with self.client.get(
            "/queue/rows/", name=QUEUE_FRAGMENT, headers=headers, catch_response=True
        ) as response:
            if response.status_code not in (200, 304):
                response.failure(f"{response.status_code}")
                return
            response.success()
            self.etag = response.headers.get("ETag", self.etag)
            if response.status_code == 200:
                self.claimable = _CLAIMABLE.findall(response.text or "")
        if self.token is None or random.random() > 0.3:
            return
        if self.holding and random.random() < 0.5:
            self.finish(self.holding.pop(0))
        elif self.claimable:
            self.claim(self.claimable.pop(random.randrange(len(self.claimable))))

    def claim(self, claim_url: str) -> None:
        assert self.token is not None
        with self.client.post(
            claim_url,
            data={"csrfmiddlewaretoken": self.token},
            name="ticket: claim",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            # Someone else got there first: the queue says so and sends her back. Not an error.
            if response.status_code != 302:
                response.failure(f"{response.status_code}")
                return
            response.success()
        found = re.search(r"/tickets/(\d+)/", claim_url)
        if found:
            self.holding.append(int(found.group(1)))

    def finish(self, ticket_id: int) -> None:
        assert self.token is not None
        path = f"/tickets/{ticket_id}/"
        self.post_form(
            path,
            {"csrfmiddlewaretoken": self.token, "visibility": "reply", "text": "On my way."},
            name="ticket: reply",
            then=lambda location: True,
        )
        self.post_form(
            f"{path}resolve/",
            {
                "csrfmiddlewaretoken": self.token,
                "resolve-code": self.shared.cast.resolution_code,
                "resolve-note": "Restarted the service; working again.",
            },
            name="ticket: resolve",
            then=lambda location: True,
        )


class Manager(_Signed):
    role = "manager"
    wait_time = between(5, 15)
    reports = (
        "/reports/",
        "/reports/compliance/",
        "/reports/breaches/",
        "/reports/critical-areas/",
    )

    def people(self) -> tuple[Person, ...]:
        return self.shared.cast.managers

    @task
    def open_report(self) -> None:
        path = random.choice(self.reports)
        self.client.get(path, name=f"report: {path}")


class Integration(HttpUser):
    """A clinical system filing through the API; it retries a failure with the same key."""

    wait_time = between(1, 3)
    shared: ClassVar[Shared]

    def on_start(self) -> None:
        base_urls = self.shared.cast.base_urls
        self.client.base_url = random.choice(base_urls)
        self.client.headers["Authorization"] = f"Bearer {self.shared.cast.integration_token}"

    @task
    def file(self) -> None:
        cast = self.shared.cast
        emergency = random.random() < self.shared.emergency_share
        place = cast.emergency if emergency else cast.ward
        body: dict[str, Any] = {
            "category": (cast.emergency_category if emergency else cast.ward_category)[1],
            "title": "Interface feed stalled" if emergency else "Badge reader offline",
            "callback": "x5555",
            "location": place.location_code,
            "for_other_unit": True,
            "care_delayed": emergency,
            "scope": "unit",
            "workaround": not emergency,
            "description": "Raised by the monitoring system.",
        }
        key = uuid.uuid4().hex
        for attempt in range(API_ATTEMPTS):
            if attempt:
                self.shared.ledger.retried()
                gevent.sleep(min(2**attempt * 0.25, 4))
            try:
                with self.client.post(
                    "/api/tickets/",
                    json=body,
                    headers={"Idempotency-Key": key, "Accept": "application/json"},
                    name=FILE_API,
                    timeout=API_TIMEOUT_SECONDS,
                    catch_response=True,
                ) as response:
                    if response.status_code in (200, 201):
                        response.success()
                        ticket_id = int(response.json()["id"])
                        self.shared.ledger.add(
                            Filing("api", cast.integration_user_id, f"api:{key}", ticket_id,
                                   emergency)
                        )  # fmt: skip
                        return
                    response.failure(f"{response.status_code}")
            except RequestException:
                continue  # recorded by locust as a failure; try again with the same key


USER_CLASSES: tuple[type[HttpUser], ...] = (Nurse, Technician, Manager, Integration)


@dataclass(frozen=True, slots=True)
class Crowd:
    nurses: int
    technicians: int
    managers: int
    integrations: int

    @property
    def total(self) -> int:
        return self.nurses + self.technicians + self.managers + self.integrations


class Load:
    """One scenario's load: starts the crowd, keeps it running until ``stop()``."""

    def __init__(self, shared: Shared, crowd: Crowd) -> None:
        for cls in (*USER_CLASSES, BusyNurse):
            cls.shared = shared  # type: ignore[attr-defined]
        self.env = Environment(user_classes=list(USER_CLASSES), host=shared.cast.base_urls[0])
        self.runner = self.env.create_local_runner()
        self.crowd = crowd

    def start(self) -> None:
        counts = {
            Nurse.__name__: self.crowd.nurses,
            Technician.__name__: self.crowd.technicians,
            Manager.__name__: self.crowd.managers,
            Integration.__name__: self.crowd.integrations,
        }
        for cls in USER_CLASSES:
            cls.fixed_count = counts[cls.__name__]
        # Everyone arrives within five seconds.
        self.runner.start(self.crowd.total, spawn_rate=max(self.crowd.total / 5, 1))

    def stop(self) -> RequestStats:
        self.runner.quit()
        return self.env.stats


@dataclass(frozen=True, slots=True)
class Capacity:
    nurses: int
    filings_per_second: float
    p95_ms: float


def measure_capacity(shared: Shared, levels: tuple[int, ...], seconds: float) -> list[Capacity]:
    """Nurses filing back to back, more at each level, ``seconds`` each: the filings per second
    the web instances sustain, and at what p95."""
    BusyNurse.shared = shared
    found = []
    for level in levels:
        env = Environment(user_classes=[BusyNurse], host=shared.cast.base_urls[0])
        runner = env.create_local_runner()
        runner.start(level, spawn_rate=level)
        gevent.sleep(2)  # everyone arrived and has a form open
        env.stats.reset_all()
        gevent.sleep(seconds)
        entry = env.stats.get(FILE_POST, "POST")
        found.append(
            Capacity(level, entry.num_requests / seconds, entry.get_response_time_percentile(0.95))
        )
        runner.quit()
    return found


def filing_times(stats: RequestStats) -> dict[int, int]:
    """Every filing's response time so far (rounded ms -> count), form and API together."""
    times: dict[int, int] = {}
    for name in FILING_NAMES:
        for millis, count in stats.get(name, "POST").response_times.items():
            times[millis] = times.get(millis, 0) + count
    return times


def p95_between(before: dict[int, int], after: dict[int, int]) -> float:
    """The p95 of the filings answered between two ``filing_times`` snapshots."""
    window = diff_response_time_dicts(after, before)
    count = sum(window.values())
    return float(calculate_response_time_percentile(window, count, 0.95)) if count else 0.0


def max_between(before: dict[int, int], after: dict[int, int]) -> float | None:
    """The slowest filing answered between two ``filing_times`` snapshots (None: none was)."""
    window = diff_response_time_dicts(after, before)
    answered = [millis for millis, count in window.items() if count > 0]
    return float(max(answered)) if answered else None
