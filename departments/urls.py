from django.urls import path

from departments import views

urlpatterns = [
    path("", views.account, name="account"),
    path("unit/", views.choose_unit, name="choose_unit"),
    path("tokens/<id:pk>/revoke/", views.revoke_token, name="revoke_token"),
]
