"""The sign-in form: a wrong password says how many tries are left before the lockout; a
directory that does not answer says so."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.template.defaultfilters import pluralize

from departments.directory import DIRECTORY_DOWN, directory_unreachable
from departments.models import Department

LOCAL_PASSWORDS = "django.contrib.auth.backends.ModelBackend"


class SignInForm(AuthenticationForm):
    """Counts the failures django-axes records for this username from this address (the same
    count for a username that does not exist, so the message gives nothing away). With local
    sign-in switched off (HELPDESK_LOCAL_SIGN_IN=0), a help desk password signs in superusers
    only: the break-glass administrators for when the directory is down."""

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        checked_by = getattr(user, "backend", LOCAL_PASSWORDS)
        if (
            not settings.HELPDESK["LOCAL_SIGN_IN"]
            and checked_by == LOCAL_PASSWORDS
            and not getattr(user, "is_superuser", False)
        ):
            raise ValidationError(
                "Help desk passwords are switched off here: use “Sign in with "
                f"{settings.HELPDESK['HOSPITAL_NAME']}”.",
                code="local_sign_in_off",
            )

    def get_invalid_login_error(self) -> ValidationError:
        if directory_unreachable(self.request):
            return ValidationError(DIRECTORY_DOWN, code="directory_down")
        message = "Wrong username or password."
        if self.request is not None:
            credentials = {"username": self.cleaned_data.get("username")}
            failures = AxesProxyHandler.get_failures(self.request, credentials)
            left = get_failure_limit(self.request, credentials) - failures
            cool_off = get_cool_off(self.request)
            if left > 0:
                message += (
                    f" {left} tr{pluralize(left, 'y,ies')} left before this account is locked"
                )
                if cool_off is not None:
                    minutes = round(cool_off.total_seconds() / 60)
                    message += f" for {minutes} minute{pluralize(minutes)}"
                message += "."
        return ValidationError(message, code="invalid_login")


class UnitForm(forms.Form):
    department = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True).order_by("name"),
        label="Which unit do you work in?",
        help_text="Tickets you file start in this unit. You can file for any unit.",
        empty_label="Choose your unit",
        error_messages={"required": "Choose your unit, or skip this for now."},
    )
