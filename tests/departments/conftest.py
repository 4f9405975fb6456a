"""A real OpenLDAP directory for the sign-in tests: one slapd for the whole run (see
bench/slapd.py), pointed at by the settings of the tests that ask for ``directory``. Tests that
change the directory add people of their own, so they never disturb each other."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from bench.slapd import CAST, Directory, Person, running_directory, slapd_available
from core.reference_cache import forget_reference_rows
from helpdesk.settings import ldap_settings
from tests.conftest import need

MAPPING = {
    "GROUP_ROLES": {
        "GRP-ED-NURSING": "requester",
        "GRP-IT-SERVICEDESK": "technician",
        "GRP-IT-MANAGERS": "manager",
    },
    "GROUP_UNITS": {"GRP-ED-NURSING": "ED", "GRP-OR-NURSING": "OR"},
}
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def slapd() -> Iterator[Directory]:
    need(slapd_available(), "slapd (OpenLDAP server)")
    with running_directory() as directory:
        yield directory


@pytest.fixture(scope="session")
def slapd_tls() -> Iterator[Directory]:
    """Another directory, speaking StartTLS and LDAPS with a certificate of its own CA."""
    need(slapd_available(), "slapd (OpenLDAP server)")
    with running_directory(tls=True) as directory:
        yield directory


def point_at(settings, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Configure sign-in as the environment ``env`` would (HELPDESK_LDAP_*)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name, value in ldap_settings().items():
        setattr(settings, name, value)


@pytest.fixture
def directory(slapd, settings, monkeypatch, reference_data) -> Directory:
    point_at(settings, monkeypatch, slapd.env())
    settings.HELPDESK_DIRECTORY = MAPPING
    forget_reference_rows()
    return slapd


@pytest.fixture
def newcomer(directory: Directory) -> Person:
    """A person of this test's own in the directory: an ED nurse with a unique uid."""
    person = Person(
        f"new.nurse{next(_numbers)}", "welcome-1", "Nia", "Newcomer", "x5000", ("GRP-ED-NURSING",)
    )
    directory.add(person)
    return person


ERIN, TERRY, MORGAN, DANA = CAST
