"""Settings as a start-up reads them from the environment: production (DJANGO_DEBUG=0), and the demo
`make run` starts (DJANGO_DEBUG=0 with HELPDESK_DEMO=1), each in a process of its own."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

# What the settings read and a developer's or CI's shell may hold.
READ_BY_SETTINGS = ("SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_BACKEND", "SECURE_SSL_REDIRECT")
PRINT_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "secret_key": settings.SECRET_KEY,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "secure_cookies": settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE,
    "email_backend": settings.EMAIL_BACKEND,
    "base_url": settings.HELPDESK["BASE_URL"],
    "oidc": settings.HELPDESK_OIDC,
    "local_sign_in": settings.HELPDESK["LOCAL_SIGN_IN"],
}))
"""
PRODUCTION = {"DJANGO_DEBUG": "0", "SECRET_KEY": "production-" + "k" * 50}
DEMO = {"DJANGO_DEBUG": "0", "HELPDESK_DEMO": "1"}


def start(var: Path, script: str = PRINT_SETTINGS, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "HELPDESK_")) and name not in READ_BY_SETTINGS
    }
    clean.update(env, HELPDESK_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="helpdesk.settings")
    return subprocess.run(
        [sys.executable, "-c", script],
        env=clean,
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.BASE_DIR,
    )


def settings_of(var: Path, **env: str) -> dict[str, Any]:
    started = start(var, **env)
    assert started.returncode == 0, started.stderr[-2000:]
    return dict(json.loads(started.stdout))


def test_a_demo_without_a_secret_key_makes_one_once_and_keeps_it_in_var(tmp_path):
    first = settings_of(tmp_path, **DEMO)
    again = settings_of(tmp_path, **DEMO)
    kept = tmp_path / "demo-secret-key"
    assert first["secret_key"] == again["secret_key"] == kept.read_text().strip()
    assert len(first["secret_key"]) >= 50
    assert not first["secret_key"].startswith("django-insecure")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # readable by its owner only
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith("demo-")] == [
        kept.name
    ]


def test_production_refuses_to_start_without_a_secret_key_even_beside_a_demo_key(tmp_path):
    settings_of(tmp_path, **DEMO)
    assert (tmp_path / "demo-secret-key").is_file()
    started = start(tmp_path, DJANGO_DEBUG="0")
    assert started.returncode != 0
    assert "SECRET_KEY must be set" in started.stderr


def test_a_demo_answers_on_this_machine_and_on_the_host_of_its_base_url(tmp_path):
    local = settings_of(tmp_path, **DEMO)
    assert {"127.0.0.1", "localhost", "[::1]"} <= set(local["allowed_hosts"])
    elsewhere = settings_of(tmp_path, **DEMO, HELPDESK_BASE_URL="http://demo.hospital.test:8080/")
    assert "demo.hospital.test" in elsewhere["allowed_hosts"]
    assert elsewhere["base_url"] == "http://demo.hospital.test:8080"


def test_production_answers_only_on_the_hosts_it_is_given(tmp_path):
    assert settings_of(tmp_path, **PRODUCTION)["allowed_hosts"] == []
    given = settings_of(tmp_path, **PRODUCTION, ALLOWED_HOSTS="helpdesk.hospital.org")
    assert given["allowed_hosts"] == ["helpdesk.hospital.org"]


def test_a_demo_on_plain_http_neither_redirects_to_https_nor_needs_secure_cookies(tmp_path):
    demo = settings_of(tmp_path, **DEMO, HELPDESK_BASE_URL="http://127.0.0.1:8123")
    assert demo["ssl_redirect"] is False
    assert demo["secure_cookies"] is False
    behind_tls = settings_of(tmp_path, **DEMO, HELPDESK_BASE_URL="https://demo.hospital.test")
    assert behind_tls["ssl_redirect"] is True
    assert behind_tls["secure_cookies"] is True


def test_production_redirects_to_https_and_keeps_cookies_secure(tmp_path):
    production = settings_of(tmp_path, **PRODUCTION, HELPDESK_BASE_URL="http://127.0.0.1:8000")
    assert production["ssl_redirect"] is True
    assert production["secure_cookies"] is True


def test_a_demo_prints_its_emails_in_the_terminal_and_production_sends_them(tmp_path):
    assert settings_of(tmp_path, **DEMO)["email_backend"].endswith("console.EmailBackend")
    assert settings_of(tmp_path, **PRODUCTION)["email_backend"].endswith("smtp.EmailBackend")


PRINT_SIGN_IN = """
import json
from django.conf import settings
print(json.dumps({
    "backends": settings.AUTHENTICATION_BACKENDS,
    "uri": settings.AUTH_LDAP_SERVER_URI,
    "roles": settings.HELPDESK_DIRECTORY["GROUP_ROLES"],
    "units": settings.HELPDESK_DIRECTORY["GROUP_UNITS"],
}))
"""
LDAP = {
    **DEMO,
    "HELPDESK_LDAP_SERVER_URI": "ldaps://dc1.hospital.org ldaps://dc2.hospital.org",
    "HELPDESK_LDAP_USER_SEARCH_BASE": "ou=Staff,dc=hospital,dc=org",
}


def sign_in_settings(var: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return start(var, PRINT_SIGN_IN, **env)


def test_without_a_directory_only_local_accounts_sign_in(tmp_path):
    started = sign_in_settings(tmp_path, **DEMO)
    assert started.returncode == 0, started.stderr[-2000:]
    assert "departments.directory.DirectoryBackend" not in json.loads(started.stdout)["backends"]


def test_a_directory_signs_in_after_local_accounts_and_the_lockout(tmp_path):
    started = sign_in_settings(
        tmp_path,
        **LDAP,
        HELPDESK_DIRECTORY_GROUP_ROLES="GRP-IT-SERVICEDESK=Technician, GRP-IT-MANAGERS=manager",
        HELPDESK_DIRECTORY_GROUP_UNITS="GRP-ED-NURSING=ED",
    )
    assert started.returncode == 0, started.stderr[-2000:]
    read = json.loads(started.stdout)
    assert read["backends"] == [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
        "departments.directory.DirectoryBackend",
        "departments.oidc.OidcBackend",
    ]
    assert read["uri"] == "ldaps://dc1.hospital.org ldaps://dc2.hospital.org"
    assert read["roles"] == {"GRP-IT-SERVICEDESK": "technician", "GRP-IT-MANAGERS": "manager"}
    assert read["units"] == {"GRP-ED-NURSING": "ED"}


def test_a_bad_directory_setting_stops_start_up_with_its_name(tmp_path):
    cases = {
        "HELPDESK_LDAP_SERVER_URI": {**LDAP, "HELPDESK_LDAP_SERVER_URI": "dc1.hospital.org"},
        "HELPDESK_LDAP_USER_SEARCH_BASE": {**LDAP, "HELPDESK_LDAP_USER_SEARCH_BASE": ""},
        "HELPDESK_LDAP_GROUP_TYPE": {**LDAP, "HELPDESK_LDAP_GROUP_TYPE": "posix"},
        "HELPDESK_LDAP_CA_FILE": {**LDAP, "HELPDESK_LDAP_CA_FILE": "/nowhere/ca.pem"},
        "HELPDESK_LDAP_ATTRIBUTES": {**LDAP, "HELPDESK_LDAP_ATTRIBUTES": "badge=employeeID"},
        "HELPDESK_DIRECTORY_GROUP_ROLES": {
            **DEMO,
            "HELPDESK_DIRECTORY_GROUP_ROLES": "GRP-IT=superuser",
        },
        "HELPDESK_DIRECTORY_GROUP_UNITS": {**DEMO, "HELPDESK_DIRECTORY_GROUP_UNITS": "GRP-ED"},
    }
    for name, env in cases.items():
        started = sign_in_settings(tmp_path, **env)
        assert started.returncode != 0, name
        assert name in started.stderr, started.stderr[-500:]


OIDC = {
    "HELPDESK_OIDC_ISSUER": "https://login.microsoftonline.com/7d1c-tenant/v2.0/",
    "HELPDESK_OIDC_CLIENT_ID": "9f3e-helpdesk",
    "HELPDESK_OIDC_CLIENT_SECRET": "client-secret-from-the-app-registration",
}


def test_single_sign_on_is_off_until_an_issuer_is_given(tmp_path):
    assert settings_of(tmp_path, **PRODUCTION)["oidc"] is None


def test_single_sign_on_reads_the_provider_and_its_claims_from_the_environment(tmp_path):
    oidc = settings_of(
        tmp_path,
        **PRODUCTION,
        **OIDC,
        HELPDESK_OIDC_USERNAME_CLAIM="upn",
        HELPDESK_LOCAL_SIGN_IN="0",
    )
    assert oidc["oidc"]["ISSUER"] == "https://login.microsoftonline.com/7d1c-tenant/v2.0"
    assert oidc["oidc"]["USERNAME_CLAIM"] == "upn"
    assert oidc["oidc"]["GROUPS_CLAIM"] == "groups"
    assert oidc["oidc"]["SCOPES"] == "openid email profile"
    assert oidc["local_sign_in"] is False


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({**OIDC, "HELPDESK_OIDC_CLIENT_SECRET": ""}, "HELPDESK_OIDC_CLIENT_SECRET must be set"),
        ({**OIDC, "HELPDESK_OIDC_ISSUER": "login.example.org"}, "HELPDESK_OIDC_ISSUER must be"),
        ({**OIDC, "HELPDESK_OIDC_SCOPES": "email profile"}, "must include openid"),
        ({**OIDC, "HELPDESK_OIDC_PROMPT": "always"}, "HELPDESK_OIDC_PROMPT must be"),
        (
            {**OIDC, "HELPDESK_OIDC_RECHECK_MINUTES": "ten"},
            "HELPDESK_OIDC_RECHECK_MINUTES must be a whole number",
        ),
        (
            {**OIDC, "HELPDESK_OIDC_RECHECK_MINUTES": "0"},
            "HELPDESK_OIDC_RECHECK_MINUTES must be at",
        ),
        ({"HELPDESK_LOCAL_SIGN_IN": "0"}, "HELPDESK_LOCAL_SIGN_IN=0 needs the hospital directory"),
    ],
)
def test_a_single_sign_on_setting_that_cannot_work_stops_the_start(tmp_path, env, complaint):
    started = start(tmp_path, **PRODUCTION, **env)
    assert started.returncode != 0
    assert complaint in started.stderr
