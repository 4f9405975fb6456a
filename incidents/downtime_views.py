"""Planned downtime pages: "Upcoming downtimes" for everyone signed in (her units' and the
hospital-wide ones), and IT's list, schedule, edit and cancel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from departments.roles import is_it_staff
from incidents.downtime import (
    DowntimeInvalid,
    downtime_cancel,
    downtime_edit,
    downtime_schedule,
    hospital_tz,
)
from incidents.downtime_forms import DowntimeForm, form_initial
from incidents.downtime_selectors import (
    downtime_board,
    downtime_visible_to,
    upcoming_downtimes,
)
from incidents.models import PlannedDowntime


def _signed_in(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _it_staff(request: HttpRequest) -> User:
    """Scheduling is IT's; to anyone else these pages do not exist."""
    user = _signed_in(request)
    if not is_it_staff(user):
        raise Http404
    return user


def _downtime_for(user: User, pk: int) -> PlannedDowntime:
    downtime = downtime_visible_to(user, pk)
    if downtime is None:
        raise Http404
    return downtime


@login_required
@require_GET
def upcoming(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    now = timezone.now()
    return render(
        request,
        "incidents/downtime/upcoming.html",
        {
            "downtimes": list(upcoming_downtimes(user, now=now)),
            "now": now,
            "time_zone": hospital_tz().key,
        },
    )


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _signed_in(request)
    return render(
        request,
        "incidents/downtime/detail.html",
        {
            "downtime": _downtime_for(user, pk),
            "now": timezone.now(),
            "time_zone": hospital_tz().key,
        },
    )


@login_required
@require_GET
def manage(request: HttpRequest) -> HttpResponse:
    _it_staff(request)
    now = timezone.now()
    return render(
        request,
        "incidents/downtime/manage.html",
        {"board": downtime_board(now=now), "now": now, "time_zone": hospital_tz().key},
    )


def _form_page(
    request: HttpRequest, form: DowntimeForm, downtime: PlannedDowntime | None
) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "downtime": downtime}
    return render(
        request, "incidents/downtime/form.html", context, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def schedule(request: HttpRequest) -> HttpResponse:
    user = _it_staff(request)
    if request.method != "POST":
        return _form_page(request, DowntimeForm(), None)
    form = DowntimeForm(request.POST)
    if form.is_valid() and form.notice is not None:
        try:
            downtime = downtime_schedule(notice=form.notice, by=user)
        except DowntimeInvalid as invalid:
            form.add_service_errors(invalid)
        else:
            kind = "Drill recorded" if downtime.is_drill else "Downtime scheduled"
            messages.success(request, f"{kind}: {downtime.service}.")
            return redirect("downtime:manage")
    return _form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _it_staff(request)
    downtime = _downtime_for(user, pk)
    if request.method != "POST":
        return _form_page(request, DowntimeForm(initial=form_initial(downtime)), downtime)
    form = DowntimeForm(request.POST)
    if form.is_valid() and form.notice is not None:
        try:
            changed = downtime_edit(downtime_id=downtime.pk, notice=form.notice, by=user)
        except DowntimeInvalid as invalid:
            form.add_service_errors(invalid)
        else:
            messages.success(request, f"Downtime changed: {changed.service}.")
            return redirect("downtime:manage")
    return _form_page(request, form, downtime)


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = _it_staff(request)
    downtime = _downtime_for(user, pk)
    try:
        downtime_cancel(downtime_id=downtime.pk, by=user)
    except DowntimeInvalid as invalid:
        messages.error(request, str(invalid))
    else:
        messages.success(request, f"Downtime cancelled: {downtime.service}. Its notice is gone.")
    return redirect("downtime:manage")
