"""Set up the provider's database: its tables, the help desk as a confidential client and the
people of the JSON file. Run by server.py as ``python -m`` before the server starts."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.departments.oidc_provider.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import get_application_model  # noqa: E402


def main(client_id: str, client_secret: str, redirect_uris: str) -> None:
    call_command("migrate", verbosity=0, interactive=False)
    Application = get_application_model()
    Application.objects.create(
        name="IT Help Desk",
        client_id=client_id,
        client_secret=client_secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uris,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    people = json.loads(Path(os.environ["OIDC_PROVIDER_PEOPLE"]).read_text())
    for username, person in people.items():
        User.objects.create_user(
            username,
            email=person["email"],
            password=person["password"],
            first_name=person["given_name"],
            last_name=person["family_name"],
        )


if __name__ == "__main__":
    main(*sys.argv[1:4])
