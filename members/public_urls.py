"""Public URLs of the members app, included at the root without a namespace: the council roster."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("council/", views.council_public, name="council"),
]
