from django.urls import path

from tickets import paging_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("file/", views.file_ticket, name="file_ticket"),
    path("tickets/mine/", views.my_tickets, name="my_tickets"),
    path("tickets/open/", views.open_tickets, name="open_tickets"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/filed/", views.ticket_filed, name="ticket_filed"),
    path("tickets/<int:pk>/page/", paging_views.page_on_call, name="page_on_call"),
    path(
        "tickets/<int:pk>/acknowledge/",
        paging_views.acknowledge_ticket,
        name="acknowledge_ticket",
    ),
    path("on-call/", paging_views.who_is_on_call, name="on_call"),
    path("pages/", paging_views.recent_pages, name="pages"),
    path("pages/ack/<str:token>/", paging_views.acknowledge_link, name="page_acknowledge"),
    path("phi-check/", views.phi_check, name="phi_check"),
    path("session/keep-alive/", views.keep_alive, name="keep_alive"),
]
