"""Portal URLs of the volunteers app (mounted under /portal/ in the `portal` namespace). The names are a
contract: services reverse `portal:volunteer_home` for the links in their notifications."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("volunteer/", views.volunteer_home, name="volunteer_home"),
    path("volunteer/register/", views.member_register, name="member_register"),
    path("volunteer/move/", views.member_move, name="member_move"),
    path("volunteer/posts/<int:pk>/claim/", views.post_claim, name="post_claim"),
    path("volunteer/claims/<int:pk>/leave/", views.post_leave, name="post_leave"),
    path("volunteer/wishes/<int:pk>/claim/", views.wish_claim, name="wish_claim"),
    path("volunteer/wishes/<int:pk>/complete/", views.wish_complete, name="wish_complete"),
    path("volunteer/hours/new/", views.hours_log, name="hours_log"),
    path("volunteer/card/", views.service_card, name="service_card"),
    path("volunteer/points/", views.my_points, name="my_points"),
    path("units/<int:unit_id>/service-card/", views.unit_service_card, name="unit_service_card"),
    path(
        "units/<int:unit_id>/service-card.xlsx",
        views.unit_service_card,
        {"fmt": "xlsx"},
        name="unit_service_card_xlsx",
    ),
]
