"""Start the test provider on a free port, in a process of its own (gunicorn, one worker, so a
key rotation or a mischief set by a test is seen by the next request), and talk to it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parents[3]
CLIENT_ID = "helpdesk-test"
CLIENT_SECRET = "helpdesk-test-secret-" + "s" * 24
PASSWORD = "directory-secret"

# The directory's people: what the provider signs them in with, and the claims it gives.
PEOPLE: dict[str, dict[str, Any]] = {
    "nora.nurse": {
        "given_name": "Nora",
        "family_name": "Lindqvist",
        "email": "nora.lindqvist@lakeside.example",
        "claims": {
            "groups": ["GRP-ED-NURSING", "GRP-ALL-STAFF"],
            "department": "Emergency Department",
            "phone_number": "x4411",
        },
    },
    "ivan.it": {
        "given_name": "Ivan",
        "family_name": "Okafor",
        "email": "ivan.okafor@lakeside.example",
        "claims": {"groups": ["GRP-IT-SERVICEDESK"], "phone_number": "x4357"},
    },
    # No mapped group, but a department the mapping knows.
    "olga.periop": {
        "given_name": "Olga",
        "family_name": "Brandt",
        "email": "olga.brandt@lakeside.example",
        "claims": {"groups": ["GRP-ALL-STAFF"], "department": "Perioperative Services"},
    },
    "nobody.mapped": {
        "given_name": "Nadia",
        "family_name": "Unmapped",
        "email": "nadia.unmapped@lakeside.example",
        "claims": {"groups": ["GRP-ALL-STAFF"]},
    },
    # The same username as the help desk's local break-glass administrator.
    "admin": {
        "given_name": "Directory",
        "family_name": "Admin",
        "email": "admin@lakeside.example",
        "claims": {"groups": ["GRP-IT-SERVICEDESK"]},
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OidcProvider:
    """``issuer``, ``client_id`` and ``client_secret`` are what the help desk is configured
    with; ``set_claims`` changes what the directory says of a person from the next token on."""

    def __init__(self, folder: Path, redirect_uris: list[str]) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.url}/o"
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.password = PASSWORD
        self.people_file = folder / "people.json"
        self.reset()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_file = folder / "signing-key.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DJANGO_SETTINGS_MODULE": "tests.departments.oidc_provider.settings",
            "OIDC_PROVIDER_DB": str(folder / "provider.sqlite3"),
            "OIDC_PROVIDER_ISSUER": self.issuer,
            "OIDC_PROVIDER_KEY": str(key_file),
            "OIDC_PROVIDER_PEOPLE": str(self.people_file),
        }
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.departments.oidc_provider.seed",
                CLIENT_ID,
                CLIENT_SECRET,
                " ".join(redirect_uris),
            ],
            env=self.env,
            cwd=folder,
            check=True,
        )
        self.log = (folder / "provider.log").open("w")
        # In its own folder: gunicorn would otherwise read the help desk's gunicorn.conf.py.
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "tests.departments.oidc_provider.wsgi",
            ],
            env=self.env,
            cwd=folder,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_answering()

    def _wait_until_answering(self) -> None:
        # Gunicorn listens before its worker has loaded the project: on a busy machine the
        # first answers take seconds.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the test provider stopped: {self.log_text()}")
            try:
                requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"the test provider did not answer: {self.log_text()}")

    def log_text(self) -> str:
        self.log.flush()
        return (self.folder / "provider.log").read_text()[-4000:]

    def reset(self) -> None:
        """The directory as PEOPLE says, whatever an earlier test changed."""
        self.people = json.loads(json.dumps(PEOPLE))
        for person in self.people.values():
            person["password"] = PASSWORD
        self._write_people()
        if hasattr(self, "process"):
            # Everyone switched on again.
            requests.post(f"{self.url}/test/reset/", timeout=30).raise_for_status()

    def _write_people(self) -> None:
        self.people_file.write_text(json.dumps(self.people))

    def set_claims(self, username: str, **claims: Any) -> None:
        self.people[username]["claims"].update(claims)
        self._write_people()

    def subject_of(self, username: str) -> str:
        """The ``sub`` the provider gives ``username``: its user id, in the seeding order."""
        return str(list(PEOPLE).index(username) + 1)

    def next_id_token(self, mode: str) -> None:
        """``forged``, ``expired``, ``skewed`` or ``wrong-audience``: the next ID token only."""
        requests.post(f"{self.url}/test/mischief/", data={"mode": mode}, timeout=5)

    def rotate_key(self) -> str:
        answer = requests.post(f"{self.url}/test/rotate/", timeout=30)
        kid: str = answer.json()["kid"]
        return kid

    def disable(self, username: str, *, revoke_tokens: bool = False) -> None:
        """Switch ``username`` off at the provider: it refuses her refresh grants from now on
        (and, with ``revoke_tokens``, has revoked her refresh tokens)."""
        requests.post(
            f"{self.url}/test/disable/",
            data={"username": username, "revoke": "1" if revoke_tokens else ""},
            timeout=30,
        ).raise_for_status()

    def outage(self, on: bool) -> None:
        """The token endpoint answers 503 (``on``), or as it should again."""
        requests.post(
            f"{self.url}/test/outage/", data={"on": "1" if on else "0"}, timeout=30
        ).raise_for_status()

    def refreshes(self) -> int:
        """How many refresh_token grants the provider was asked for since it started."""
        count: int = requests.get(f"{self.url}/test/refreshes/", timeout=30).json()["refreshes"]
        return count

    def back_channel_logout(
        self, username: str, endpoint: str = "", *, forged: bool = False, **extra: Any
    ) -> dict[str, Any]:
        """The provider's logout token for ``username``, POSTed to ``endpoint`` (its answer's
        ``status`` and ``body`` returned) or, without one, returned as ``token``; ``extra``
        claims are added or replace the provider's."""
        answer = requests.post(
            f"{self.url}/test/backchannel-logout/",
            data={
                "username": username,
                "endpoint": endpoint,
                "forged": "1" if forged else "",
                "extra": json.dumps(extra),
            },
            timeout=30,
        )
        result: dict[str, Any] = answer.json()
        return result

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def provider_redirect(client: Any, provider: OidcProvider, username: str, start: Any) -> str:
    """Sign ``username`` in at the provider the way a browser would, from the help desk's
    redirect ``start`` (a test client response); returns the help desk callback URL (path and
    query) the provider sends the browser back to."""
    browser = requests.Session()
    authorize = start["Location"]
    assert authorize.startswith(provider.issuer), authorize
    # The provider sends a browser it does not know to its sign-in page, with where to go next.
    login_page = browser.get(authorize, timeout=10)
    next_path = parse_qs(urlsplit(login_page.url).query)["next"][0]
    answer = browser.post(
        login_page.url,
        data={
            "username": username,
            "password": provider.password,
            "next": next_path,
            "csrfmiddlewaretoken": browser.cookies["provider_csrf"],
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:500]
    answer = browser.get(
        f"{provider.url}{answer.headers['Location']}", allow_redirects=False, timeout=10
    )
    callback: str = answer.headers["Location"]
    assert callback.startswith("http://testserver/oidc/callback/"), callback
    return callback.removeprefix("http://testserver")


def sign_in_with_test_client(client: Any, provider: OidcProvider, username: str) -> Any:
    """The whole sign-in through Django's test client: the help desk's start, the provider,
    the callback. Returns the callback's response."""
    callback = provider_redirect(client, provider, username, client.get("/oidc/start/"))
    return client.get(callback)
