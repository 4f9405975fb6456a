from django.urls import path

from tickets import paging_views, queue_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("file/", views.file_ticket, name="file_ticket"),
    path("tickets/mine/", views.my_tickets, name="my_tickets"),
    path("tickets/<id:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<id:pk>/filed/", views.ticket_filed, name="ticket_filed"),
    path("tickets/<id:pk>/fixed/", views.answer_fixed, name="answer_fixed"),
    path("tickets/<id:pk>/questions/", views.answer_questions, name="answer_questions"),
    path("queue/", queue_views.queue_page, name="queue"),
    path("queue/rows/", queue_views.queue_fragment, name="queue_fragment"),
    path("queue/take-next/", queue_views.take_next, name="take_next"),
    path("tickets/<id:pk>/claim/", queue_views.claim, name="claim"),
    path("tickets/<id:pk>/status/", views.change_status, name="change_status"),
    path("tickets/<id:pk>/assign/", views.assign, name="assign"),
    path("tickets/<id:pk>/priority/", views.change_priority, name="change_priority"),
    path("tickets/<id:pk>/resolve/", views.resolve, name="resolve"),
    path("tickets/<id:pk>/link/", views.link, name="link"),
    path("tickets/<id:pk>/redact/", views.redact, name="redact"),
    path(
        "tickets/<id:pk>/attachments/<id:attachment>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        "tickets/<id:pk>/attachments/<id:attachment>/remove/",
        views.remove_attachment,
        name="remove_attachment",
    ),
    path("tickets/<id:pk>/page/", paging_views.page_on_call, name="page_on_call"),
    path(
        "tickets/<id:pk>/acknowledge/",
        paging_views.acknowledge_ticket,
        name="acknowledge_ticket",
    ),
    path("pages/", paging_views.recent_pages, name="pages"),
    path("pages/ack/<str:token>/", paging_views.acknowledge_link, name="page_acknowledge"),
    path("phi-check/", views.phi_check, name="phi_check"),
    path("session/keep-alive/", views.keep_alive, name="keep_alive"),
]
