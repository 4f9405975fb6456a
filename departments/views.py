"""Signing in, and the signed-in person's own pages: her account (details, where it comes from,
API tokens) and the one question about her unit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from departments.forms import SignInForm, UnitForm
from departments.models import ApiToken, Profile
from departments.oidc_views import sign_in_choices
from departments.roles import role_names
from departments.services import token_issue, token_revoke
from departments.units import after_sign_in

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


class SignInView(LoginView):
    """One form for local and directory accounts. A requester with no unit is asked for hers
    on the way to the page she was going to."""

    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(sign_in_choices(context.get("next", "")))
        return context

    def get_success_url(self) -> str:
        return after_sign_in(self.request.user, super().get_success_url())


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if safe else reverse("home")


@login_required
@require_http_methods(["GET", "POST"])
def choose_unit(request: HttpRequest) -> HttpResponse:
    """Asked once: her answer, or her "skip", is kept and she is not asked again."""
    profile, _created = Profile.objects.get_or_create(user=_user(request))
    form = UnitForm(request.POST or None)
    if request.method == "POST":
        if "skip" in request.POST:
            profile.unit_asked_at = timezone.now()
            profile.save(update_fields=["unit_asked_at"])
            return redirect(_next_url(request))
        if form.is_valid():
            profile.home_department = form.cleaned_data["department"]
            profile.unit_from_directory = False
            profile.unit_asked_at = timezone.now()
            profile.save(update_fields=["home_department", "unit_from_directory", "unit_asked_at"])
            messages.success(request, f"Your unit is {profile.home_department}.")
            return redirect(_next_url(request))
    return render(request, "account/unit.html", {"form": form, "next": _next_url(request)})


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
            _token, new_token = token_issue(user=user, name=form.cleaned_data["name"], actor=user)
            form = TokenForm()
    tokens = ApiToken.objects.filter(user=user).order_by("-created_at")
    profile = Profile.objects.filter(user=user).select_related("home_department").first()
    return render(
        request,
        "account/account.html",
        {
            "form": form,
            "tokens": tokens,
            "new_token": new_token,
            "profile": profile,
            "roles": sorted(role_names(user)),
        },
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    token = get_object_or_404(ApiToken, pk=pk, user=user, revoked_at__isnull=True)
    token_revoke(tokens=[token], actor=user)
    messages.success(request, f"Revoked {token.name}. Anything using it stops working now.")
    return redirect("account")
