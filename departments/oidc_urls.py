"""Single sign-on's addresses; register ``<HELPDESK_BASE_URL>/oidc/callback/`` with the
provider as the redirect URI and ``/oidc/backchannel-logout/`` as the back-channel logout URI."""

from django.urls import path

from departments import oidc_views

urlpatterns = [
    path("start/", oidc_views.OidcStartView.as_view(), name="oidc_authentication_init"),
    path("callback/", oidc_views.OidcCallbackView.as_view(), name="oidc_authentication_callback"),
    path("backchannel-logout/", oidc_views.back_channel_logout, name="oidc_backchannel_logout"),
]
