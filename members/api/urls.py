from __future__ import annotations

from . import views

routes = [
    ("streets", views.StreetViewSet, "street"),
    ("communities", views.CommunityViewSet, "community"),
    ("units", views.UnitViewSet, "unit"),
    ("assessments", views.AssessmentViewSet, "assessment"),
]
