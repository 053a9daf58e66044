from __future__ import annotations

from . import views

routes = [
    ("projects", views.ProjectViewSet, "project"),
    ("claims", views.ClaimViewSet, "claim"),
    ("activities", views.ActivityViewSet, "activity"),
    ("reviews", views.ReviewViewSet, "review"),
]
