"""A stand-in for the Microsoft identity platform, for the OAuth2 mailbox tests: over HTTPS with a
certificate of the test CA, it publishes a tenant's OpenID configuration, issues access tokens
to a registered client (the client credentials grant, as msal asks for them) and answers the
mail server's token check (dovecot's oauth2 passdb, ``tokeninfo_url``) with the mailbox the
token is for."""

from __future__ import annotations

import json
import secrets
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

TENANT = "7d1c-tenant"
CLIENT_ID = "9f3e-helpdesk"
CLIENT_SECRET = "client-secret-from-the-app-registration"
SCOPE = "https://outlook.office365.com/.default"


class IdentityPlatform:
    def __init__(self, *, mailbox_user: str) -> None:
        self.mailbox_user = mailbox_user
        self.issued: set[str] = set()
        self.token_requests = 0
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def answer(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path.endswith("/.well-known/openid-configuration"):
                    self.answer(200, platform.configuration())
                elif url.path == "/tokeninfo":
                    token = parse_qs(url.query).get("access_token", [""])[0]
                    if token in platform.issued:
                        self.answer(200, {"email": platform.mailbox_user})
                    else:
                        self.answer(401, {"error": "invalid_token"})
                else:
                    self.answer(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path != f"/{TENANT}/oauth2/v2.0/token":
                    self.answer(404, {"error": "not_found"})
                    return
                platform.token_requests += 1
                if (
                    form.get("grant_type") != "client_credentials"
                    or form.get("client_id") != CLIENT_ID
                    or form.get("client_secret") != CLIENT_SECRET
                    or SCOPE not in form.get("scope", "").split()
                ):
                    self.answer(401, {"error": "invalid_client"})
                    return
                token = secrets.token_urlsafe(32)
                platform.issued.add(token)
                self.answer(
                    200, {"token_type": "Bearer", "expires_in": 3600, "access_token": token}
                )

        # Bound now, so that the mail server can be told where it is; served once the
        # certificate is there (``serve``).
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def serve(self, certificates: Path) -> None:
        """Serve over HTTPS with the certificate for 127.0.0.1 in ``certificates``."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread.start()

    @property
    def tokeninfo_url(self) -> str:
        return f"{self.base}/tokeninfo?access_token="

    def configuration(self) -> dict[str, object]:
        tenant = f"{self.base}/{TENANT}"
        return {
            "issuer": f"{tenant}/v2.0",
            "authorization_endpoint": f"{tenant}/oauth2/v2.0/authorize",
            "token_endpoint": f"{tenant}/oauth2/v2.0/token",
            "jwks_uri": f"{tenant}/discovery/v2.0/keys",
            "response_types_supported": ["code", "token"],
        }

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()
