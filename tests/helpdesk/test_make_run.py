"""`make run` on a fresh copy of the project: the demo comes up, serves the login page and its
static files, and Ctrl-C stops every process it started.

It runs on the embedded defaults (SQLite and the filesystem broker under the copy's ``var/``) and
reuses the installed virtualenv, so it needs neither services nor network. About 15-60 s.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need

REPO = Path(__file__).resolve().parents[2]
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
    "MAKEFLAGS",
    "MAKELEVEL",
    "MFLAGS",
)


def git_files(*args: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", *args], cwd=REPO, check=True, capture_output=True
    ).stdout
    return [name for name in listed.decode().split("\0") if name]


def copy_project(target: Path) -> None:
    """What a clone would hold, plus files not committed yet (and not ignored)."""
    names = git_files() + git_files("--others", "--exclude-standard")
    for name in dict.fromkeys(names):
        source = REPO / name
        if not source.is_file():  # deleted in the working tree but still in the index
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        # copy2 keeps the modification times, so make sees the copy as it sees the checkout.
        shutil.copy2(source, destination, follow_symlinks=False)


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


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    need(shutil.which("make") is not None, "make")
    need(shutil.which("git") is not None and (REPO / ".git").exists(), "A git checkout")
    folder = tmp_path / "helpdesk"
    copy_project(folder)
    yield folder
    # Whatever happened, leave no process of ours behind (by pid, only those run from the copy).
    for pid in processes_in(folder):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_make_run_serves_the_demo_and_stops_on_ctrl_c(project: Path, tmp_path: Path) -> None:
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
        assert "nurse.ed" in body  # the demo accounts box (DEBUG on by default)
        status, css = get(f"{base}/static/css/helpdesk.css")
        assert status == 200
        assert "--tap" in css
        # The embedded defaults, in the copy: SQLite and the filesystem broker under var/.
        assert (project / "var" / "helpdesk.sqlite3").is_file()
        assert (project / "var" / "broker" / "queue").is_dir()

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
