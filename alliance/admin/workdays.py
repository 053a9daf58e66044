"""The working-day calendar's local days (`alliance.workdays`): street staff add a local day off, a make-up
working day, or — before the calendar package knows a year — that year's official schedule."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import workdays
from ..models import WorkdayOverride
from ..periods import ZONE
from .base import HistoryAdmin, ScopedAdminMixin, period_filter


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ["day", "weekday", "is_working_day", "note"]
    list_filter = ["is_working_day", period_filter("day")]
    search_fields = ["note"]
    fields = ["day", "is_working_day", "note"]

    @admin.display(description=_("day of the week"))
    def weekday(self, obj: WorkdayOverride) -> str:
        return formats.date_format(obj.day, "l")

    def get_readonly_fields(self, request, obj=None):
        # A row is the answer for its day: another day is another row (delete this one to undo it).
        return ["day"] if obj is not None else []

    def changelist_view(self, request, extra_context=None):
        # The State Council publishes a year's schedule late the year before; until the calendar package
        # knows it, the clocks count Monday to Friday only, unless staff enter the holidays here.
        this_year = timezone.localtime(timezone.now(), ZONE).year
        for year in (this_year, this_year + 1):
            if request.method == "GET" and not workdays.is_official_year(year):
                messages.warning(
                    request,
                    gettext(
                        "The official holiday schedule of %(year)d is not built in yet: working days of %(year)d "
                        "are counted Monday to Friday. Enter its holidays and make-up working days here."
                    )
                    % {"year": year},
                )
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj: WorkdayOverride, form, change: bool) -> None:
        saved = workdays.override_save(
            day=obj.day, is_working_day=obj.is_working_day, note=obj.note, actor=request.user
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj: WorkdayOverride) -> None:
        workdays.override_delete(override=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for override in queryset:
            workdays.override_delete(override=override, actor=request.user)
