"""The residents' public pages, mounted at the site root in the `needs` namespace. The paths are a fixed
interface (SPEC): posters in the communities print them, text messages link to them."""

from __future__ import annotations

from django.urls import path

from . import public_views as views

urlpatterns = [
    path("needs/new/", views.need_new, name="new"),
    path("needs/submitted/", views.need_submitted, name="submitted"),
    path("needs/track/", views.need_track, name="track"),
    path("needs/track/rate/", views.need_rate, name="rate"),
    path("needs/qr/<int:community_id>/", views.community_poster, name="qr"),
    path("showcase/", views.showcase, name="showcase"),
    path("venues/", views.venues, name="venues"),
    path("resources/", views.resources, name="resources"),
]
