"""Run the whole help desk in the foreground: web (gunicorn), a Celery worker and Celery beat.

This is what `make run` ends with. Ctrl-C (or SIGTERM) stops every process it started.
`web_command` is also what tests/core/test_run_stack.py starts, so it measures the server
`make run` runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

GUNICORN_CONFIG = settings.BASE_DIR / "gunicorn.conf.py"
DEMO_ACCOUNTS = [
    ("nurse.ed", "ED nurse: files tickets from the Emergency Department"),
    ("nurse.or", "OR nurse: files tickets from Perioperative Services"),
    ("nurse.medsurg", "Med-Surg nurse"),
    ("tech", "technician: Service Desk, Clinical Applications, Field Services"),
    ("tech2", "technician: Network & Telecom, Imaging, Interfaces, Biomed"),
    ("manager", "IT service manager"),
    ("admin", "administrator (also /admin/)"),
]


def web_command(host: str, port: int) -> list[str]:
    """Gunicorn with the production settings (gunicorn.conf.py): its worker is one that slow or
    half-open connections cannot freeze, since no proxy stands in front of `make run`."""
    return [
        sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG),
        "--bind", f"{host}:{port}", "helpdesk.wsgi:application",
    ]  # fmt: skip


class Command(BaseCommand):
    help = "Run the web app, a Celery worker and Celery beat until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        host: str = options["host"]
        if not 0 < port < 65536:
            raise CommandError(f"PORT must be between 1 and 65535, not {port}")
        python = sys.executable
        processes = {
            "web": web_command(host, port),
            "worker": [
                python, "-m", "celery", "-A", "helpdesk", "worker",
                "--loglevel", "INFO", "--concurrency", "2", "--without-gossip",
                "--without-mingle", "--hostname", f"worker-{port}@%h",
            ],
            "beat": [
                python, "-m", "celery", "-A", "helpdesk", "beat", "--loglevel", "INFO",
                "--schedule", str(settings.VAR_DIR / f"celerybeat-schedule-{port}"),
            ],
        }  # fmt: skip
        children: dict[str, subprocess.Popen[bytes]] = {}
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for name, command in processes.items():
            # Own process groups: the terminal's Ctrl-C reaches only this command, which then
            # stops each child in order and waits for it.
            children[name] = subprocess.Popen(command, start_new_session=True)  # noqa: S603

        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.stdout.write(
            self.style.SUCCESS(f"\nThe help desk is running at http://{host}:{port}/\n")
            + f"Database: {database}; broker: {settings.CELERY_BROKER_URL.split('://')[0]}\n"
            + "Demo accounts (password: demo):\n"
            + "".join(f"  {user:<14} {role}\n" for user, role in DEMO_ACCOUNTS)
            + "Try a workstation link: "
            + f"http://{host}:{port}/file/?ws=WOW-ED-07\n"
            + "Press Ctrl-C to stop.\n"
        )
        # Shown at once even when the output goes to a pipe or a log file.
        self.stdout.flush()
        exit_code = 0
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with {child.returncode}; stopping.")
                        exit_code = 1
                        stopping = True
                time.sleep(0.5)
        finally:
            self._stop_all(children)
        if exit_code:
            raise CommandError("a process of the help desk stopped unexpectedly")
        self.stdout.write("Stopped.")

    def _stop_all(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        for child in children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
