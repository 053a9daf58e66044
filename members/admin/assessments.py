"""The units' quarterly assessment (按季度考核): the scheme of indicators, and each unit's assessment computed,
adjusted, reviewed and returned."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import permissions, reports
from alliance.admin import (
    HistoryAdmin,
    ReadOnlyInline,
    ScopedAdminMixin,
    ScopedChoiceFilter,
    TabularInline,
    scoped_filter,
)
from alliance.periods import QUARTER_CHOICES, Quarter

from .. import assessments, selectors
from ..models import Assessment, AssessmentLine, AssessmentScheme, AssessmentSchemeItem, Street


class AssessmentSchemeItemInline(TabularInline):
    """A scheme's indicators: street staff set the weight, the full marks and whether it counts; the
    indicator itself (its label and what it measures) comes from the apps' registry."""

    model = AssessmentSchemeItem
    extra = 0
    can_delete = False
    # Each row is titled with the indicator's code; the label and explanation say what it is.
    fields = ["indicator_label", "indicator_explanation", "weight", "full_marks", "enabled"]
    readonly_fields = ["indicator_label", "indicator_explanation"]

    # The scheme's admin already decided who sees the scheme (street staff); the items go with it.
    def has_view_permission(self, request, obj=None) -> bool:
        return permissions.is_street_staff(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return permissions.is_street_staff(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # items are made from the registry when the scheme is made

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("indicator"))
    def indicator_label(self, item: AssessmentSchemeItem) -> str:
        indicator = reports.indicator(item.code)
        return str(indicator.label) if indicator else gettext("(no longer computed)")

    @admin.display(description=_("what it measures"))
    def indicator_explanation(self, item: AssessmentSchemeItem) -> str:
        indicator = reports.indicator(item.code)
        return str(indicator.explanation) if indicator else ""


@admin.register(AssessmentScheme)
class AssessmentSchemeAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ["year", "street", "weight_total", "updated_at"]
    list_filter = [scoped_filter("street"), "year"]
    list_select_related = ["street"]
    inlines = [AssessmentSchemeItemInline]
    readonly_fields = ["weight_total", "created_at", "updated_at"]

    def get_fields(self, request, obj=None):
        return ["street", "year", *self.readonly_fields] if obj is not None else ["street", "year"]

    def get_readonly_fields(self, request, obj=None):
        # The street and the year name the scheme; they are chosen once, when it is made.
        return ["street", "year", *self.readonly_fields] if obj is not None else []

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description=_("sum of the weights that count"))
    def weight_total(self, scheme: AssessmentScheme):
        return sum((i.weight for i in scheme.items.all() if i.enabled), Decimal("0"))

    def save_model(self, request, obj: AssessmentScheme, form, change: bool) -> None:
        if change:
            obj.save()
            return
        # Made as the computation would make it: from last year's scheme or the indicators' defaults.
        obj.pk = assessments.scheme_for(street=obj.street, year=obj.year).pk


class AssessmentLineInline(ReadOnlyInline):
    model = AssessmentLine
    fields = ["label", "value", "full_marks", "weight", "points", "applicable"]
    readonly_fields = fields


class AssessmentCommunityFilter(ScopedChoiceFilter):
    title = _("community")
    parameter_name = "community"
    field = "unit__community"

    def choices_for(self, request):
        return selectors.communities_administered_by(user=request.user).order_by("sort_order", "id")


class AssessmentComputeForm(forms.Form):
    street = forms.ModelChoiceField(label=_("Street"), queryset=Street.objects.order_by("id"))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label=_("Quarter"), choices=QUARTER_CHOICES, coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        last = Quarter.current().previous()
        self.fields["year"].initial, self.fields["quarter"].initial = last.year, last.quarter
        if self.fields["street"].queryset.count() == 1:
            self.fields["street"].initial = self.fields["street"].queryset.get()


class AssessmentAdminForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Reason for returning"),
        required=False,
        max_length=assessments.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed only when you return the assessment for revision."),
    )

    class Meta:
        model = Assessment
        fields = ["adjustment", "adjustment_comment"]


@admin.register(Assessment)
class AssessmentAdmin(ScopedAdminMixin, HistoryAdmin):
    """Units' assessments: street staff see all, community staff their communities' units. The numbers
    are computed; staff change only the adjustment (through the service), and move the assessment with
    the buttons its workflow allows them."""

    staff_roles = "community"
    form = AssessmentAdminForm
    change_form_template = "admin/members/assessment/change_form.html"
    change_list_template = "admin/members/assessment/change_list.html"
    list_display = ["unit", "community", "year", "quarter", "status", "score", "adjustment", "total", "computed_at"]
    list_filter = ["year", "quarter", "status", AssessmentCommunityFilter]
    list_select_related = ["unit__community"]
    search_fields = ["unit__name"]
    ordering = ["-year", "-quarter", "unit__name"]
    inlines = [AssessmentLineInline]
    actions = ["recompute", "submit_selected", "approve_selected"]
    computed = [
        "unit",
        "year",
        "quarter",
        "status",
        "score",
        "total",
        "liaison_remark",
        "remarked_at",
        "return_reason",
        "computed_at",
        "submitted_at",
        "submitted_by",
        "approved_at",
        "approved_by",
    ]

    def get_fields(self, request, obj=None):
        editable = ["adjustment", "adjustment_comment"]
        if obj is not None and "return" in permissions.actions_allowed(request.user, obj):
            editable.append("reason")
        return [*self.computed[:5], *editable, *self.computed[5:]]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and (
            obj.status == Assessment.Status.APPROVED or not permissions.can_change(request.user, obj)
        ):
            return [*self.computed, "adjustment", "adjustment_comment"]
        return self.computed

    @admin.display(description=_("community"), ordering="unit__community")
    def community(self, obj: Assessment) -> str:
        return obj.unit.community.name

    def save_model(self, request, obj: Assessment, form, change: bool) -> None:
        if {"adjustment", "adjustment_comment"} & set(form.changed_data):
            self.save_through(
                request,
                assessments.assessment_adjust,
                assessment=obj,
                adjustment=form.cleaned_data["adjustment"],
                comment=form.cleaned_data["adjustment_comment"],
            )

    def get_urls(self):
        view = self.admin_site.admin_view(self.compute_view)
        return [path("compute/", view, name="members_assessment_compute"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        may_compute = permissions.has_ability(request.user, "members.compute_assessments", None)
        return super().changelist_view(request, {**(extra_context or {}), "may_compute": may_compute})

    def compute_view(self, request: HttpRequest) -> HttpResponse:
        """Compute (or recompute the drafts of) a street's quarter on demand — the report build does the
        same at each quarter's start."""
        if not permissions.has_ability(request.user, "members.compute_assessments", None):
            raise PermissionDenied
        form = AssessmentComputeForm(request.POST or None)
        changelist = reverse("admin:members_assessment_changelist")
        if request.method == "POST" and form.is_valid():
            street, period = (
                form.cleaned_data["street"],
                Quarter(form.cleaned_data["year"], form.cleaned_data["quarter"]),
            )
            done = self.run_service(
                request,
                assessments.assessments_compute,
                street=street,
                quarter=period,
                success=gettext("%(street)s, %(quarter)s: drafts recomputed.")
                % {"street": street.name, "quarter": period.label},
            )
            if done:
                return HttpResponseRedirect(f"{changelist}?year={period.year}&quarter={period.quarter}")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Compute a quarter's assessments"),
            "opts": self.opts,
            "form": form,
            "changelist_url": changelist,
        }
        return TemplateResponse(request, "admin/members/assessment/compute.html", context)

    def _workflow_buttons(self, request, obj: Assessment) -> list[tuple[str, str]]:
        table = Assessment.TRANSITIONS
        return [(action, str(table[action].label)) for action in permissions.actions_allowed(request.user, obj)]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self._visible_object_or_404(request, object_id)
        extra_context = {**(extra_context or {}), "workflow_buttons": self._workflow_buttons(request, obj)}
        return super().change_view(request, object_id, form_url, extra_context)

    def response_change(self, request, obj: Assessment):
        if not getattr(request, "_service_refused", False):
            for action in permissions.actions_allowed(request.user, obj):
                if f"_workflow_{action}" in request.POST:
                    self._move(request, obj, action)
                    return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)

    def _move(self, request, obj: Assessment, action: str) -> bool:
        label = str(Assessment.TRANSITIONS[action].label)
        success = gettext("%(action)s: done for %(assessment)s.") % {"action": label, "assessment": obj}
        if action == "return":
            return self.run_service(
                request,
                assessments.assessment_return,
                assessment=obj,
                reason=request.POST.get("reason", ""),
                success=success,
            )
        service = {"submit": assessments.assessment_submit, "approve": assessments.assessment_approve}[action]
        return self.run_service(request, service, assessment=obj, success=success)

    @admin.action(description=_("Recompute the drafts of these quarters"))
    def recompute(self, request, queryset):
        periods = queryset.values_list("unit__community__street", "year", "quarter").distinct()
        for street_id, year, quarter in periods:
            street = Street.objects.get(pk=street_id)
            period = Quarter(year, quarter)
            self.run_service(
                request,
                assessments.assessments_compute,
                street=street,
                quarter=period,
                success=gettext("%(street)s, %(quarter)s: drafts recomputed.")
                % {"street": street.name, "quarter": period.label},
            )

    @admin.action(description=_("Submit the selected assessments for approval"))
    def submit_selected(self, request, queryset):
        self._move_selected(request, queryset, "submit")

    @admin.action(description=_("Approve the selected assessments"))
    def approve_selected(self, request, queryset):
        self._move_selected(request, queryset, "approve")

    def _move_selected(self, request, queryset, action: str) -> None:
        moved = [
            obj for obj in queryset.select_related("unit") if action in permissions.actions_allowed(request.user, obj)
        ]
        for obj in moved:
            self._move(request, obj, action)
        if not moved:
            messages.warning(request, gettext("None of the selected assessments can be moved that way by you."))
