from __future__ import annotations

from django.urls import path

from . import views

routes = [
    ("streets", views.StreetViewSet, "street"),
    ("communities", views.CommunityViewSet, "community"),
    ("units", views.UnitViewSet, "unit"),
    ("agreements", views.AgreementViewSet, "agreement"),
    ("assessments", views.AssessmentViewSet, "assessment"),
]

urlpatterns = [
    path(
        "reports/quarterly/<int:year>/<int:quarter>/",
        views.QuarterlyReportView.as_view(),
        name="quarterly-report",
    ),
]
