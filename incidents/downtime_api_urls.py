from django.urls import path

from incidents import downtime_api as api

urlpatterns = [
    path("", api.DowntimeListView.as_view(), name="api-downtimes"),
    path("<id:pk>/", api.DowntimeDetailView.as_view(), name="api-downtime"),
    path("<id:pk>/cancel/", api.DowntimeCancelView.as_view(), name="api-downtime-cancel"),
]
