"""need(): which tests of a service run, skip or fail, as HELPDESK_REQUIRE_SERVICES says."""

from __future__ import annotations

import pytest

from tests.conftest import Services

SKIPPED = pytest.skip.Exception
FAILED = pytest.fail.Exception


def test_on_a_laptop_a_missing_service_skips_and_a_present_one_runs():
    laptop = Services.parse("")

    laptop.check(True, "PostgreSQL")
    with pytest.raises(SKIPPED, match="PostgreSQL is not available"):
        laptop.check(False, "PostgreSQL")


@pytest.mark.parametrize("raw", ["1", "all", " ALL "])
def test_when_every_service_is_required_a_missing_one_fails(raw: str):
    everything = Services.parse(raw)

    everything.check(True, "Redis")
    with pytest.raises(FAILED, match="Redis is required"):
        everything.check(False, "Redis")


def test_a_listed_service_must_be_there():
    embedded = Services.parse("chromium,git,make")

    embedded.check(True, "Chromium")
    embedded.check(True, "A git checkout")
    with pytest.raises(FAILED, match="Chromium is required"):
        embedded.check(False, "Chromium")
    with pytest.raises(FAILED, match="A git checkout is required"):
        embedded.check(False, "A git checkout")


def test_a_service_the_list_leaves_out_skips_even_when_it_is_running():
    embedded = Services.parse("chromium, make")

    with pytest.raises(SKIPPED, match="PostgreSQL is not part of this run"):
        embedded.check(True, "PostgreSQL")
    with pytest.raises(SKIPPED, match="Redis is not part of this run"):
        embedded.check(False, "Redis")
