"""The "Who's on call" page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from oncall.selectors import on_call_board


@login_required
@require_GET
def who_is_on_call(request: HttpRequest) -> HttpResponse:
    """Every signed-in user may see it: nurses want to know whom to call."""
    rows = on_call_board(timezone.now())
    return render(request, "paging/on_call.html", {"rows": rows})
