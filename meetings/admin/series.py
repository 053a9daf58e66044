"""Meeting series: recurring meetings planned ahead."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import HistoryAdmin, ScopedAdminMixin
from alliance.forms import REFUSALS, refusal_message
from members import selectors as member_selectors

from .. import services
from ..models import MeetingSeries
from .common import CommunityFilter, RefusalSafeMixin, invitable_units

SERIES_FIELDS = [
    "title",
    "level",
    "kind",
    "street",
    "district",
    "community",
    "sector",
    "recurrence",
    "day_of_month",
    "start_time",
    "duration_minutes",
    "place",
    "agenda",
    "invited_units",
    "starts_on",
    "is_active",
]


class SeriesForm(forms.ModelForm):
    class Meta:
        model = MeetingSeries
        fields = SERIES_FIELDS  # the organiser is whoever adds the series


@admin.register(MeetingSeries)
class MeetingSeriesAdmin(RefusalSafeMixin, ScopedAdminMixin, HistoryAdmin):
    """Recurring meetings are reference data: the series is saved as it is; its occurrences are planned
    through `services.series_plan` (right after it is added, by beat, and by the "plan ahead" action)."""

    staff_roles = "community"
    form = SeriesForm
    list_display = [
        "title",
        "level",
        "kind",
        "community",
        "recurrence",
        "day_of_month",
        "start_time",
        "place",
        "is_active",
        "meeting_count",
    ]
    list_select_related = ["community"]
    list_filter = ["level", "kind", "recurrence", "is_active", CommunityFilter]
    search_fields = ["title", "place"]
    filter_horizontal = ["invited_units"]
    actions = ["plan_ahead"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(meeting_count=Count("meetings"))

    @admin.display(description=_("meetings planned"), ordering="meeting_count")
    def meeting_count(self, obj: MeetingSeries) -> int:
        return obj.meeting_count

    def get_fields(self, request, obj=None):
        return SERIES_FIELDS if obj is None else [*SERIES_FIELDS, "organiser", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["organiser", "created_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = member_selectors.communities_administered_by(user=request.user)
        elif db_field.name in ("street", "district"):
            kwargs["queryset"] = member_selectors.meeting_places(user=request.user, kind=db_field.name)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "invited_units":
            kwargs["queryset"] = invitable_units(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj: MeetingSeries, form, change: bool) -> None:
        if not change:
            obj.organiser = request.user
        try:  # the street (or district) its meetings belong to, as for a single meeting
            services.meeting_place(meeting=obj, actor=request.user)
        except REFUSALS as exc:
            request._service_refused = True
            messages.error(request, refusal_message(exc))
            return
        # The same answer as for a meeting of the series: its street's staff, or staff of its community.
        if not permissions.can_change(request.user, obj):
            request._service_refused = True
            messages.error(request, gettext("You may plan meetings only for the communities you work for."))
            return
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change and not getattr(request, "_service_refused", False):
            self._plan(request, form.instance)

    def _plan(self, request, series: MeetingSeries) -> int:
        try:
            planned = services.series_plan(series=series)
        except REFUSALS as exc:
            messages.error(request, refusal_message(exc))
            return 0
        messages.success(
            request,
            ngettext("%(series)s: %(count)d meeting planned.", "%(series)s: %(count)d meetings planned.", len(planned))
            % {"series": series.title, "count": len(planned)},
        )
        return len(planned)

    @admin.action(description=_("Plan the next meetings of the selected series"))
    def plan_ahead(self, request, queryset):
        for series in queryset:
            if not self.has_change_permission(request, series):
                messages.error(request, gettext("You may not plan %(series)s.") % {"series": series.title})
            elif not series.is_active:
                messages.warning(
                    request, gettext("%(series)s is not active; nothing planned.") % {"series": series.title}
                )
            else:
                self._plan(request, series)
