from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("declare/", views.declare, name="declare"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/known/", views.known, name="known"),
    path("<id:pk>/update/", views.post_update, name="update"),
    path("<id:pk>/resolve/", views.resolve, name="resolve"),
    path("<id:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<id:pk>/link/", views.link, name="link"),
    path("<id:pk>/unlink/", views.unlink, name="unlink"),
    path("<id:pk>/recovery/", views.recovery_add, name="recovery_add"),
    path("<id:pk>/recovery/tick/", views.recovery_tick, name="recovery_tick"),
    path("alerts/<id:pk>/dismiss/", views.alert_dismiss, name="alert_dismiss"),
]
