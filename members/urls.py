"""Portal URLs of the members app (mounted under /portal/ in the `portal` namespace)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("units/", views.unit_list, name="unit_list"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("council/", views.council_roster, name="council"),
    path("assessments/", views.assessment_list, name="assessment_list"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment_detail"),
    path("assessments/<int:pk>/remark/", views.assessment_remark, name="assessment_remark"),
    path("apply/", views.unit_apply, name="unit_apply"),
    path("apply/done/", views.unit_apply_done, name="unit_apply_done"),
]
