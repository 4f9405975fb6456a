"""Thirty slow or half-open clients cannot freeze the help desk: not gunicorn as `make run` starts
it (no proxy in front), and not the compose stack, through nginx with the repository's own
configuration. Real processes on free loopback ports, the test's own database.

Each slow client is one of the two an attack run found: a connection that sends half a request
head and stops, or a pooled client whose PATCH was answered early (before its body was read) and
which then reuses the connection, so its next request is read as the rest of that body.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.db import connection

from core.management.commands.run_stack import web_command
from tests.conftest import DATABASE_SERVER, need
from tests.helpdesk.test_make_run import free_port

REPO = Path(__file__).resolve().parents[2]
NGINX_TEMPLATES = REPO / "deploy" / "nginx" / "templates"
SLOW_CLIENTS = 30
SERVED_WITHIN = 1.0  # seconds
START_DEADLINE = 60.0

HALF_HEAD = b"GET /healthz/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slo"
EARLY_ANSWERED_PATCH = (
    b"PATCH /api/tickets/1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100000\r\n\r\n"
)
NEXT_REQUEST = b"GET /healthz/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def get(
    port: int, path: str = "/healthz/", timeout: float = SERVED_WITHIN
) -> http.client.HTTPResponse:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    client.request("GET", path, headers={"Connection": "close"})
    response = client.getresponse()
    response.read()
    client.close()
    return response


def wait_until_serving(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if get(port, timeout=2).status == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"the server did not answer in {START_DEADLINE:.0f}s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_until_serving(port, process, log)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def slow_clients(port: int) -> Iterator[list[socket.socket]]:
    """Open the slow clients and keep them open (and silent) until the block ends."""
    clients: list[socket.socket] = []
    try:
        early: list[socket.socket] = []
        for number in range(SLOW_CLIENTS):
            client = socket.create_connection(("127.0.0.1", port), timeout=5)
            clients.append(client)
            if number % 2:
                client.sendall(EARLY_ANSWERED_PATCH)
                early.append(client)
            else:
                client.sendall(HALF_HEAD)
        # gunicorn answers the PATCH without reading its body; the pooled client then sends its
        # next request on the same connection. (nginx waits for the body and answers nothing.)
        waiting = set(early)
        deadline = time.monotonic() + 2
        while waiting and time.monotonic() < deadline:
            readable, _, _ = select.select(list(waiting), [], [], 0.1)
            for client in readable:
                waiting.discard(client)
                if client.recv(65536):
                    client.sendall(NEXT_REQUEST)
        yield clients
    finally:
        for client in clients:
            client.close()


def another_client_is_served(port: int) -> bool:
    started = time.monotonic()
    try:
        response = get(port)
    except (OSError, http.client.HTTPException):
        return False
    return response.status == 200 and time.monotonic() - started < SERVED_WITHIN


@pytest.fixture
def server_env(tmp_path: Path, django_db_setup: None) -> dict[str, str]:
    """The environment of a developer's `make run`, on this test's database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GUNICORN_")}
    database = connection.settings_dict
    if database["ENGINE"].endswith("postgresql"):
        # The server itself, as a developer's machine has it, even while the suite's own
        # connections go through PgBouncer (make test-pgbouncer).
        server = DATABASE_SERVER
        user, password = server["USER"] or "", server["PASSWORD"] or ""
        credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
        host = f"{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}"
        env["DATABASE_URL"] = f"postgres://{credentials}{host}/{database['NAME']}"
    else:  # the in-memory test database cannot be shared; a file of its own serves /healthz/
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'slow-clients.sqlite3'}"
    env["HELPDESK_VAR_DIR"] = str(tmp_path / "var")
    env["DJANGO_DEBUG"] = "1"
    return env


def test_make_run_serves_another_client_while_thirty_slow_ones_hang_on(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    with (
        running(web_command("127.0.0.1", port), server_env, port, tmp_path / "web.log"),
        slow_clients(port),
    ):
        assert another_client_is_served(port), "a client waited more than a second"
        assert another_client_is_served(port)


def test_threaded_workers_facing_clients_directly_are_frozen_by_them(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    """Why `make run` does not use the threaded worker: the same slow clients freeze it, as they
    froze the app before (8 threads). One process holds the 8 threads here, so that which process
    happens to accept the probe cannot hide it. Behind nginx it is fine again, see below."""
    port = free_port()
    env = {
        **server_env,
        "GUNICORN_WORKER_CLASS": "gthread",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "8",
    }
    with (
        running(web_command("127.0.0.1", port), env, port, tmp_path / "web.log"),
        slow_clients(port),
    ):
        assert not another_client_is_served(port)


def test_the_server_header_does_not_name_gunicorn(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    with running(web_command("127.0.0.1", port), server_env, port, tmp_path / "web.log"):
        for path in ("/healthz/", "/no-such-page/"):
            server = get(port, path, timeout=10).getheader("Server", "")
            assert server == "helpdesk", path
        # A head gunicorn itself refuses (400) does not name it either.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n")
            answer = client.recv(65536)
        assert answer.startswith(b"HTTP/1.1 400")
        assert b"gunicorn" not in answer.lower()


@pytest.mark.django_db
def test_make_run_leaves_no_database_connection_open_after_its_requests(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    """Each gevent request has a greenlet of its own, so a connection kept for reuse would only
    pile up (one per request) until PostgreSQL refuses more."""
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL's connections")
    port = free_port()

    def others() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [connection.settings_dict["NAME"]],
            )
            return int(cursor.fetchone()[0])

    before = others()  # connections of this test run's own (a live server's, another test's)
    with running(web_command("127.0.0.1", port), server_env, port, tmp_path / "web.log"):
        for _ in range(30):
            assert get(port, timeout=10).status == 200
        deadline = time.monotonic() + 5
        while others() > before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert others() <= before


# through nginx with the repository's configuration ------------------------------------------


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    need(bool(found), "nginx")
    return found


def render_nginx(folder: Path, values: dict[str, str]) -> Path:
    """What the official image's entrypoint does (envsubst of the defined variables into
    conf.d/), into ``folder``, wrapped in a main configuration that runs without root's paths."""
    conf_d = folder / "conf.d"
    conf_d.mkdir(parents=True)
    for template in NGINX_TEMPLATES.glob("*.template"):
        text = re.sub(r"\$\{(\w+)\}", lambda m: values.get(m[1], m[0]), template.read_text())
        (conf_d / template.name.removesuffix(".template")).write_text(
            text.replace("/etc/nginx/conf.d/", f"{conf_d}/")
        )
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = folder / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\npid {folder / 'nginx.pid'};\n"
        + f"error_log {folder / 'error.log'} warn;\n"
        + "events { worker_connections 512; }\n"
        + f"http {{\n    access_log off;\n{temp}\n    include {conf_d / 'default.conf'};\n}}\n"
    )
    return main


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_gives_nginx_every_variable_of_its_templates_and_publishes_only_nginx() -> None:
    services = compose()["services"]
    used = {
        name
        for template in NGINX_TEMPLATES.glob("*.template")
        for name in re.findall(r"\$\{(\w+)\}", template.read_text())
    }
    assert used <= set(services["proxy"]["environment"])
    assert [name for name, service in services.items() if service.get("ports")] == ["proxy"]
    site = services["proxy"]["environment"]["HELPDESK_PROXY_SITE"]
    assert site.startswith("${HELPDESK_PROXY_SITE:-https}")


def test_through_nginx_another_client_is_served_while_thirty_slow_ones_hang_on(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    nginx = nginx_binary()
    web_port, proxy_port = free_port(), free_port()
    environment = compose()["services"]["proxy"]["environment"]
    config = render_nginx(
        tmp_path / "nginx",
        {
            **{key: str(value) for key, value in environment.items()},
            "HELPDESK_UPSTREAM": f"127.0.0.1:{web_port}",
            "HELPDESK_PROXY_SITE": "http",
            "HELPDESK_HTTP_PORT": str(proxy_port),
            "HELPDESK_MAX_BODY_SIZE": "12m",
        },
    )
    # gunicorn as compose runs it behind the proxy: the threaded worker.
    env = {**server_env, "GUNICORN_WORKER_CLASS": "gthread"}
    proxy = [nginx, "-p", str(config.parent), "-c", str(config), "-g", "daemon off;"]
    with (
        running(web_command("127.0.0.1", web_port), env, web_port, tmp_path / "web.log"),
        running(proxy, server_env, proxy_port, tmp_path / "nginx.log"),
    ):
        response = get(proxy_port, "/healthz/", timeout=10)
        assert response.status == 200
        assert response.getheader("Server") == "nginx"  # no version, no gunicorn
        with slow_clients(proxy_port):
            assert another_client_is_served(proxy_port), "a client waited more than a second"
            assert another_client_is_served(proxy_port)


def test_nginx_serves_tls_with_a_mounted_certificate_and_redirects_plain_http(
    tmp_path: Path,
) -> None:
    nginx = nginx_binary()
    need(shutil.which("openssl") is not None, "openssl")
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(certs / "privkey.pem"),
         "-out", str(certs / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    http_port, https_port = free_port(), free_port()
    config = render_nginx(
        tmp_path / "nginx",
        {
            "HELPDESK_UPSTREAM": f"127.0.0.1:{free_port()}",  # nobody there: 502 is enough
            "HELPDESK_PROXY_SITE": "https",
            "HELPDESK_HTTP_PORT": str(http_port),
            "HELPDESK_HTTPS_PORT": str(https_port),
            "HELPDESK_MAX_BODY_SIZE": "12m",
        },
    )
    for site in config.parent.glob("conf.d/*"):
        site.write_text(site.read_text().replace("/etc/nginx/certs/", f"{certs}/"))
    command = [nginx, "-p", str(config.parent), "-c", str(config), "-g", "daemon off;"]
    with (tmp_path / "nginx.log").open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redirect = get(http_port, "/tickets/mine/?status=open", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "nginx.log").read_text()
                time.sleep(0.1)
        assert redirect.status == 301
        assert redirect.getheader("Location") == "https://127.0.0.1/tickets/mine/?status=open"
        context = ssl.create_default_context(cafile=str(certs / "fullchain.pem"))
        context.check_hostname = False
        secure = http.client.HTTPSConnection("127.0.0.1", https_port, timeout=5, context=context)
        secure.request("GET", "/healthz/")
        response = secure.getresponse()
        assert response.status == 502  # TLS served; the app behind it is simply not running
        assert response.getheader("Server") == "nginx"
        secure.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
