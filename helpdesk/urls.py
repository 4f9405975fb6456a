from django.contrib import admin
from django.urls import include, path, register_converter

from core.ids import IdConverter
from departments.oidc_views import SignOutView
from departments.views import SignInView

# Before the apps' routes are built: ``<id:pk>`` is a row's id in ASCII digits, nothing else.
register_converter(IdConverter, "id")

# Under /api/ every error is JSON; elsewhere the site's own pages.
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"


admin.site.site_header = "Help desk administration"
admin.site.site_title = "Help desk admin"

urlpatterns = [
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", SignOutView.as_view(), name="logout"),
    path("oidc/", include("departments.oidc_urls")),
    path("account/", include("departments.urls")),
    path("admin/", admin.site.urls),
    path("reports/", include("reports.urls")),
    path("privacy/", include("reports.privacy_urls")),
    path("mail/", include("intake.urls")),
    path("incidents/", include("incidents.urls")),
    path("api/", include("incidents.api_urls")),
    path("downtime/", include("incidents.downtime_urls")),
    path("api/downtimes/", include("incidents.downtime_api_urls")),
    path("api/", include("tickets.api_urls")),
    path("", include("oncall.urls")),
    path("", include("tickets.urls")),
]
