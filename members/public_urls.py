"""Public URLs of the members app, included at the root without a namespace: the council roster, the
member units and the street's notices with their Atom feed (SPEC, Fixed interfaces: Pages)."""

from __future__ import annotations

from django.urls import path

from . import public_views, views

urlpatterns = [
    path("council/", views.council_public, name="council"),
    path("units/", public_views.units, name="units"),
    path("notices/", public_views.notices, name="notices"),
    path("notices/feed/", public_views.notice_feed, name="notice_feed"),
    path("notices/<int:notice_id>/", public_views.notice_detail, name="notice"),
]
