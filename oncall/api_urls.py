from django.urls import path

from oncall import api

urlpatterns = [
    path("on-call/", api.OnCallView.as_view(), name="api-on-call"),
]
