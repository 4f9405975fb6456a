"""A small OpenID Connect provider (django-oauth-toolkit, RS256) the sign-in tests run in a process
of their own, as a hospital's Entra ID, Okta or Keycloak would be: discovery, authorization code
with PKCE, ID tokens, userinfo and a JWKS whose key can be rotated. A few endpoints under /test/
let a test make the provider misbehave the way a forged or stale token would."""
