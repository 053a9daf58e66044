"""Admin site setup and the mixin through which every ModelAdmin asks the one permission path.

The site wears the django-unfold theme (sidebar, responsive change lists, the red palette of the public
site; settings.UNFOLD). `base` holds what the apps' admins build on (imported from here: `from
alliance.admin import HistoryAdmin, ScopedAdminMixin`); `records` and `accounts` register the alliance's
own screens."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .. import registry
from ..models import Job
from . import accounts, navigation, records, workbench
from . import workdays as _workdays  # noqa: F401 (registers the working-day calendar screen)
from .base import (
    HistoryAdmin,
    ModelAdmin,
    ReadOnlyInline,
    ReasonForm,
    ScopedAdminMixin,
    ScopedChoiceFilter,
    ScopedRelatedFilter,
    TabularInline,
    scoped_filter,
    totals_row_label,
)

admin.site.site_header = _("Party-building alliance administration")
admin.site.site_title = _("Party-building alliance administration")
admin.site.index_title = _("Administration")

MY_JOBS_SHOWN = 5
_django_index = admin.site.index


def _workbench_index(request, extra_context=None):
    """The admin index as the staff workbench (工作台): the user's to-dos, latest background jobs and the
    charts of their scope under a filter (`workbench`). Wraps the site's own index so the URL, permission
    check and app list stay Django's."""
    charts, chart_filter = workbench.workbench_charts(request)
    context = {
        "todos": registry.todos(request.user),
        "my_jobs": list(Job.objects.filter(requested_by=request.user).order_by("-created_at", "-id")[:MY_JOBS_SHOWN]),
        "charts": charts,
        "chart_filter": chart_filter,
        **(extra_context or {}),
    }
    return _django_index(request, extra_context=context)


admin.site.index = _workbench_index
# The sidebar resolved once per language, the app list built only where a page shows it (navigation.py).
navigation.install(admin.site)

__all__ = [
    "HistoryAdmin",
    "ModelAdmin",
    "ReadOnlyInline",
    "ReasonForm",
    "ScopedAdminMixin",
    "ScopedChoiceFilter",
    "ScopedRelatedFilter",
    "TabularInline",
    "accounts",
    "records",
    "scoped_filter",
    "totals_row_label",
]
