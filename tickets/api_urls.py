from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from tickets import api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("tickets", api.TicketViewSet, basename="api-ticket")
router.register("departments", api.DepartmentViewSet, basename="api-department")
router.register("locations", api.LocationViewSet, basename="api-location")
router.register("categories", api.CategoryViewSet, basename="api-category")
router.register("teams", api.TeamViewSet, basename="api-team")
router.register("pages", api.PageChainViewSet, basename="api-page")

urlpatterns = [
    path("", api.ApiRootView.as_view(), name="api-root"),
    path("", include(router.urls)),
    path("", include("oncall.api_urls")),
    path("reports/", include("reports.api_urls")),
    path("schema/", api.SchemaView.as_view(), name="api-schema"),
    # Swagger UI sets inline styles on its elements; only this page allows them.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]
