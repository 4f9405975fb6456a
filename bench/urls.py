"""The product's URLconf with the floor views appended, for benchmark runs only.

The product's patterns come first and unchanged, so its pages resolve exactly as in production.
"""

from django.urls import path

from bench import views
from helpdesk.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    *product_urlpatterns,
    path("bench/floor/", views.floor, name="bench_floor"),
    path("bench/floor-auth/", views.floor_auth, name="bench_floor_auth"),
]
