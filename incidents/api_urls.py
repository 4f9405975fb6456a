from rest_framework.routers import DefaultRouter

from incidents import api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("incidents", api.IncidentViewSet, basename="api-incident")

urlpatterns = router.urls
