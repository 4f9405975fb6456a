from django.urls import path

from reports import api

urlpatterns = [
    path("", api.ReportListView.as_view(), name="api-reports"),
    path("compliance/", api.ComplianceView.as_view(), name="api-report-compliance"),
    path("speed/", api.SpeedView.as_view(), name="api-report-speed"),
    path("breaches/", api.BreachesView.as_view(), name="api-report-breaches"),
    path("trends/", api.TrendsView.as_view(), name="api-report-trends"),
    path("critical-areas/", api.CriticalAreasView.as_view(), name="api-report-critical"),
    path("sources/", api.SourcesView.as_view(), name="api-report-sources"),
    path("technicians/", api.TechniciansView.as_view(), name="api-report-technicians"),
    path("incidents/", api.IncidentsView.as_view(), name="api-report-incidents"),
]
