"""Hours served: logged, verified, totalled, and the quarterly service card per work unit."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import jobs, permissions
from alliance.admin import HistoryAdmin, ScopedAdminMixin
from alliance.admin import base as admin_base
from alliance.admin.base import PeriodFilter, period_filter, totals_row_label, truncated
from alliance.exports import export_later, register_export, xlsx_response
from alliance.models import Job
from alliance.pagination import page_of
from alliance.periods import ZONE, Quarter

from .. import exports, selectors, services
from ..models import ServiceLog
from .common import ChangelistGuard, LogCommunityFilter, M
from .forms import LogForm, ServiceCardForm, ServiceCardsForm

TOTAL_GROUPS = [
    ("community", _("Per community")),
    ("work_unit", _("Per work unit")),
    ("team", _("Per team")),
    ("quarter", _("Per quarter")),
    ("member", _("Per member")),
]
# The totals page's every grouping in full, as one workbook written by a background job.
TOTALS_EXPORT = "volunteers.hours_totals"
MY_EXPORTS_SHOWN = 5
PAGED_TOTALS = ("work_unit", "team", "member")
DATE_PERIOD = period_filter("date")


def summary_scope(user, query: QueryDict) -> selectors.HoursScope | None:
    """The totals of the service-log list's filters read from the monthly sums: the list's sidebar filters
    (verified, the date's period, the community) all narrow whole months of a member's verified hours, and
    the list's order and page change no total. Anything else — a search, a lookup typed into the address —
    returns None: the totals are then summed over the logs the change list itself selects, which also
    answers a bad value as the list does (back to it with ?e=1)."""
    community_param, period_param = LogCommunityFilter.parameter_name, DATE_PERIOD.parameter_name
    paging = {f"{key}_page" for key in PAGED_TOTALS} | {"o", "p"}
    if set(query) - paging - {"verified__exact", period_param, community_param}:
        return None
    verified = query.get("verified__exact")
    if verified not in (None, "1", "0"):
        return None
    # The filters' own readings of their values: a period they do not know, or a community that is not a
    # small number, narrows nothing.
    bounds = PeriodFilter.bounds(query.get(period_param), timezone.localdate(timezone=ZONE))
    community = query.get(community_param) or ""
    return selectors.HoursScope(
        user=user,
        community_id=int(community) if community.isdigit() and len(community) < 12 else None,
        start=bounds[0] if bounds else None,
        end=bounds[1] if bounds else None,
        none=verified == "0",
    )


@admin.register(ServiceLog)
class ServiceLogAdmin(ChangelistGuard, ScopedAdminMixin, HistoryAdmin):
    """Hours served. Members log them in the portal, staff may log them on a member's behalf; the member's
    community staff verify them. Only verified hours count in the totals and on the service card."""

    staff_roles = "community"
    form = LogForm
    change_list_template = "admin/volunteers/servicelog/change_list.html"
    list_display = [
        "date",
        truncated("member__name", 6, _("member"), ordering="member__name"),
        "member_community",
        "hours",
        truncated("description", 14, _("what was done")),
        "verified",
        "logged_by",
    ]
    list_select_related = ["member__residence_community", "logged_by"]
    # "Rejected: empty" is what still waits for a decision (the workbench's to-do links there).
    list_filter = ["verified", ("rejected_at", admin.EmptyFieldListFilter), period_filter("date"), LogCommunityFilter]
    search_fields = ["member__name", "description"]
    search_help_text = _("Member or what was done")
    list_per_page = 50
    autocomplete_fields = ["member", "post"]
    raw_id_fields = ["wish", "activity"]
    actions = ["verify", "reject"]

    def get_queryset(self, request):
        return selectors.logs_visible_to(user=request.user).select_related("logged_by")

    def has_change_permission(self, request, obj=None) -> bool:
        # Logged once, through the service; there is no service that changes logged hours.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_fields(self, request, obj=None):
        fields = ["member", *services.LOG_FIELDS]
        return (
            fields
            if obj is None
            else [*fields, "logged_by", "verified", "verified_by", "verified_at", "rejected_at", "reject_reason"]
        )

    def get_changeform_initial_data(self, request):
        return {"date": timezone.localdate(), **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "wish":
            # Given here: the needs screen's ordering uses annotations of its own queryset.
            kwargs["queryset"] = db_field.related_model._default_manager.filter(kind="micro_wish")
        if db_field.name == "activity":
            kwargs["queryset"] = db_field.related_model._default_manager.all()
        if db_field.name == "member":
            kwargs["queryset"] = selectors.members_visible_to(user=request.user).filter(status=M.VERIFIED)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("community"), ordering="member__residence_community__name")
    def member_community(self, obj: ServiceLog) -> str:
        return obj.member.residence_community.name

    def save_model(self, request, obj: ServiceLog, form, change: bool) -> None:
        if change:
            return
        created = self.save_through(
            request,
            services.log_hours,
            member=form.cleaned_data["member"],
            data={n: form.cleaned_data[n] for n in services.LOG_FIELDS if n in form.cleaned_data},
        )
        if created is not None:
            obj.pk = created.pk

    @admin.action(description=_("Verify the selected hours"))
    def verify(self, request, queryset):
        done = sum(
            self.run_service(
                request,
                services.log_verify,
                log=log,
                success=gettext("%(hours)s hours of %(name)s on %(date)s are verified.")
                % {"hours": log.hours, "name": log.member.name, "date": log.date.isoformat()},
            )
            for log in queryset.filter(verified=False, rejected_at=None)
        )
        if not done:
            messages.warning(request, gettext("None of the selected hours is waiting for verification."))

    @admin.action(description=_("Reject the selected hours"))
    def reject(self, request, queryset):
        return self.ask_reason(
            request,
            queryset.filter(verified=False, rejected_at=None).select_related("member"),
            service=services.log_reject,
            object_kwarg="log",
            success=lambda log: (
                gettext("%(hours)s hours of %(name)s on %(date)s are rejected.")
                % {"hours": log.hours, "name": log.member.name, "date": log.date.isoformat()}
            ),
            none_done=gettext("None of the selected hours is waiting for verification."),
            title=gettext("Reject service hours"),
            intro=gettext("These hours will not be verified and count in no total; the members are told the reason."),
            empty=gettext("None of the selected hours is waiting for verification."),
            describe=lambda log: f"{log.member.name} · {log.date.isoformat()} · {log.hours}",
            detail=lambda log: log.description,
        )

    # --- Totals and the service card ---

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("totals/", self.admin_site.admin_view(self.totals_view), name="{}_{}_totals".format(*info)),
            path(
                "totals/export/",
                self.admin_site.admin_view(self.totals_export_view),
                name="{}_{}_totals_export".format(*info),
            ),
            path(
                "service-card/",
                self.admin_site.admin_view(self.service_card_view),
                name="{}_{}_service_card".format(*info),
            ),
            *super().get_urls(),
        ]

    def totals_view(self, request: HttpRequest) -> HttpResponse:
        """Verified hours of the logs the list shows with the same filters and search."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist_url = reverse("admin:volunteers_servicelog_changelist")
        scope = summary_scope(request.user, request.GET)
        if scope is not None:
            groups, filters = self.summary_groups(request, scope)
        else:
            try:
                groups, filters = self.totals_groups(
                    request,
                    groups=TOTAL_GROUPS,
                    rows_of=lambda key, logs: selectors.hours_totals_rows(by=key, logs=logs),
                    paged=PAGED_TOTALS,
                )
            except (IncorrectLookupParameters, OverflowError, DataError):
                return HttpResponseRedirect(changelist_url + "?e=1")
        # Every log has exactly one residence community, so the community rows (summed in SQL) add up to
        # the total without another pass over the logs.
        overall = {
            "hours": sum((row["hours"] for row in groups[0]["rows"]), start=0),
            "services": sum(row["services"] for row in groups[0]["rows"]),
        }
        query = filters.urlencode()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Totals of verified service hours"),
            "opts": self.opts,
            "groups": groups,
            "overall": overall,
            "filtered": bool(query),
            "changelist_url": changelist_url + (f"?{query}" if query else ""),
            "query": query,
            "exports": Job.objects.filter(kind=TOTALS_EXPORT, requested_by=request.user).order_by("-created_at", "-id")[
                :MY_EXPORTS_SHOWN
            ],
        }
        return TemplateResponse(request, "admin/volunteers/servicelog/totals.html", context)

    def summary_groups(self, request: HttpRequest, scope: selectors.HoursScope) -> tuple[list[dict], QueryDict]:
        """The totals page's tables from the monthly sums: one grouped query per grouping, those that grow
        with the city a page at a time (as `totals_groups` over the logs)."""
        filters = request.GET.copy()
        for key in PAGED_TOTALS:
            filters.pop(f"{key}_page", None)
        tables = []
        for key, label in TOTAL_GROUPS:
            rows = selectors.hours_summary_rows(by=key, scope=scope)
            page = None
            if key in PAGED_TOTALS:
                page = page_of(rows, request.GET, per_page=admin_base.TOTALS_PER_PAGE, param=f"{key}_page")
            rows = page.object_list if page is not None else list(rows)
            for row in rows:
                row["label"] = totals_row_label(key, row)
            tables.append({"key": key, "label": label, "rows": rows, "page": page})
        return tables, filters

    def totals_export_view(self, request: HttpRequest) -> HttpResponse:
        """Ask for the whole table of the totals page (with the list's filters) as a workbook: an export
        job (`alliance.exports`), followed and downloaded on the job's page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        return export_later(
            request,
            TOTALS_EXPORT,
            queryset=None,
            filename=gettext("service-hours-totals.xlsx"),
            label=gettext("Totals of verified service hours"),
            # The list's filters, not the ids of its rows: a city's list has millions.
            params={"query": QueryDict(request.POST.get("query", "")).urlencode()},
        )

    def service_card_view(self, request: HttpRequest) -> HttpResponse:
        """一单一表一卡 per work unit and quarter, as a workbook for the unit (no phone numbers)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        current = Quarter.current()
        initial = {"year": current.year, "quarter": current.quarter}
        every_unit = ServiceCardsForm(request.POST or None, initial=initial, prefix="all")
        if request.method == "POST" and every_unit.is_valid():
            year, quarter = every_unit.cleaned_data["year"], every_unit.cleaned_data["quarter"]
            return export_later(
                request,
                exports.EXPORT_SERVICE_CARDS,
                queryset=None,
                filename=gettext("service-cards-%(year)d-Q%(quarter)d.xlsx") % {"year": year, "quarter": quarter},
                label=gettext("Service cards of every work unit, %(year)d Q%(quarter)d")
                % {"year": year, "quarter": quarter},
                params={"year": year, "quarter": quarter},
            )
        form = ServiceCardForm(request.GET or None, initial=initial)
        if form.is_bound and form.is_valid():
            unit = form.cleaned_data["work_unit"]
            year, quarter = form.cleaned_data["year"], form.cleaned_data["quarter"]
            scope = permissions.seen_communities(request.user)
            sheet = exports.service_card_rows(work_unit=unit, year=year, quarter=quarter, community_ids=scope)
            filename = gettext("service-card-%(unit)s-%(year)d-Q%(quarter)d.xlsx") % {
                "unit": unit.name,
                "year": year,
                "quarter": quarter,
            }
            return xlsx_response(filename, [sheet])
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Quarterly service card per work unit"),
            "opts": self.opts,
            "form": form,
            "every_unit": every_unit,
            "changelist_url": reverse("admin:volunteers_servicelog_changelist"),
        }
        return TemplateResponse(request, "admin/volunteers/servicelog/service_card.html", context)


def totals_sheets(_rows: None, user, params: dict):
    """The export's sheets: the verified hours the requester's list showed with the filters they had
    chosen, totalled per grouping, one sheet each — read as the totals page reads them (the monthly sums
    for the list's sidebar filters, else the logs through the same change list), so the file and the
    page cannot disagree."""
    model_admin = admin.site.get_model_admin(ServiceLog)
    query = QueryDict(params.get("query", ""))
    scope = summary_scope(user, query)
    request = HttpRequest()
    request.method = "GET"
    request.path = reverse("admin:volunteers_servicelog_changelist")
    request.GET = query
    request.user = user
    if not model_admin.has_view_permission(request):
        raise jobs.JobFailed(gettext("The account that asked for these totals may no longer see the hours."))
    if scope is not None:
        return exports.hours_totals_sheets(
            rows_of=lambda key: selectors.hours_summary_rows(by=key, scope=scope), groups=TOTAL_GROUPS
        )
    try:
        logs = model_admin.get_changelist_instance(request).get_queryset(request)
    except (IncorrectLookupParameters, OverflowError, DataError) as exc:
        raise jobs.JobFailed(gettext("The list's filters chosen for these totals are not valid.")) from exc
    return exports.hours_totals_sheets(
        rows_of=lambda key: selectors.hours_totals_rows(by=key, logs=logs), groups=TOTAL_GROUPS
    )


register_export(TOTALS_EXPORT, None, totals_sheets)
