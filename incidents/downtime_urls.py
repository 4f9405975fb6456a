from django.urls import path

from incidents import downtime_views as views

app_name = "downtime"

urlpatterns = [
    path("", views.upcoming, name="upcoming"),
    path("<id:pk>/", views.detail, name="detail"),
    path("manage/", views.manage, name="manage"),
    path("manage/new/", views.schedule, name="schedule"),
    path("manage/<id:pk>/edit/", views.edit, name="edit"),
    path("manage/<id:pk>/cancel/", views.cancel, name="cancel"),
]
