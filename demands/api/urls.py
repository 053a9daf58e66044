from __future__ import annotations

from django.urls import path

from . import views

routes = [
    ("needs", views.NeedViewSet, "need"),
    ("resources", views.ResourceViewSet, "resource"),
    ("venues", views.VenueViewSet, "venue"),
    ("bookings", views.BookingViewSet, "booking"),
]

urlpatterns = [
    path("public/needs/", views.PublicNeedSubmitView.as_view(), name="public-need-submit"),
    path("public/needs/<str:tracking_code>/", views.PublicNeedTrackView.as_view(), name="public-need-track"),
    path("public/needs/<str:tracking_code>/rating/", views.PublicNeedRatingView.as_view(), name="public-need-rating"),
    path("public/showcase/", views.PublicShowcaseView.as_view(), name="public-showcase"),
]
