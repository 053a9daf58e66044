"""Public URLs of the projects app, included at the root without a namespace: the activities page."""

from __future__ import annotations

from django.urls import path

from . import public_views

urlpatterns = [
    path("activities/", public_views.activities, name="activities"),
]
