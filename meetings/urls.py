"""Portal URLs of the meetings app (mounted under /portal/ in the `portal` namespace). The names are a
contract: services reverse `portal:meeting_detail` and `portal:resolution_list` for the links in their
reminders."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/answer/", views.meeting_answer, name="meeting_answer"),
    path("meetings/<int:pk>/minutes/", views.minutes_print, name="minutes_print"),
    path("meetings/<int:pk>/minutes.xlsx", views.minutes_xlsx, name="minutes_xlsx"),
    path("resolutions/", views.resolution_list, name="resolution_list"),
    path("resolutions/<int:pk>/progress/", views.resolution_progress, name="resolution_progress"),
    path("calendar/", views.calendar_feeds, name="calendar"),
    path("calendar/<int:pk>/renew/", views.calendar_renew, name="calendar_renew"),
]
