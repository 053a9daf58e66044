"""Portal URLs of the demands app (mounted under /portal/ in the `portal` namespace). The names are a
contract: services reverse `portal:need_detail` for the links in their notifications."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("needs/", views.need_list, name="need_list"),
    path("needs/new/", views.need_create, name="need_create"),
    path("needs/<int:pk>/", views.need_detail, name="need_detail"),
    path("needs/<int:pk>/accept/", views.need_accept, name="need_accept"),
    path("needs/<int:pk>/decline/", views.need_decline, name="need_decline"),
    path("needs/<int:pk>/complete/", views.need_complete, name="need_complete"),
    path("resources/", views.resource_list, name="resource_list"),
    path("resources/new/", views.resource_create, name="resource_create"),
    path("resources/<int:pk>/edit/", views.resource_edit, name="resource_edit"),
    path("resources/<int:pk>/withdraw/", views.resource_withdraw, name="resource_withdraw"),
    path("resources/<int:pk>/restore/", views.resource_restore, name="resource_restore"),
    path("venues/", views.venue_list, name="venue_list"),
    path("venues/<int:pk>/", views.venue_week, name="venue_week"),
    path("venues/<int:pk>/hours/", views.venue_hours, name="venue_hours"),
    path("venues/<int:pk>/closures/", views.venue_closure_add, name="venue_closure_add"),
    path("venues/<int:pk>/closures/remove/", views.venue_closure_remove, name="venue_closure_remove"),
    path("bookings/", views.booking_list, name="bookings"),
    path("bookings/<int:pk>/approve/", views.booking_approve, name="booking_approve"),
    path("bookings/<int:pk>/decline/", views.booking_decline, name="booking_decline"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
]
