from django.urls import path

from intake import views

app_name = "intake"

urlpatterns = [
    path("", views.mail_status, name="status"),
    path("poll/<slug:name>/", views.poll_now, name="poll_now"),
    path("review/", views.review_list, name="review"),
    path("review/<id:pk>/", views.review_detail, name="review_detail"),
    path("review/<id:pk>/accept/", views.accept, name="accept"),
    path("review/<id:pk>/note/", views.add_note, name="add_note"),
    path("review/<id:pk>/discard/", views.discard, name="discard"),
]
