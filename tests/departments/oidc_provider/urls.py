from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.departments.oidc_provider import views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("test/mischief/", views.mischief),
    path("test/rotate/", views.rotate),
    path("test/backchannel-logout/", views.backchannel_logout),
    path("test/disable/", views.disable),
    path("test/reset/", views.reset),
    path("test/outage/", views.outage),
    path("test/refreshes/", views.refreshes),
]
