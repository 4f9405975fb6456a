from django.urls import path

from reports import privacy_views

app_name = "privacy"

urlpatterns = [
    path("", privacy_views.ticket_access, name="ticket"),
    path("person/", privacy_views.person_activity, name="person"),
    path("unusual/", privacy_views.unusual_access, name="unusual"),
]
