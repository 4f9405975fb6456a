"""The signed-in person's own account page: their details and their API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from departments.models import ApiToken

MAX_ACTIVE_TOKENS = 10


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=80,
        label="What will use it?",
        help_text="For example: my phone's paging app.",
        error_messages={"required": "Name the token so you can tell it apart later."},
    )


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        if ApiToken.objects.active().filter(user=user).count() >= MAX_ACTIVE_TOKENS:
            form.add_error("name", f"You have {MAX_ACTIVE_TOKENS} tokens; revoke one first.")
        else:
            _token, new_token = ApiToken.issue(user=user, name=form.cleaned_data["name"])
            form = TokenForm()
    tokens = ApiToken.objects.filter(user=user).order_by("-created_at")
    return render(
        request, "account/account.html", {"form": form, "tokens": tokens, "new_token": new_token}
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=_user(request), revoked_at__isnull=True)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    messages.success(request, f"Revoked {token.name}. Anything using it stops working now.")
    return redirect("account")
