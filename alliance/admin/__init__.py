"""Admin site setup and the mixin through which every ModelAdmin asks the one permission path.

`base` holds what the apps' admins build on (imported from here: `from alliance.admin import
ScopedAdminMixin`); `records` and `accounts` register the alliance's own screens."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import accounts, records
from .base import ReadOnlyInline, ReasonForm, ScopedAdminMixin, ScopedChoiceFilter, totals_row_label

admin.site.site_header = _("Party-building alliance administration")
admin.site.site_title = _("Party-building alliance administration")
admin.site.index_title = _("Administration")

__all__ = [
    "ReadOnlyInline",
    "ReasonForm",
    "ScopedAdminMixin",
    "ScopedChoiceFilter",
    "accounts",
    "records",
    "totals_row_label",
]
