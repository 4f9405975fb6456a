from django.urls import path

from oncall import views

urlpatterns = [
    path("on-call/", views.who_is_on_call, name="on_call"),
]
