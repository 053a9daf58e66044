"""Public URLs of the meetings app, included at the root without a namespace: the calendar feed, which
calendar apps fetch without signing in (`/api/v1/me/` reverses `calendar_feed`)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    # secrets.token_urlsafe() tokens are made of exactly the characters of a slug.
    path("calendar/<slug:token>.ics", views.calendar_feed, name="calendar_feed"),
]
