"""Staff screens of the members app. Access through `alliance.permissions`; writes through services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from alliance import permissions, reports
from alliance.admin import ReadOnlyInline, ScopedAdminMixin, ScopedChoiceFilter
from alliance.exports import xlsx_response
from alliance.imports import ImportAdminMixin
from alliance.models import Job
from alliance.periods import QUARTER_CHOICES, Quarter
from alliance.reports import Edition

from . import assessments, exports, reporting, selectors, services
from .downloads import report_file_response
from .imports import UnitImporter
from .models import (
    Agreement,
    Assessment,
    AssessmentLine,
    AssessmentScheme,
    AssessmentSchemeItem,
    Community,
    CommunityStaff,
    CouncilSeat,
    Grid,
    MemberUnit,
    QuarterlyReport,
    Sector,
    Street,
    UnitMembership,
)
from .rules import community_ids


class CommunityScopedForm(forms.ModelForm):
    """Community staff choose only among their own communities."""

    def __init__(self, *args, request=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if request is not None and "community" in self.fields and not permissions.is_street_staff(request.user):
            self.fields["community"].queryset = Community.objects.filter(pk__in=community_ids(request.user))


@admin.register(Street)
class StreetAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "alliance_name", "community_count", "unit_count"]
    search_fields = ["name", "alliance_name"]

    def get_queryset(self, request):
        return permissions.visible(request.user, selectors.streets())

    @admin.display(description=_("communities"), ordering="community_count")
    def community_count(self, obj: Street) -> int:
        return obj.community_count

    @admin.display(description=_("active member units"), ordering="unit_count")
    def unit_count(self, obj: Street) -> int:
        return obj.unit_count


class GridInline(admin.TabularInline):
    model = Grid
    extra = 0


@admin.register(Community)
class CommunityAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "street", "sort_order", "address"]
    list_filter = ["street"]
    search_fields = ["name", "address"]
    list_select_related = ["street"]
    inlines = [GridInline]


@admin.register(Sector)
class SectorAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "street"]
    list_filter = ["kind", "street"]
    search_fields = ["name"]
    list_select_related = ["street"]


@admin.register(Grid)
class GridAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    staff_roles = "community"
    list_display = ["name", "community", "keeper_name"]
    list_filter = ["community"]
    search_fields = ["name", "keeper_name"]
    list_select_related = ["community"]


class AgreementInline(admin.TabularInline):
    model = Agreement
    extra = 0
    fields = ["title", "signed_on", "term_end", "file"]


class UnitMembershipInline(admin.TabularInline):
    model = UnitMembership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        # Accounts are granted by approval or by the "unit accounts" screen, which also grants the
        # object permissions; a bare row here would give a role without access.
        return False


class ExpiringFilter(admin.SimpleListFilter):
    title = _("term")
    parameter_name = "term"

    def lookups(self, request, model_admin):
        return [("expiring", _("Ends within 60 days")), ("expired", _("Ended"))]

    def queryset(self, request, queryset):
        today = selectors.today()
        if self.value() == "expiring":
            return queryset.filter(
                term_end__gte=today, term_end__lte=today + timedelta(days=selectors.EXPIRING_WITHIN_DAYS)
            )
        if self.value() == "expired":
            return queryset.filter(term_end__lt=today)
        return queryset


@admin.register(MemberUnit)
class MemberUnitAdmin(ImportAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    staff_roles = "community"
    importer_class = UnitImporter
    form = CommunityScopedForm
    list_display = ["name", "unit_type", "level", "community", "sector", "status", "joined_on"]
    list_filter = ["status", "unit_type", "level", "sector", "community", "party_org_kind"]
    search_fields = ["name", "credit_code", "party_org_name", "liaison_name"]
    list_select_related = ["community", "sector"]
    date_hierarchy = "joined_on"
    readonly_fields = ["status", "review_note", "applicant", "created_at", "updated_at"]
    inlines = [AgreementInline, UnitMembershipInline]
    actions = ["approve", "reject", "export_xlsx", "export_import_layout"]
    fieldsets = [
        (None, {"fields": ["name", "credit_code", "unit_type", "level", "community", "sector", "address"]}),
        (
            _("Party organisation"),
            {"fields": ["party_org_name", "party_org_kind", "secretary_name", "party_member_count"]},
        ),
        (_("Liaison"), {"fields": ["liaison_name", "liaison_phone", "liaison_email"]}),
        (_("Membership"), {"fields": ["joined_on", "status", "review_note", "applicant", "description"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class RequestForm(form_class):
            def __init__(self, *args, **kw) -> None:
                super().__init__(*args, request=request, **kw)

        return RequestForm

    def save_model(self, request, obj: MemberUnit, form, change: bool) -> None:
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
            self.save_through(request, services.unit_update, unit=obj, data=data)
        else:
            created = self.save_through(request, services.unit_create, data=dict(form.cleaned_data))
            if created is not None:
                obj.pk = created.pk

    @admin.action(description=_("Approve the selected applications"))
    def approve(self, request, queryset):
        done = sum(
            self.run_service(
                request, services.unit_approve, unit=unit, success=_("%(unit)s approved.") % {"unit": unit.name}
            )
            for unit in queryset.filter(status=MemberUnit.Status.APPLIED)
        )
        if not done:
            messages.warning(request, _("None of the selected units is waiting for approval."))

    @admin.action(description=_("Reject the selected applications"))
    def reject(self, request, queryset):
        return self.ask_reason(
            request,
            queryset.filter(status=MemberUnit.Status.APPLIED),
            service=services.unit_reject,
            object_kwarg="unit",
            success=lambda unit: _("%(unit)s rejected.") % {"unit": unit.name},
            title=_("Reject applications"),
            intro=_("These applications will be rejected; the applicants are told the reason."),
            empty=_("None of the selected units is waiting for approval."),
            describe=lambda unit: unit.name,
        )

    @admin.action(description=_("Export the selected units to Excel"))
    def export_xlsx(self, request, queryset):
        return xlsx_response("成员单位.xlsx", [exports.unit_rows(queryset)])


@admin.register(Agreement)
class AgreementAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    staff_roles = "community"
    list_display = ["unit", "title", "signed_on", "term_end"]
    list_filter = [ExpiringFilter, "signed_on"]
    search_fields = ["unit__name", "title"]
    list_select_related = ["unit"]
    autocomplete_fields = ["unit"]
    date_hierarchy = "term_end"

    def save_model(self, request, obj, form, change) -> None:
        self.save_through(request, services.agreement_save, agreement=obj)


@admin.register(CouncilSeat)
class CouncilSeatAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["role", "holder_name", "unit", "street", "term_start", "term_end"]
    list_filter = ["role", "street"]
    search_fields = ["holder_name", "unit__name"]
    list_select_related = ["unit", "street"]
    autocomplete_fields = ["unit"]


@admin.register(UnitMembership)
class UnitMembershipAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    staff_roles = "community"
    list_display = ["user", "unit", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "unit__name"]
    list_select_related = ["user", "unit"]
    autocomplete_fields = ["unit"]
    raw_id_fields = ["user"]

    actions = ["send_password_link"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description=_("Send a new password-set link"))
    def send_password_link(self, request, queryset):
        for membership in queryset.select_related("user", "unit"):
            self.run_service(
                request,
                services.unit_account_password_link,
                membership=membership,
                success=_("A new password-set link is on its way to %(user)s.") % {"user": membership.user},
            )

    def save_model(self, request, obj, form, change) -> None:
        saved = self.save_through(request, services.unit_membership_add, unit=obj.unit, user=obj.user, role=obj.role)
        if saved is not None:
            obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        self.save_through(request, services.unit_membership_remove, membership=obj)

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset:
            self.delete_model(request, membership)


@admin.register(CommunityStaff)
class CommunityStaffAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["user", "community", "created_at"]
    list_filter = ["community"]
    search_fields = ["user__username", "user__first_name"]
    list_select_related = ["user", "community"]
    raw_id_fields = ["user"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        saved = self.save_through(request, services.community_staff_add, user=obj.user, community=obj.community)
        if saved is not None:
            obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        self.save_through(request, services.community_staff_remove, assignment=obj)

    def delete_queryset(self, request, queryset) -> None:
        for assignment in queryset:
            self.delete_model(request, assignment)


def _quarter_choices(count: int = 8) -> list[tuple[str, str]]:
    """The quarters staff build reports of: the running one and the ones before it, newest first."""
    quarter, choices = Quarter.current(), []
    for _i in range(count):
        choices.append((str(quarter), _("%(year)d Q%(quarter)d") % {"year": quarter.year, "quarter": quarter.quarter}))
        quarter = quarter.previous()
    return choices


class ReportBuildForm(forms.Form):
    street = forms.ModelChoiceField(label=_("Street"), queryset=Street.objects.none(), empty_label=None)
    period = forms.ChoiceField(label=_("Quarter"))
    editions = forms.MultipleChoiceField(
        label=_("Editions"),
        choices=Edition.choices,
        initial=Edition.values,
        widget=forms.CheckboxSelectMultiple,
    )
    rebuild = forms.BooleanField(
        label=_("Build a new version even if one exists"),
        required=False,
        help_text=_("The earlier versions stay downloadable."),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = selectors.report_streets(user=user)
        self.fields["period"].choices = _quarter_choices()
        self.fields["period"].initial = str(Quarter.current().previous())


@admin.register(QuarterlyReport)
class QuarterlyReportAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """季度报表: every version of every street's report, with the progress of those being built. Staff
    build one with 生成季度报表; the quarter's close builds both editions of every street's by itself."""

    list_display = [
        "period_display",
        "street",
        "edition",
        "version",
        "is_current",
        "progress",
        "generated_at",
        "download",
    ]
    list_filter = ["year", "quarter", "edition", "is_current", "street"]
    list_select_related = ["street", "job"]
    readonly_fields = [
        "street",
        "period_display",
        "edition",
        "version",
        "is_current",
        "progress",
        "failure_reason",
        "generated_at",
        "rows",
        "size",
        "checksum",
        "requested_by",
        "download",
    ]
    fields = readonly_fields
    actions = ["rebuild"]
    change_list_template = "admin/members/quarterlyreport/change_list.html"
    change_form_template = "admin/members/quarterlyreport/change_form.html"

    def get_queryset(self, request):
        return selectors.reports_visible_to(user=request.user)

    def has_add_permission(self, request, *args) -> bool:
        return False  # built, not typed in: see build_view

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("build/", view(self.build_view), name="{}_{}_build".format(*info)),
            path("<int:pk>/download/", view(self.download_view), name="{}_{}_download".format(*info)),
            *super().get_urls(),
        ]

    @admin.display(description=_("quarter"), ordering="year")
    def period_display(self, obj: QuarterlyReport) -> str:
        return _("%(year)d Q%(quarter)d") % {"year": obj.year, "quarter": obj.quarter}

    @admin.display(description=_("progress"))
    def progress(self, obj: QuarterlyReport) -> str:
        job = obj.job
        if job.status == Job.Status.QUEUED:
            return str(job.get_status_display())
        return _("%(status)s: %(done)d of %(total)d sheets, %(rows)s rows") % {
            "status": job.get_status_display(),
            "done": job.steps_done,
            "total": job.steps_total,
            "rows": f"{job.rows_done:,}",
        }

    @admin.display(description=_("failure reason"))
    def failure_reason(self, obj: QuarterlyReport) -> str:
        return obj.job.failure_reason or "—"

    @admin.display(description=_("file"))
    def download(self, obj: QuarterlyReport) -> str:
        if not obj.ready:
            return "—"
        url = reverse("admin:members_quarterlyreport_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a> ({})', url, _("Download"), filesizeformat(obj.size))

    def build_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ReportBuildForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            for edition in data["editions"]:
                self.run_service(
                    request,
                    reporting.report_request,
                    street=data["street"],
                    quarter=Quarter.parse(data["period"]),
                    edition=edition,
                    rebuild=data["rebuild"],
                    success=_("%(title)s: building in the background; you are notified when it is ready.")
                    % {
                        "title": reporting.report_title(
                            street=data["street"], quarter=Quarter.parse(data["period"]), edition=edition
                        )
                    },
                )
            return HttpResponseRedirect(reverse("admin:members_quarterlyreport_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Build a quarterly report"),
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/members/quarterlyreport/build.html", context)

    def download_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = selectors.report_detail(user=request.user, pk=pk)
        if not report.ready:
            raise Http404
        return report_file_response(report)

    @admin.action(description=_("Build a new version of the selected reports"))
    def rebuild(self, request, queryset):
        for report in queryset.filter(is_current=True):
            self.run_service(
                request,
                reporting.report_request,
                street=report.street,
                quarter=report.period,
                edition=report.edition,
                rebuild=True,
                success=_("%(report)s: a new version is being built.") % {"report": report},
            )


# --- The units' quarterly assessment (按季度考核) ------------------------------------------------------


class AssessmentSchemeItemInline(admin.TabularInline):
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
class AssessmentSchemeAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["year", "street", "weight_total", "updated_at"]
    list_filter = ["street", "year"]
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
class AssessmentAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
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
