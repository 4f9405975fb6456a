"""Celery tasks of the departments app (the worker's autodiscovery imports this module)."""

from __future__ import annotations

from celery import shared_task

from departments.directory import check_directory_leavers
from departments.oidc import RECHECK_BUDGET_SECONDS, check_oidc_sessions


# A hospital's thousands of accounts take longer than the default limits of a task.
@shared_task(
    name="departments.tasks.check_directory_leavers",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=3600,
    time_limit=3660,
)
def check_directory_leavers_task() -> None:
    """Nightly: the directory's leavers lose their access (see departments.directory)."""
    check_directory_leavers()


# Bounded by its own budget; the limits are a little above it.
@shared_task(
    name="departments.tasks.check_oidc_sessions",
    ignore_result=True,
    soft_time_limit=RECHECK_BUDGET_SECONDS + 30,
    time_limit=RECHECK_BUDGET_SECONDS + 45,
)
def check_oidc_sessions_task() -> None:
    """Every minute: single sign-on sessions whose person the provider now refuses end (see
    departments.oidc)."""
    check_oidc_sessions()
