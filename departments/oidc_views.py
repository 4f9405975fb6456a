"""Single sign-on's endpoints: mozilla-django-oidc's start and callback views reading the
provider from discovery and telling the person why a sign-in was refused, the provider's
back-channel logout, and what the sign-in page offers."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from departments.oidc import (
    ProviderUnavailable,
    SignInRefused,
    end_sessions,
    endpoint,
    library_setting,
    oidc_config,
    record_session,
    verify_logout_token,
)
from departments.units import after_sign_in

logger = logging.getLogger(__name__)

# Set in the (anonymous) session a sign-out leaves behind: the next single sign-on from this
# browser asks the provider for the password again, so that on a shared workstation "Not you?
# Switch user" cannot sign the next nurse in as the last one through the provider's session.
SIGNED_OUT_HERE = "oidc_signed_out_here"

NOT_ANSWERING = (
    "The hospital's sign-in service is not answering. Try again in a minute, or call the "
    "service desk."
)


def sign_in_choices(next_url: str) -> dict[str, str]:
    """What the sign-in page offers: ``sso_url``, the "Sign in with <hospital>" link (empty
    without single sign-on), and ``password_form``: "shown", or, where single sign-on is the
    only way in for staff (local passwords switched off, no LDAP), "break_glass": folded away,
    for the administrators who keep a local account for when the directory is down."""
    if oidc_config() is None:
        return {"sso_url": "", "password_form": "shown"}
    sso_url = reverse("oidc_authentication_init")
    if next_url:
        sso_url += "?" + urlencode({"next": next_url})
    staff_use_passwords = settings.HELPDESK["LOCAL_SIGN_IN"] or settings.AUTH_LDAP_SERVER_URI
    return {"sso_url": sso_url, "password_form": "shown" if staff_use_passwords else "break_glass"}


def _back_to_sign_in(request: HttpRequest, message: str) -> HttpResponse:
    messages.error(request, message)
    return HttpResponseRedirect(reverse("login"))


class OidcStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider with a fresh state, nonce and PKCE challenge."""

    def __init__(self, **kwargs: Any) -> None:
        # The library reads the provider's endpoint here; it is read in get(), where a provider
        # that does not answer can be told to the person.
        View.__init__(self, **kwargs)

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return library_setting(attr, *args)

    def get(self, request: HttpRequest) -> HttpResponse:
        config = oidc_config()
        if config is None:
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = endpoint("authorization_endpoint")
        except ProviderUnavailable as exc:
            logger.warning("OpenID Connect provider unavailable: %s", exc)
            return _back_to_sign_in(request, NOT_ANSWERING)
        self.OIDC_RP_CLIENT_ID = config.client_id
        response: HttpResponse = super().get(request)
        return response

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        params: dict[str, str] = dict(super().get_extra_params(request))
        if request.session.pop(SIGNED_OUT_HERE, False):
            params["prompt"] = "login"
        return params


class SignOutView(auth_views.LogoutView):
    """Signs out of the help desk only; with single sign-on, the next sign-in from this browser
    asks the provider for the password again."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        if oidc_config() is not None:
            request.session[SIGNED_OUT_HERE] = True
        return response


class OidcCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back: the library checks the state, exchanges the
    code (with the PKCE verifier) and the backend checks the ID token and provisions the
    person. Every refusal ends on the sign-in page with a sentence saying what to do, and
    without a session."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return library_setting(attr, *args)

    @property
    def failure_url(self) -> str:
        return reverse("login")

    @property
    def success_url(self) -> str:
        # A requester the directory gave no unit is asked for hers once, on her way.
        return after_sign_in(self.request.user, super().success_url)

    def get(self, request: HttpRequest) -> HttpResponse:
        if oidc_config() is None:
            raise Http404
        try:
            response: HttpResponse = super().get(request)
        except SignInRefused as refused:
            return _back_to_sign_in(request, str(refused))
        except ProviderUnavailable as exc:
            logger.warning("OpenID Connect provider unavailable: %s", exc)
            return _back_to_sign_in(request, NOT_ANSWERING)
        except SuspiciousOperation:
            # The library's refusal of a state this browser's session never issued.
            logger.warning("OpenID Connect callback with an unknown state")
            return _back_to_sign_in(
                request,
                "This sign-in was not started on this computer, or was already used. "
                "Sign in again.",
            )
        return response

    def login_success(self) -> HttpResponse:
        response: HttpResponse = super().login_success()
        record_session(self.request)
        return response

    def login_failure(self) -> HttpResponse:
        user = getattr(self, "user", None)
        error = self.request.GET.get("error", "")
        if user is not None and not user.is_active:
            message = "This account is switched off in the help desk. Call the service desk."
        elif re.fullmatch(r"[a-z_]{1,40}", error):
            message = f"The hospital's directory did not sign you in ({error}). Sign in again."
        else:
            message = "The sign-in did not complete. Sign in again."
        return _back_to_sign_in(self.request, message)


@csrf_exempt
@require_POST
def back_channel_logout(request: HttpRequest) -> HttpResponse:
    """The provider's word that a person signed out there (or was switched off): her help desk
    sessions end. OpenID Connect Back-Channel Logout 1.0: 200 when done, 400 with a reason when
    the logout token is refused."""
    if oidc_config() is None:
        raise Http404
    try:
        claims = verify_logout_token(request.POST.get("logout_token", ""))
    except SignInRefused as refused:
        logger.warning("Back-channel logout refused: %s", refused)
        return JsonResponse(
            {"error": "invalid_request", "error_description": str(refused)}, status=400
        )
    except ProviderUnavailable as exc:
        logger.warning("Back-channel logout: provider unavailable: %s", exc)
        return JsonResponse({"error": "temporarily_unavailable"}, status=503)
    ended = end_sessions(claims)
    logger.info("Back-channel logout ended %d help desk session(s)", ended)
    return HttpResponse(status=200)
