from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from departments.forms import SignInForm

admin.site.site_header = "Help desk administration"
admin.site.site_title = "Help desk admin"

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=SignInForm
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("departments.urls")),
    path("admin/", admin.site.urls),
    path("reports/", include("reports.urls")),
    path("api/", include("tickets.api_urls")),
    path("", include("tickets.urls")),
]
