"""Portal URLs of the projects app (mounted under /portal/ in the `portal` namespace). The names are a
contract: services reverse `portal:claim_list` for the links in their notifications."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("projects/", views.claim_table, name="claim_table"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/claim/", views.project_claim, name="project_claim"),
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/withdraw/", views.claim_withdraw, name="claim_withdraw"),
    path("claims/<int:pk>/activities/new/", views.activity_create, name="activity_create"),
]
