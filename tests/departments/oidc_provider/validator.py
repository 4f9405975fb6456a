"""The provider's claims: each person's directory attributes, read from the JSON file the tests
write (so a test can move someone to another group between two sign-ins), and the ID token
mischief a test asked for (views.py); refresh grants are counted, and refused to a person
switched off."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from jwcrypto import jwk, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator

from tests.departments.oidc_provider import state


def directory_claims(username: str) -> dict[str, Any]:
    """The groups, department, phone... the directory holds for ``username`` now."""
    people: dict[str, dict[str, Any]] = json.loads(
        Path(os.environ["OIDC_PROVIDER_PEOPLE"]).read_text()
    )
    claims: dict[str, Any] = people.get(username, {}).get("claims", {})
    return claims


class DirectoryValidator(OAuth2Validator):
    # Every claim goes into the ID token and userinfo, whatever the scopes, as Entra ID does
    # with its groups claim.
    oidc_claim_scope = None

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "preferred_username": user.username,
            "email": user.email,
            "name": f"{user.first_name} {user.last_name}".strip(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            **directory_claims(user.username),
        }

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        state.count_refresh()
        valid: bool = super().validate_refresh_token(
            refresh_token, client, request, *args, **kwargs
        )
        # A person switched off in the directory gets no new tokens, as Entra ID and Okta do.
        return valid and request.user.is_active

    def finalize_id_token(self, id_token: Any, token: Any, token_handler: Any, request: Any) -> str:
        signed: str = super().finalize_id_token(id_token, token, token_handler, request)
        mode = state.take_mischief()
        if not mode:
            return signed
        real_key = request.client.jwk_key
        claims = json.loads(jwt.JWT(jwt=signed, key=real_key).claims)
        key = real_key
        if mode == "forged":
            # Signed by a key the provider never published, under the published key's id.
            key = jwk.JWK.generate(kty="RSA", size=2048)
        elif mode == "expired":
            claims["iat"] = int(time.time()) - 3600
            claims["exp"] = int(time.time()) - 600
        elif mode == "skewed":
            # The provider's clock a minute ahead of the help desk's.
            claims["iat"] = int(time.time()) + 60
        elif mode == "wrong-audience":
            claims["aud"] = "another-application"
        header = {"typ": "JWT", "alg": "RS256", "kid": real_key.thumbprint()}
        token_out = jwt.JWT(header=header, claims=claims)
        token_out.make_signed_token(key)
        return str(token_out.serialize())
