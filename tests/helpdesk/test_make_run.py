"""`make run` on a fresh copy of the project: the demo comes up as production runs (DEBUG off, the
product's 404 page, collected static files with far-future caching) with the demo data in it, its
links point at the port it runs on, and Ctrl-C stops every process it started.

It runs on the embedded defaults (SQLite and the filesystem broker under the copy's ``var/``) and
reuses the installed virtualenv, so it needs neither services nor network. About 15-60 s.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need
from tests.helpdesk.checkout import copy_project, need_a_checkout

START_DEADLINE = 180.0  # seconds: migrate a fresh SQLite, seed the demo, start gunicorn
STOP_DEADLINE = 60.0
POLL = 0.5
# What a developer's shell does not have: the test runner's own settings and the services CI
# points the suite at. Without them `make run` falls back to SQLite and the filesystem broker.
NOT_A_USERS_ENVIRONMENT = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "HELPDESK_VAR_DIR",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_DEBUG",
    "HELPDESK_DEMO",
    "HELPDESK_BASE_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "MAKEFLAGS",
    "MAKELEVEL",
    "MFLAGS",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def processes_in(folder: Path) -> list[int]:
    """Processes running from the copy, whatever their session: run_stack starts gunicorn and
    Celery in sessions of their own, so they are not in make's process group."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:  # gone, a zombie, or not ours to look at
            continue
        if cwd == folder or folder in cwd.parents:
            found.append(int(entry.name))
    return found


def tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# Straight to 127.0.0.1, whatever http_proxy the environment sets.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str) -> tuple[int, str]:
    with DIRECT.open(url, timeout=5) as response:
        return response.status, response.read().decode()


class Browser:
    """Just enough of a browser for the demo over plain HTTP: cookies, CSRF tokens, no proxy."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def open(
        self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        # Always the demo on 127.0.0.1 that this test started.
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def csrf_cookie(self) -> str:
        return next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken")

    def sign_in(self, username: str) -> None:
        _, _, page = self.open("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:2000]
        form = {"username": username, "password": "demo", "csrfmiddlewaretoken": token[1]}
        status, _, page = self.open("/accounts/login/", urllib.parse.urlencode(form).encode())
        assert status == 200, page[:2000]
        assert "Sign in" not in page, f"{username} could not sign in"

    def post_json(self, path: str, payload: dict[str, object]) -> tuple[int, str]:
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.csrf_cookie()}
        status, _, body = self.open(path, json.dumps(payload).encode(), headers)
        return status, body


def check_the_demo_runs_as_production(base: str, login_page: str) -> None:
    # Demo data on: the login page offers the demo accounts.
    assert "nurse.ed" in login_page
    # Static files are the collected ones, under hashed names cached for a year by browsers.
    stylesheet = re.search(r'href="(/static/css/helpdesk\.[0-9a-f]{12}\.css)"', login_page)
    assert stylesheet, "the login page does not link the collected, hashed stylesheet"
    browser = Browser(base)
    status, headers, css = browser.open(stylesheet[1])
    assert status == 200
    assert "--tap" in css
    assert "max-age=315360000" in headers["Cache-Control"]
    assert "immutable" in headers["Cache-Control"]
    # DEBUG off: an address nothing answers gives the product's page, not Django's technical one.
    status, _, page = browser.open("/no-such-page/")
    assert status == 404
    assert "There is nothing here, or it is not yours to see." in page
    assert "URLconf" not in page
    browser.sign_in("nurse.ed")
    status, _, page = browser.open("/tickets/987654321/")
    assert status == 404
    assert "There is nothing here, or it is not yours to see." in page


def file_a_p1_in_the_emergency_department(base: str) -> str:
    """Care stopped in several units of the ED: the on-call is paged at once. The ticket's
    number, to find its page in the terminal."""
    browser = Browser(base)
    browser.sign_in("nurse.ed")
    status, body = browser.post_json(
        "/api/tickets/",
        {
            "category": "ehr",
            "title": "Epic frozen on all triage PCs",
            "callback": "x4100",
            "location": "WOW-ED-07",
            "care_delayed": True,
            "scope": "several",
            "workaround": False,
        },
    )
    assert status == 201, body
    ticket = json.loads(body)
    assert ticket["priority"] == 1, ticket
    return str(ticket["number"])


def wait_for_page(log: Path, number: str, timeout: float = 60.0) -> str:
    """The console channel's line for the ticket: the demo's pager is the terminal."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if "PAGE " in line and f": {number} " in line:
                return line
        time.sleep(POLL)
    pytest.fail(f"no page for {number} within {timeout:.0f} s:\n{tail(log)}")


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    need(shutil.which("make") is not None, "make")
    need_a_checkout()
    folder = tmp_path / "helpdesk"
    copy_project(folder)
    yield folder
    # Whatever happened, leave no process of ours behind (by pid, only those run from the copy).
    for pid in processes_in(folder):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_make_run_serves_the_demo_as_production_and_stops_on_ctrl_c(
    project: Path, tmp_path: Path
) -> None:
    venv = Path(sys.prefix)
    assert (venv / "bin" / "python").exists(), f"run the suite from the project's venv, not {venv}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in NOT_A_USERS_ENVIRONMENT}
    log = tmp_path / "make-run.log"
    command = [
        "make",
        # The virtualenv is installed already: treat its stamp as up to date, install nothing.
        "-o",
        f"{venv}/.installed",
        "run",
        f"VENV={venv}",
        f"PORT={port}",
    ]
    with log.open("wb") as output:
        proc = subprocess.Popen(
            command,
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives a command
        )
    group = proc.pid
    try:
        # Wait for the login page, watching that `make run` has not given up meanwhile.
        deadline = time.monotonic() + START_DEADLINE
        last_error = "no answer yet"
        while True:
            try:
                status, body = get(f"{base}/accounts/login/")
            except (urllib.error.URLError, OSError) as error:
                last_error = repr(error)
            else:
                if status == 200:
                    break
                last_error = f"HTTP {status}"
            try:
                proc.wait(timeout=POLL)
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"no login page at {base} within {START_DEADLINE:.0f} s ({last_error}); "
                        f"`make run` said:\n{tail(log)}"
                    )
            else:
                pytest.fail(f"`make run` exited with {proc.returncode}:\n{tail(log)}")

        assert "Sign in" in body
        check_the_demo_runs_as_production(base, body)
        # Links in pages point at the port the demo runs on.
        number = file_a_p1_in_the_emergency_department(base)
        assert f"Ack: {base}/" in wait_for_page(log, number)
        # The embedded defaults, in the copy: SQLite and the filesystem broker under var/, and
        # the demo's signing key kept there (never committed).
        assert (project / "var" / "helpdesk.sqlite3").is_file()
        assert (project / "var" / "broker" / "queue").is_dir()
        assert (project / "var" / "demo-secret-key").is_file()

        # Ctrl-C, as a terminal sends it: SIGINT to the whole foreground process group.
        os.killpg(group, signal.SIGINT)
        try:
            proc.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`make run` did not stop within {STOP_DEADLINE:.0f} s:\n{tail(log)}")
        printed = log.read_text(errors="replace")
        # make re-raises the SIGINT it got after its recipe finished: -2 here, 130 via a shell.
        assert proc.returncode in (0, -signal.SIGINT, 128 + signal.SIGINT), printed[-3000:]
        assert f"The help desk is running at {base}/" in printed
        assert "nurse.ed" in printed
        assert "Stopped." in printed  # run_stack stopped its children itself
        assert not listening(port)
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)
        assert processes_in(project) == [], f"left running:\n{tail(log)}"
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            proc.wait()
