"""Service activities recorded under approved claims, and their totals."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance.admin import HistoryAdmin, ScopedAdminMixin
from alliance.admin.base import period_filter

from .. import selectors, services
from ..models import ServiceActivity
from .common import ActivityCommunityFilter, limit_to_decided_claims
from .forms import ActivityForm
from .inlines import ActivityPhotoInline

TOTAL_GROUPS = [
    ("category", _("Per category")),
    ("quarter", _("Per quarter")),
    ("community", _("Per community")),
    ("project", _("Per project")),
    ("unit", _("Per unit")),
]


@admin.register(ServiceActivity)
class ServiceActivityAdmin(ScopedAdminMixin, HistoryAdmin):
    """What units did under their claims. Units record them in the portal; staff may record one on a
    unit's behalf. The totals page sums the activities of the current filter in SQL."""

    staff_roles = "community"
    form = ActivityForm
    change_list_template = "admin/projects/serviceactivity/change_list.html"
    list_display = [
        "date",
        "title",
        "project",
        "unit",
        "participants",
        "services",
        "beneficiaries",
        "hours",
        "recorded_by",
    ]
    list_select_related = ["claim__project__category", "claim__unit", "recorded_by"]
    list_filter = [
        "claim__project__category",
        ActivityCommunityFilter,
        "claim__project__is_demonstration",
        period_filter("date"),
    ]
    search_fields = ["title", "place", "claim__unit__name", "claim__project__title"]
    search_help_text = _("Title, place, unit or project")
    list_per_page = 50

    def get_queryset(self, request):
        return selectors.activities_visible_to(user=request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        # Recorded once, through the service; there is no service that changes a recorded activity.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the figures the street reports are made of these rows

    def get_inlines(self, request, obj):
        return [ActivityPhotoInline] if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["claim", *services.ACTIVITY_FIELDS, "photos"]
        return ["claim", *services.ACTIVITY_FIELDS, "recorded_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def get_changeform_initial_data(self, request):
        return {"date": timezone.localdate(), **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        limit_to_decided_claims(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("project"), ordering="claim__project__title")
    def project(self, obj: ServiceActivity) -> str:
        return obj.claim.project.title

    @admin.display(description=_("unit"), ordering="claim__unit__name")
    def unit(self, obj: ServiceActivity) -> str:
        return obj.claim.unit.name

    def save_model(self, request, obj: ServiceActivity, form, change: bool) -> None:
        if change:
            return  # read-only: has_change_permission refuses objects
        created = self.save_through(
            request,
            services.activity_record,
            claim=form.cleaned_data["claim"],
            data={n: form.cleaned_data[n] for n in services.ACTIVITY_FIELDS if n in form.cleaned_data},
            photos=form.cleaned_data.get("photos") or (),
        )
        if created is not None:
            obj.pk = created.pk

    # --- Totals ---

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("totals/", self.admin_site.admin_view(self.totals_view), name="{}_{}_totals".format(*info)),
            *super().get_urls(),
        ]

    def totals_view(self, request: HttpRequest) -> HttpResponse:
        """Totals of the activities the changelist shows with the same filters, search and dates."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist_url = reverse("admin:projects_serviceactivity_changelist")
        try:
            groups, filters = self.totals_groups(
                request,
                groups=TOTAL_GROUPS,
                rows_of=lambda key, activities: selectors.activity_totals_rows(by=key, activities=activities),
                paged=["project", "unit"],
            )
        except IncorrectLookupParameters:
            return HttpResponseRedirect(changelist_url + "?e=1")
        # Every activity has exactly one category, so the category rows (already summed in SQL) add up to
        # the grand total without another pass over the activities.
        fields = ("activities", "services", "beneficiaries", "participants", "hours")
        overall = {f: sum(row[f] for row in groups[0]["rows"]) for f in fields}
        query = filters.urlencode()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Totals of service activities"),
            "opts": self.opts,
            "groups": groups,
            "overall": overall,
            "filtered": bool(query),
            "changelist_url": changelist_url + (f"?{query}" if query else ""),
        }
        return TemplateResponse(request, "admin/projects/serviceactivity/totals.html", context)
