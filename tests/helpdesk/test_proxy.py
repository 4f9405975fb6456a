"""The client's address behind the reverse proxy: X-Forwarded-For counts only on connections from
a trusted proxy, so the sign-in lockout keys on the person's machine, neither on the proxy (one
lockout for the whole hospital) nor on whatever a client writes in a header."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from django.urls import reverse

from helpdesk.middleware import client_address
from tests.helpdesk.test_security import run_settings

pytestmark = pytest.mark.django_db

PROXY = "172.18.0.5"
WARD_PC = "10.20.4.17"
OTHER_WARD_PC = "10.20.9.30"


@pytest.fixture
def behind_proxy(settings) -> None:
    settings.TRUSTED_PROXIES = [ip_network("172.16.0.0/12")]


def sign_in(client, password: str, *, remote: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": "nurse.ed", "password": password}, **headers)


def test_a_spoofed_header_from_an_untrusted_client_does_not_dodge_the_lockout(client, nurse_ed):
    for n in range(5):
        sign_in(client, "wrong", remote=WARD_PC, forwarded=f"198.51.100.{n}")
    response = sign_in(client, "demo", remote=WARD_PC, forwarded="198.51.100.99")
    assert response.status_code == 429


def test_a_spoofed_header_cannot_lock_out_someone_else(client, nurse_ed):
    for _ in range(5):
        sign_in(client, "wrong", remote=WARD_PC, forwarded=OTHER_WARD_PC)
    assert sign_in(client, "demo", remote=OTHER_WARD_PC).status_code == 302


def test_behind_the_proxy_one_locked_out_machine_does_not_lock_out_the_others(
    client, nurse_ed, behind_proxy
):
    for _ in range(5):
        sign_in(client, "wrong", remote=PROXY, forwarded=WARD_PC)
    assert sign_in(client, "demo", remote=PROXY, forwarded=WARD_PC).status_code == 429
    assert sign_in(client, "demo", remote=PROXY, forwarded=OTHER_WARD_PC).status_code == 302


def test_behind_the_proxy_a_client_cannot_dodge_the_lockout_with_its_own_header(
    client, nurse_ed, behind_proxy
):
    """The proxy appends the address it saw; what the client wrote stays to its left."""
    for n in range(5):
        sign_in(client, "wrong", remote=PROXY, forwarded=f"198.51.100.{n}, {WARD_PC}")
    response = sign_in(client, "demo", remote=PROXY, forwarded=f"198.51.100.99, {WARD_PC}")
    assert response.status_code == 429


def test_without_trusted_proxies_the_connection_is_the_client(rf):
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=WARD_PC)
    assert client_address(request) == PROXY


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        (WARD_PC, WARD_PC),
        (f"198.51.100.1, {WARD_PC}", WARD_PC),
        # Two proxies in the trusted network, the nearest last.
        (f"{WARD_PC}, 172.18.0.9", WARD_PC),
        # IPv6 clients, written as the proxy writes them.
        ("2001:db8::7", "2001:db8::7"),
        # A proxy with nothing to add, or a hop that is not an address: the proxy is all we know.
        ("", PROXY),
        ("unknown", PROXY),
        ("172.18.0.9", "172.18.0.9"),
    ],
)
def test_behind_the_proxy_the_nearest_untrusted_hop_is_the_client(
    rf, behind_proxy, forwarded, expected
):
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_a_malformed_trusted_proxy_stops_start_up_with_a_message():
    result = run_settings(HELPDESK_TRUSTED_PROXIES="172.18.0.0/12,the-proxy")
    assert result.returncode != 0
    assert "HELPDESK_TRUSTED_PROXIES must list IP addresses or networks" in result.stderr
