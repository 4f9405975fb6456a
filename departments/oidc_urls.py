"""Single sign-on's addresses; register ``<HELPDESK_BASE_URL>/oidc/callback/`` with the
provider as the redirect URI and ``/oidc/backchannel-logout/`` as the back-channel logout URI."""

from django.urls import path

from departments import sign_in

urlpatterns = [
    path("start/", sign_in.OidcStartView.as_view(), name="oidc_authentication_init"),
    path("callback/", sign_in.OidcCallbackView.as_view(), name="oidc_authentication_callback"),
    path("backchannel-logout/", sign_in.back_channel_logout, name="oidc_backchannel_logout"),
]
