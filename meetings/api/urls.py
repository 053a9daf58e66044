from __future__ import annotations

from . import views

routes = [
    ("meetings", views.MeetingViewSet, "meeting"),
    ("resolutions", views.ResolutionViewSet, "resolution"),
]
