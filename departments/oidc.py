"""Single sign-on with the hospital's OpenID Connect provider (Entra ID, Okta, Keycloak...).

mozilla-django-oidc runs the authorization code flow (state, nonce, PKCE); this module gives it
what it does not do by itself: the provider's endpoints from its discovery document (fetched at
the first sign-in, not at start-up, and kept in the shared cache), ID tokens checked in full with
PyJWT (signature against the provider's published keys, issuer, audience, expiry and issue time
with a little clock skew; a key id not seen before fetches the keys again, so a rotated key
works at once), the person provisioned from the claims by the one function every directory
sign-in goes through, back-channel logout tokens checked the same way, and the background check
that asks the provider about each signed-in person with her refresh token (kept encrypted).

Nothing here runs per request: the provider is consulted at sign-in, at back-channel logout and
by the beat's session check.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
import requests
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser, User
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from departments.models import OidcSession
from departments.services import (
    DirectoryAccountRefused,
    end_refused_session,
    provision_directory_user,
)

logger = logging.getLogger(__name__)

DISCOVERY_CACHE_SECONDS = 3600
BACK_CHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# A logout token is acted on once, and only while it is fresh.
LOGOUT_TOKEN_MAX_AGE_SECONDS = 300
SUBJECT_KEY = "oidc_subject"
PROVIDER_SESSION_KEY = "oidc_sid"
# The provider's refresh token, encrypted, from the token exchange to the OidcSession row.
REFRESH_IN_SESSION = "oidc_refresh"
# The session check asks about this many sessions at most per run, and stops asking after this
# many seconds (each request bounded by the timeout): a slow provider never holds the beat's
# worker for long, and what is left is asked about by the next run, a minute later.
RECHECK_BATCH = 200
RECHECK_BUDGET_SECONDS = 45
# OAuth errors about the help desk's registration or the provider itself, not about the person:
# nobody is signed out for them.
NOT_ABOUT_THE_PERSON = frozenset(
    {
        "invalid_client",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_request",
        "server_error",
        "temporarily_unavailable",
    }
)


NOT_THE_PROVIDERS_KEY = (
    "The sign-in was refused: it was not signed by a key the hospital's directory publishes. "
    "Sign in again; if it happens again, call the service desk."
)


class ProviderUnavailable(Exception):
    """The provider did not answer in time, or answered something that is not OpenID Connect."""


class SignInRefused(Exception):
    """A sign-in the help desk will not accept; ``str()`` is what the person is told."""


class TokenRefused(Exception):
    """The provider no longer vouches for the person of a session; ``str()`` is why, as a short
    code for the audit log and the log (an OAuth error code, ``subject_changed``...)."""


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    username_claim: str
    email_claim: str
    name_claim: str
    groups_claim: str
    department_claim: str
    phone_claim: str
    clock_skew_seconds: int
    timeout_seconds: int
    prompt: str

    @classmethod
    def from_settings(cls) -> OidcConfig | None:
        raw: dict[str, Any] | None = settings.HELPDESK_OIDC
        if not raw:
            return None
        return cls(**{key.lower(): value for key, value in raw.items()})


def oidc_config() -> OidcConfig | None:
    """The provider this installation signs in with, or None (no single sign-on)."""
    return OidcConfig.from_settings()


def _required_config() -> OidcConfig:
    config = oidc_config()
    if config is None:
        raise ProviderUnavailable("single sign-on is not configured")
    return config


def _get_json(url: str, timeout: int) -> dict[str, Any]:
    try:
        answer = requests.get(url, timeout=timeout)
        answer.raise_for_status()
        document = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"{url} did not answer with JSON: {type(exc).__name__}") from None
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url} did not answer with a JSON object")
    return document


def discovery(config: OidcConfig) -> dict[str, Any]:
    """The provider's ``.well-known/openid-configuration``, fetched once and kept in the shared
    cache for an hour; its issuer must be the configured one (OpenID Connect Discovery 4.3)."""
    key = f"oidc-discovery:{config.issuer}"
    document: dict[str, Any] | None = cache.get(key)
    if document is None:
        document = _get_json(
            f"{config.issuer}/.well-known/openid-configuration", config.timeout_seconds
        )
        missing = {"authorization_endpoint", "token_endpoint", "jwks_uri"} - document.keys()
        if document.get("issuer") != config.issuer or missing:
            raise ProviderUnavailable(
                f"the discovery document of {config.issuer} names issuer "
                f"{document.get('issuer')!r} and lacks {sorted(missing)}"
            )
        cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    return document


def endpoint(name: str) -> str:
    value = discovery(_required_config()).get(name, "")
    return str(value)


_key_sets: dict[tuple[str, float], jwt.PyJWKClient] = {}


def _signing_key(token: str, config: OidcConfig, *, refetch_cooldown: float) -> jwt.PyJWK:
    """The published key the token names. PyJWT's client keeps the key set in this process and
    fetches it again when the token names a key id it does not hold (a rotated key), at most
    once per ``refetch_cooldown`` seconds: an ID token comes from the provider's own token
    endpoint, so none there, but anyone can post a logout token naming a made-up key."""
    jwks_uri = endpoint("jwks_uri")
    client = _key_sets.get((jwks_uri, refetch_cooldown))
    if client is None:
        client = _key_sets[jwks_uri, refetch_cooldown] = jwt.PyJWKClient(
            jwks_uri,
            cache_keys=True,
            lifespan=DISCOVERY_CACHE_SECONDS,
            timeout=config.timeout_seconds,
            cooldown_duration=refetch_cooldown,
        )
    try:
        return client.get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError:
        raise ProviderUnavailable(f"{jwks_uri} did not answer") from None
    except (jwt.PyJWKClientError, jwt.DecodeError):
        raise SignInRefused(NOT_THE_PROVIDERS_KEY) from None


def _decode(
    token: str, config: OidcConfig, *, require: list[str], refetch_cooldown: float
) -> dict[str, Any]:
    """A token signed with RS256 by the provider, for this help desk, within its lifetime."""
    key = _signing_key(token, config, refetch_cooldown=refetch_cooldown)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=config.client_id,
            issuer=config.issuer,
            leeway=config.clock_skew_seconds,
            options={"require": require},
        )
    except jwt.InvalidSignatureError:
        logger.warning("OpenID Connect token refused: its signature does not match its key")
        raise SignInRefused(NOT_THE_PROVIDERS_KEY) from None
    except jwt.ExpiredSignatureError:
        raise SignInRefused(
            "The sign-in was refused: the directory's answer had expired. Check this "
            "computer's clock, then sign in again."
        ) from None
    except jwt.ImmatureSignatureError:
        raise SignInRefused(
            "The sign-in was refused: the directory's answer is dated in the future. Check "
            "this computer's clock, then sign in again."
        ) from None
    except jwt.InvalidTokenError as exc:
        logger.warning("OpenID Connect token refused: %s", type(exc).__name__)
        raise SignInRefused(
            "The sign-in was refused: the directory's answer did not check out. Sign in "
            "again; if it happens again, call the service desk."
        ) from None
    return claims


def verify_id_token(
    token: str, *, nonce: str | None, nonce_required: bool = True
) -> dict[str, Any]:
    """An ID token from the token endpoint; at sign-in it must carry the sign-in's nonce, after a
    refresh it need not (OpenID Connect Core 12.2)."""
    config = _required_config()
    claims = _decode(token, config, require=["iss", "aud", "exp", "iat", "sub"], refetch_cooldown=0)
    if nonce_required and (not nonce or claims.get("nonce") != nonce):
        logger.warning("OpenID Connect ID token refused: its nonce is not this sign-in's")
        raise SignInRefused(
            "The sign-in was refused: the directory's answer was not for this sign-in. "
            "Sign in again."
        )
    return claims


def verify_logout_token(token: str) -> dict[str, Any]:
    """A back-channel logout token (OpenID Connect Back-Channel Logout 1.0, 2.6): signed by the
    provider for this help desk, with the logout event, a subject or session id, no nonce,
    recent, and never seen before."""
    config = _required_config()
    claims = _decode(token, config, require=["iss", "aud", "iat", "jti"], refetch_cooldown=10)
    events = claims.get("events")
    if not isinstance(events, dict) or BACK_CHANNEL_LOGOUT_EVENT not in events:
        raise SignInRefused("the logout token carries no back-channel logout event")
    if "nonce" in claims:
        raise SignInRefused("a logout token must not carry a nonce")
    if not claims.get("sub") and not claims.get("sid"):
        raise SignInRefused("the logout token names neither a subject nor a session")
    oldest = time.time() - LOGOUT_TOKEN_MAX_AGE_SECONDS - config.clock_skew_seconds
    if not isinstance(claims["iat"], int | float) or claims["iat"] < oldest:
        raise SignInRefused("the logout token is too old")
    if not cache.add(f"oidc-logout-jti:{config.issuer}:{claims['jti']}", 1, 2 * 3600):
        raise SignInRefused("the logout token was already used")
    return claims


def claim(claims: dict[str, Any], name: str) -> Any:
    """A claim by name; a dotted name reads a nested claim (Keycloak's ``realm_access.roles``)."""
    if not name:
        return None
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _groups(value: Any) -> Collection[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def provision_from_claims(claims: dict[str, Any], config: OidcConfig) -> User:
    """Create or refresh the person the claims describe (departments.services), as a user
    signed in by the hospital's provider."""
    username = _text(claim(claims, config.username_claim))
    if not username:
        logger.warning("OpenID Connect sign-in without the %r claim", config.username_claim)
        raise SignInRefused(
            "The hospital's directory did not say who you are, so the help desk cannot sign "
            "you in. Call the service desk."
        )
    first_name = _text(claims.get("given_name"))
    last_name = _text(claims.get("family_name"))
    if not (first_name or last_name):
        first_name = _text(claim(claims, config.name_claim))
    try:
        return provision_directory_user(
            source="oidc",
            username=username,
            email=_text(claim(claims, config.email_claim)),
            first_name=first_name,
            last_name=last_name,
            phone=_text(claim(claims, config.phone_claim)),
            groups=_groups(claim(claims, config.groups_claim)),
            department_hint=_text(claim(claims, config.department_claim)),
        )
    except DirectoryAccountRefused as refusal:
        raise SignInRefused(
            f"{refusal} Sign in with your help desk password, or call the service desk."
        ) from None


class OidcBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, reading the provider's endpoints from discovery when a
    sign-in needs them (never when a signed-in page loads the user), checking ID tokens in full
    and provisioning through the directory's one function. It answers only the callback's
    ``authenticate(request, nonce=..., code_verifier=...)``, never a password form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.UserModel = User

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return library_setting(attr, *args)

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return endpoint("token_endpoint")

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return endpoint("userinfo_endpoint")

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return _required_config().client_id

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:
        return _required_config().client_secret

    def authenticate(
        self,
        request: HttpRequest | None,
        nonce: str | None = None,
        code_verifier: str | None = None,
    ) -> User | None:
        if request is None or oidc_config() is None:
            return None
        # Only this sign-in's refresh token is kept, never one an earlier attempt left.
        request.session.pop(REFRESH_IN_SESSION, None)
        try:
            user: User | None = super().authenticate(
                request, nonce=nonce, code_verifier=code_verifier
            )
        except requests.RequestException:
            raise ProviderUnavailable("the token or userinfo endpoint did not answer") from None
        return user

    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The token endpoint's answer; its refresh token, when the provider gives one, goes
        encrypted to the session until the sign-in is recorded (record_session)."""
        token_info: dict[str, Any] = super().get_token(payload)
        refresh_token = token_info.get("refresh_token")
        if isinstance(refresh_token, str) and refresh_token:
            self.request.session[REFRESH_IN_SESSION] = encrypt_token(refresh_token)
        return token_info

    def get_user(self, user_id: int) -> AbstractBaseUser | None:
        # Django's check, so that a deactivated (leaver's) account is signed out at once.
        return ModelBackend.get_user(self, user_id)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        return verify_id_token(token, nonce=kwargs.get("nonce"))

    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """The ID token's claims, completed by the userinfo endpoint's when the provider has
        one: Entra ID puts groups in the ID token only, Keycloak and Okta in both."""
        if not endpoint("userinfo_endpoint"):
            return payload
        userinfo: dict[str, Any] = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            raise SignInRefused(
                "The sign-in was refused: the directory described someone else. Sign in again."
            )
        return {**payload, **userinfo}

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User:
        claims = self.get_userinfo(access_token, id_token, payload)
        user = provision_from_claims(claims, _required_config())
        session = self.request.session
        session[SUBJECT_KEY] = str(payload["sub"])
        session[PROVIDER_SESSION_KEY] = str(payload.get("sid", ""))
        return user


def library_setting(attr: str, *args: Any) -> Any:
    """mozilla-django-oidc's settings, from HELPDESK_OIDC and the discovery document."""
    config = _required_config()
    from_config = {
        "OIDC_RP_CLIENT_ID": config.client_id,
        "OIDC_RP_CLIENT_SECRET": config.client_secret,
        "OIDC_RP_SCOPES": config.scopes,
        "OIDC_TIMEOUT": config.timeout_seconds,
        "OIDC_AUTH_REQUEST_EXTRA_PARAMS": {"prompt": config.prompt} if config.prompt else {},
    }
    if attr in from_config:
        return from_config[attr]
    return import_from_settings(attr, *args)


def record_session(request: HttpRequest) -> None:
    """Remember which provider subject and session the signed-in session belongs to, for a
    back-channel logout to find it, and the provider's refresh token (encrypted) for the
    session check to ask with."""
    subject = request.session.pop(SUBJECT_KEY, "")
    provider_session = request.session.pop(PROVIDER_SESSION_KEY, "")
    refresh_token = request.session.pop(REFRESH_IN_SESSION, "")
    key = request.session.session_key
    if subject and key:
        OidcSession.objects.update_or_create(
            session_id=key,
            defaults={
                "subject": subject,
                "provider_session": provider_session,
                "refresh_token": refresh_token,
                "checked_at": timezone.now(),
            },
        )


def end_sessions(claims: dict[str, Any]) -> int:
    """End the help desk sessions a logout token names: the provider's session when it names
    one, else every session of the subject. Returns how many ended."""
    sid = claims.get("sid")
    sub = claims.get("sub")
    named = Q(provider_session=sid) if sid else Q(subject=sub)
    if sid and sub:
        named &= Q(subject=sub)
    keys = OidcSession.objects.filter(named).values("session_id")
    _, deleted = Session.objects.filter(session_key__in=keys).delete()
    return deleted.get("sessions.Session", 0)


def _fernet() -> MultiFernet:
    """Refresh tokens are encrypted with a key derived from SECRET_KEY; a token encrypted under
    one of SECRET_KEY_FALLBACKS still decrypts while the fallback is listed."""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(
                    salted_hmac(
                        "departments.oidc.refresh_token", "", secret=key, algorithm="sha256"
                    ).digest()
                )
            )
            for key in keys
        ]
    )


def encrypt_token(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def decrypt_token(stored: str) -> str | None:
    """The clear token, or None when it no longer decrypts (SECRET_KEY changed)."""
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        return None


@dataclass
class SessionCheck:
    asked: int = 0
    kept: int = 0
    ended: int = 0
    undecryptable: int = 0
    unreachable: bool = False


def _error_code(value: Any) -> str:
    """An OAuth error code as the provider sent it, when it looks like one (it is logged)."""
    return value if isinstance(value, str) and re.fullmatch(r"[a-z_]{1,40}", value) else ""


def _refresh(token_url: str, refresh_token: str, config: OidcConfig) -> dict[str, Any]:
    """The provider's answer to a refresh_token grant: its new tokens. Raises TokenRefused when
    it refuses the person, ProviderUnavailable when it does not answer, answers 5xx, or refuses
    for a reason that is not about her (the help desk's registration)."""
    try:
        answer = requests.post(
            token_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": config.client_id,
                "client_secret": config.client_secret,
            },
            timeout=config.timeout_seconds,
        )
    except requests.RequestException as exc:
        raise ProviderUnavailable(f"{token_url} did not answer: {type(exc).__name__}") from None
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.status_code == 200 and isinstance(body, dict):
        return body
    error = _error_code(body.get("error") if isinstance(body, dict) else None)
    if answer.status_code in (400, 401) and error and error not in NOT_ABOUT_THE_PERSON:
        raise TokenRefused(error)
    raise ProviderUnavailable(f"{token_url} answered {answer.status_code} {error}".rstrip())


def _check_session(
    key: str, subject: str, token_url: str, config: OidcConfig, result: SessionCheck
) -> None:
    """Ask the provider about one (claimed) session: keep its rotated refresh token, or end it.
    The token is read now, not with the list of sessions due: another run may have rotated it
    since."""
    stored = OidcSession.objects.filter(pk=key).values_list("refresh_token", flat=True).first()
    if not stored:
        return
    refresh_token = decrypt_token(stored)
    if refresh_token is None:
        OidcSession.objects.filter(pk=key).update(refresh_token="")
        result.undecryptable += 1
        return
    result.asked += 1
    try:
        tokens = _refresh(token_url, refresh_token, config)
        rotated = tokens.get("refresh_token")
        # Kept before anything else can fail: the provider may have revoked the old one.
        if isinstance(rotated, str) and rotated and rotated != refresh_token:
            OidcSession.objects.filter(pk=key).update(refresh_token=encrypt_token(rotated))
        id_token = tokens.get("id_token")
        if isinstance(id_token, str) and id_token:
            try:
                claims = verify_id_token(id_token, nonce=None, nonce_required=False)
            except SignInRefused:
                raise TokenRefused("id_token_refused") from None
            if str(claims.get("sub")) != subject:
                raise TokenRefused("subject_changed")
    except TokenRefused as refused:
        end_refused_session(key, reason=str(refused))
        result.ended += 1
        return
    result.kept += 1


def check_oidc_sessions(*, limit: int = RECHECK_BATCH) -> SessionCheck:
    """Ask the provider, with each live single sign-on session's refresh token, whether it still
    vouches for the person, for the sessions not asked about for HELPDESK_OIDC_RECHECK_MINUTES
    (oldest first, ``limit`` at most): a refusal ends the session (on the audit log). Each row
    is claimed by a conditional UPDATE first, so two beats never ask about one session at once.
    A provider that does not answer changes nothing: the run stops, and the next asks again."""
    result = SessionCheck()
    config = oidc_config()
    if config is None:
        return result
    now = timezone.now()
    stale = now - timedelta(minutes=settings.HELPDESK_OIDC_RECHECK_MINUTES)
    due: list[tuple[str, datetime, str]] = list(
        OidcSession.objects.filter(checked_at__lt=stale, session__expire_date__gt=now)
        .exclude(refresh_token="")
        .order_by("checked_at")
        .values_list("session_id", "checked_at", "subject")[:limit]
    )
    if not due:
        return result
    deadline = time.monotonic() + RECHECK_BUDGET_SECONDS
    try:
        token_url = endpoint("token_endpoint")
        for key, checked_at, subject in due:
            if time.monotonic() > deadline:
                break
            if not OidcSession.objects.filter(pk=key, checked_at__lt=stale).update(checked_at=now):
                continue  # another run has it
            try:
                _check_session(key, subject, token_url, config, result)
            except ProviderUnavailable:
                # Not asked after all: the next run asks about it first.
                OidcSession.objects.filter(pk=key, checked_at=now).update(checked_at=checked_at)
                raise
    except ProviderUnavailable as exc:
        result.unreachable = True
        logger.warning(
            "The OpenID Connect provider did not answer the session check; nothing changed, "
            "the next run asks again: %s",
            exc,
        )
    if result.undecryptable:
        logger.warning(
            "%d single sign-on session(s) hold a refresh token that no longer decrypts "
            "(SECRET_KEY changed): the idle sign-out or a back-channel logout ends them",
            result.undecryptable,
        )
    logger.info(
        "Single sign-on session check: %d asked, %d kept, %d ended",
        result.asked,
        result.kept,
        result.ended,
    )
    return result
