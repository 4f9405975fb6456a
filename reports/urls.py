from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("compliance/", views.compliance, name="compliance"),
    path("speed/", views.speed, name="speed"),
    path("breaches/", views.breaches, name="breaches"),
    path("trends/", views.trends, name="trends"),
    path("critical-areas/", views.critical, name="critical"),
    path("sources/", views.sources, name="sources"),
    path("technicians/", views.technicians, name="technicians"),
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/<id:pk>/", views.incident, name="incident"),
    path("<slug:report>/export.csv", views.export_csv, name="export"),
]
