from django.urls import path

from tickets import views

urlpatterns = [
    path("", views.home, name="home"),
    path("file/", views.file_ticket, name="file_ticket"),
    path("tickets/mine/", views.my_tickets, name="my_tickets"),
    path("tickets/open/", views.open_tickets, name="open_tickets"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/filed/", views.ticket_filed, name="ticket_filed"),
    path("phi-check/", views.phi_check, name="phi_check"),
    path("session/keep-alive/", views.keep_alive, name="keep_alive"),
]
