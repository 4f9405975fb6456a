"""Test controls of the provider: the next ID token's mischief, a key rotation, a back-channel
logout sent to the relying party the way a provider sends it, a person switched off, an outage
of the token endpoint, and how many refresh grants were asked for."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from jwcrypto import jwk, jwt
from oauth2_provider.models import get_application_model, get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from tests.departments.oidc_provider import state


@csrf_exempt
@require_POST
def mischief(request: HttpRequest) -> HttpResponse:
    state.set_mischief(request.POST["mode"])
    return JsonResponse({"mode": request.POST["mode"]})


@csrf_exempt
@require_POST
def rotate(request: HttpRequest) -> HttpResponse:
    """A new signing key; the old one leaves the JWKS at once."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    oauth2_settings.OIDC_RSA_PRIVATE_KEY = pem
    oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE = []
    return JsonResponse({"kid": jwk.JWK.from_pem(pem.encode()).thumbprint()})


@csrf_exempt
@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    """Switch ``username`` off in the directory; ``revoke=1`` also revokes her refresh tokens,
    as an administrator's "revoke sessions" does."""
    user = User.objects.get(username=request.POST["username"])
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked = 0
    if request.POST.get("revoke"):
        for token in get_refresh_token_model().objects.filter(user=user, revoked__isnull=True):
            token.revoke()
            revoked += 1
    return JsonResponse({"revoked": revoked})


@csrf_exempt
@require_POST
def reset(request: HttpRequest) -> HttpResponse:
    """Everyone switched on again, no token given out before still valid, no outage."""
    User.objects.update(is_active=True)
    get_refresh_token_model().objects.all().delete()
    state.set_outage(False)
    return JsonResponse({})


@csrf_exempt
@require_POST
def outage(request: HttpRequest) -> HttpResponse:
    """``on=1``: the token endpoint answers 503 until ``on=0``."""
    state.set_outage(request.POST.get("on") == "1")
    return JsonResponse({"outage": state.in_outage()})


class TokenEndpointOutage:
    """Middleware: the token endpoint answers 503 while a test has an outage on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if state.in_outage() and request.path.endswith("/token/"):
            return JsonResponse({"error": "temporarily_unavailable"}, status=503)
        return self.get_response(request)


def refreshes(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"refreshes": state.refreshes()})


@csrf_exempt
@require_POST
def backchannel_logout(request: HttpRequest) -> HttpResponse:
    """POST a logout token for ``username`` to the relying party's ``endpoint`` (or, with
    none, answer it); ``forged=1`` signs it with a key the provider never published."""
    user = User.objects.get(username=request.POST["username"])
    application = get_application_model().objects.get()
    key = jwk.JWK.from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY.encode())
    now = int(time.time())
    claims = {
        "iss": oauth2_settings.OIDC_ISS_ENDPOINT,
        "aud": application.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
        "sub": str(user.pk),
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
    }
    claims.update(json.loads(request.POST.get("extra", "{}")))
    header = {"typ": "logout+jwt", "alg": "RS256", "kid": key.thumbprint()}
    token = jwt.JWT(header=header, claims=claims)
    signer = jwk.JWK.generate(kty="RSA", size=2048) if request.POST.get("forged") else key
    token.make_signed_token(signer)
    if not request.POST["endpoint"]:
        return JsonResponse({"token": token.serialize()})
    answer = requests.post(
        request.POST["endpoint"], data={"logout_token": token.serialize()}, timeout=10
    )
    return JsonResponse({"status": answer.status_code, "body": answer.text})
