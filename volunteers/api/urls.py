from __future__ import annotations

from . import views

routes = [
    ("members", views.MemberViewSet, "party-member"),
    ("posts", views.PostViewSet, "post"),
    ("wishes", views.WishViewSet, "wish"),
    ("service-logs", views.ServiceLogViewSet, "service-log"),
    ("points", views.PointsViewSet, "points"),
]
