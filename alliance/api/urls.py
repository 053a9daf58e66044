"""/api/v1/: one router for every app's endpoints, so that the API root lists them all.

The project URLconf is the composition root: it names the apps whose `api.urls` module offers
`routes` (prefix, viewset, basename) and, optionally, extra `urlpatterns`.
"""

from __future__ import annotations

from importlib import import_module

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from . import views

API_APPS = ["members", "demands", "projects", "meetings", "volunteers"]


class APIRoot(DefaultRouter.APIRootView):
    """The list of endpoints is public; each endpoint decides who may read it."""

    permission_classes = [AllowAny]


router = DefaultRouter()
router.APIRootView = APIRoot
# No `.json` suffix routes: the actions take no `format` argument (a suffixed call was a 500), the schema
# does not list them, and `?format=json` or the Accept header chooses the renderer anyway.
router.include_format_suffixes = False
router.register("categories", views.CategoryViewSet, basename="category")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("public/stats/", views.PublicStatsView.as_view(), name="public-stats"),
]
for app in API_APPS:
    module = import_module(f"{app}.api.urls")
    for prefix, viewset, basename in module.routes:
        router.register(prefix, viewset, basename=basename)
    urlpatterns += getattr(module, "urlpatterns", [])
urlpatterns += router.urls
