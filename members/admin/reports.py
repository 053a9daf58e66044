"""The quarterly report (季度报表): staff build a quarter's report as a background job, follow it and download
the workbook."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import ModelAdmin, ScopedAdminMixin, scoped_filter
from alliance.models import Job
from alliance.periods import Quarter
from alliance.reports import Edition

from .. import reporting, selectors
from ..downloads import report_file_response
from ..models import QuarterlyReport, Street


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


class ReadyFilter(admin.SimpleListFilter):
    """The workbench's "reports ready" link: current versions built in the last 90 days."""

    title = _("ready")
    parameter_name = "ready"

    def lookups(self, request, model_admin):
        return [("yes", _("Ready in the last 90 days"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.reports_ready_q())
        return queryset


@admin.register(QuarterlyReport)
class QuarterlyReportAdmin(ScopedAdminMixin, ModelAdmin):
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
    list_filter = ["year", "quarter", "edition", "is_current", scoped_filter("street"), ReadyFilter]
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

    def _may_open(self, request) -> bool:
        # Street staff and their district's: each sees and builds the reports of the streets they oversee.
        return permissions.is_street_staff(request.user) or permissions.is_district_staff(request.user)

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
