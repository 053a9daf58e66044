"""The points ledger (积分, issue 15) for staff: the street's rule per year (street staff edit it), the
ledger (read-only: an entry is corrected by a new one, on its "correct" page, with a reason) and the
year's rankings per community, unit and sector branch."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import HistoryAdmin, ModelAdmin, ScopedAdminMixin, scoped_filter
from alliance.errors import InvalidInput
from alliance.forms import REFUSALS, refusal_message
from alliance.periods import Quarter
from members.models import Street

from .. import points, selectors
from ..models import PointsEntry, PointsRule


@admin.register(PointsRule)
class PointsRuleAdmin(ScopedAdminMixin, HistoryAdmin):
    """积分规则: points per verified hour, fulfilled micro-wish and well-reviewed commitment, per street and
    year. Changing a rule changes the points of what is verified from then on; entries written stay."""

    list_display = ["year", "street", "per_hour", "per_wish", "per_review", "review_min_score", "updated_at"]
    list_filter = ["year", scoped_filter("street")]
    list_select_related = ["street"]
    fields = ["street", "year", *points.RULE_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        # The street and the year name the rule; they are chosen once, when it is made.
        return ["street", "year"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "street":
            scope = permissions.street_filter(request.user, "pk")
            streets = Street.objects.all()
            kwargs["queryset"] = streets if scope is None else streets.filter(scope)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"year": Quarter.current().year, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj: PointsRule, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in points.RULE_FIELDS}
        # Made as an award would make it (from last year's rule), then given the values asked for.
        rule = obj if change else points.rule_for(street_id=obj.street_id, year=obj.year)
        saved = points.points_rule_update(rule=rule, actor=request.user, data=data)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # awards of the year read it; a street changes its rule, never removes it


class CorrectForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-100000,
        max_value=100000,
        help_text=_("Negative takes points back, positive adds the points that were missing."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(PointsEntry)
class PointsEntryAdmin(ScopedAdminMixin, ModelAdmin):
    """The ledger: seen by staff in their scope, never changed or deleted; a correction is a new entry."""

    staff_roles = "community"
    list_display = ["created_at", "beneficiary", "points", "source_label", "reason", "year", "quarter", "correct_link"]
    list_filter = ["year", "quarter", "source_kind"]
    list_select_related = ["member", "unit"]
    search_fields = ["member__name", "unit__name", "reason"]
    search_help_text = _("Member, unit or reason")
    list_per_page = 50
    fields = [
        "member",
        "unit",
        "community",
        "points",
        "reason",
        "source_kind",
        "source_id",
        "year",
        "quarter",
        "created_at",
        "approved_by",
        "corrects",
    ]
    readonly_fields = fields
    change_list_template = "admin/volunteers/pointsentry/change_list.html"

    def get_queryset(self, request):
        return permissions.visible(request.user, PointsEntry.objects.select_related("member", "unit"))

    def has_add_permission(self, request, *args) -> bool:
        return False  # added only as a correction, on an entry's "correct" page

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("member or unit"))
    def beneficiary(self, entry: PointsEntry) -> str:
        return entry.member.name if entry.member_id else entry.unit.name

    @admin.display(description=_("source"), ordering="source_kind")
    def source_label(self, entry: PointsEntry) -> str:
        # The kind in words and the source's number (the API's "service_log:12" is for machines).
        return f"{entry.get_source_kind_display()} #{entry.source_id}"

    @admin.display(description=_("correction"))
    def correct_link(self, entry: PointsEntry) -> str:
        if entry.corrects_id is not None:
            return ""
        url = reverse("admin:volunteers_pointsentry_correct", args=[entry.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Correct"))

    def get_urls(self):
        return [
            path(
                "<int:object_id>/correct/",
                self.admin_site.admin_view(self.correct_view),
                name="volunteers_pointsentry_correct",
            ),
            path("rankings/", self.admin_site.admin_view(self.rankings_view), name="volunteers_pointsentry_rankings"),
            *super().get_urls(),
        ]

    def correct_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if not self._may_open(request):
            raise PermissionDenied
        entry = self.get_queryset(request).filter(pk=object_id).first()
        if entry is None:
            raise Http404
        if not permissions.has_ability(request.user, "volunteers.correct_points", entry):
            raise PermissionDenied
        form = CorrectForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                correction = points.points_correct(
                    entry=entry,
                    points=form.cleaned_data["points"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except REFUSALS as exc:
                form.add_error(None, refusal_message(exc))
            else:
                messages.success(
                    request,
                    gettext("The correction of %(points)+d points is written.") % {"points": correction.points},
                )
                return HttpResponseRedirect(reverse("admin:volunteers_pointsentry_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Correct points"),
            "intro": gettext(
                "The entry stays as it is; the correction is a new entry for the same member or unit, with "
                "your reason, linked to it."
            ),
            "rows": [
                (entry, f"{self.beneficiary(entry)} · {entry.points:+d} · {self.source_label(entry)}", entry.reason)
            ],
            "empty": "",
            "form": form,
            "opts": self.opts,
            "original": entry,
            "back_url": reverse("admin:volunteers_pointsentry_changelist"),
            "submit_label": gettext("Write the correction"),
        }
        return TemplateResponse(request, "admin/reason_action.html", context)

    def rankings_view(self, request: HttpRequest) -> HttpResponse:
        """The year's points per community, unit and sector branch, in the user's scope: three queries."""
        if not self._may_open(request):
            raise PermissionDenied
        year = Quarter.current().year
        value = request.GET.get("year")
        if value not in (None, ""):
            try:
                year = points.check_year(value)
            except InvalidInput as exc:
                messages.error(request, str(exc))
        groups = [
            ("community", gettext("Per community")),
            ("unit", gettext("Per unit")),
            ("sector", gettext("Per sector branch")),
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Points rankings %(year)d") % {"year": year},
            "opts": self.opts,
            "year": year,
            "years": [year - 1, year + 1],
            "rankings": [
                (key, label, list(selectors.points_ranking(user=request.user, year=year, by=key)[:100]))
                for key, label in groups
            ],
        }
        return TemplateResponse(request, "admin/volunteers/pointsentry/rankings.html", context)
