"""Staff screens of the projects app: projects with their claims, deciding on claims, activities with
their totals, and quarterly commitment reviews.

Access through `alliance.permissions` (community staff see and decide on their communities' projects);
every write through `projects.services`, every read through `projects.selectors`."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from alliance import permissions, workflow
from alliance.admin import ReadOnlyInline, ScopedAdminMixin, ScopedChoiceFilter, totals_row_label
from alliance.exports import xlsx_response
from alliance.forms import MultiplePhotoField, call_for_form
from alliance.periods import Quarter
from demands import selectors as demand_selectors
from members import selectors as member_selectors

from . import exports, selectors, services
from .models import ActivityPhoto, CommitmentReview, ProjectClaim, ServiceActivity, ServiceProject

P = ServiceProject.Status
C = ProjectClaim.Status
DECIDED = (C.APPROVED, C.COMPLETED)  # the claims under which activities are recorded and reviewed


def _street_wide() -> str:
    return gettext("Street-wide")


def _claim_table_response(claims) -> HttpResponse:
    filename = "{}-{}.xlsx".format(gettext("claim-table"), timezone.localdate().isoformat())
    return xlsx_response(filename, [exports.claim_table_rows(claims)])


# --- Filters ----------------------------------------------------------------------------------------


class CommunityFilter(ScopedChoiceFilter):
    """The project's community, with "street-wide" for projects of no one community. Staff are offered
    the communities they work for (all of them, for street staff)."""

    title = _("community")
    parameter_name = "community"
    field = "community"
    none_label = _("Street-wide")

    def choices_for(self, request):
        return member_selectors.communities_administered_by(user=request.user).order_by("sort_order", "id")


class ProjectCommunityFilter(CommunityFilter):
    field = "project__community"


class ActivityCommunityFilter(CommunityFilter):
    field = "claim__project__community"


# --- Inlines ----------------------------------------------------------------------------------------


class ClaimInline(ReadOnlyInline):
    """A project's claims; decisions are the claim screen's (actions, or "Decide" on a claim)."""

    model = ProjectClaim
    fields = ["unit", "commitment", "status", "created_at", "decided_at"]
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = _("claims")

    def get_queryset(self, request):
        # On a street-wide project a community's staff see the claims of their own communities' units
        # only — the same answer as the claim list.
        return permissions.visible(request.user, super().get_queryset(request).select_related("unit"))


class ActivityInline(ReadOnlyInline):
    model = ServiceActivity
    fields = ["date", "title", "place", "participants", "services", "beneficiaries", "hours"]
    readonly_fields = fields
    show_change_link = True


class ReviewInline(ReadOnlyInline):
    model = CommitmentReview
    fields = ["year", "quarter", "score", "comment", "reviewer"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reviewer")


class ActivityPhotoInline(ReadOnlyInline):
    model = ActivityPhoto
    fields = ["preview"]
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def preview(self, obj: ActivityPhoto) -> str:
        if not obj.image:
            return "—"
        return format_html(
            '<a href="{0}" target="_blank" rel="noopener"><img src="{0}" alt="" style="max-height:120px"></a>',
            obj.image.url,
        )


# --- Forms --------------------------------------------------------------------------------------------


class ProjectForm(forms.ModelForm):
    class Meta:
        model = ServiceProject
        fields = list(services.PROJECT_FIELDS)

    def clean(self):
        cleaned = super().clean()
        street, community = cleaned.get("street"), cleaned.get("community")
        if street is not None and community is not None and community.street_id != street.pk:
            self.add_error("community", gettext("This community does not belong to the chosen street."))
        return cleaned


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed to reject the claim; the unit is told it."),
    )


class PlaqueForm(forms.Form):
    plaque_awarded_on = forms.DateField(
        label=_("Plaque awarded on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class ActivityForm(forms.ModelForm):
    photos = MultiplePhotoField(
        label=_("photos"),
        required=False,
        help_text=_("Up to %(count)d photos (jpg, png, webp).") % {"count": services.MAX_PHOTOS},
    )

    class Meta:
        model = ServiceActivity
        fields = ["claim", *services.ACTIVITY_FIELDS]


class ReviewForm(forms.ModelForm):
    class Meta:
        model = CommitmentReview
        fields = ["claim", "year", "quarter", "score", "comment"]


def _limit_to_decided_claims(db_field, request, kwargs: dict) -> None:
    """Activities and reviews belong to approved claims the user may see (the service checks again)."""
    if db_field.name == "claim":
        kwargs["queryset"] = selectors.claims_visible_to(user=request.user).filter(status__in=DECIDED)


# --- Projects -------------------------------------------------------------------------------------


@admin.register(ServiceProject)
class ServiceProjectAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    staff_roles = "community"
    form = ProjectForm
    list_display = [
        "title",
        "category",
        "community_display",
        "period",
        "places",
        "places_taken",
        "places_left_display",
        "is_demonstration",
        "plaque_awarded_on",
        "status",
    ]
    list_select_related = ["category", "community", "street"]
    list_filter = ["status", "category", CommunityFilter, "is_demonstration"]
    search_fields = ["title", "description"]
    date_hierarchy = "starts_on"
    list_per_page = 50
    actions = ["open_for_claims", "start", "finish", "mark_demonstration", "export_claim_table"]

    def get_queryset(self, request):
        return selectors.projects_visible_to(user=request.user)

    def get_inlines(self, request, obj):
        return [ClaimInline] if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        # There is no service that deletes a project; a project that should not run is left a draft.
        return False

    # --- Columns ---

    @admin.display(description=_("community"), ordering="community__name")
    def community_display(self, obj: ServiceProject) -> str:
        return obj.community.name if obj.community_id else _street_wide()

    @admin.display(description=_("period"), ordering="starts_on")
    def period(self, obj: ServiceProject) -> str:
        return f"{obj.starts_on:%Y-%m-%d} – {obj.ends_on:%Y-%m-%d}"

    @admin.display(description=_("places left"), ordering="places_left_db")
    def places_left_display(self, obj: ServiceProject) -> int:
        return getattr(obj, "places_left_db", obj.places_left)

    # --- The form ---

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["title", "category", "description"]}),
            (_("Where and when"), {"fields": ["street", "community", "starts_on", "ends_on", "places"]}),
            (_("Demonstration and plaque"), {"fields": ["is_demonstration", "plaque_awarded_on"]}),
        ]
        if obj is not None:
            fieldsets.append(
                (
                    _("Status and places"),
                    {"fields": ["status", "places_taken", "places_left_display", "needs", "created_at", "updated_at"]},
                )
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["status", "places_taken", "places_left_display", "needs", "created_at", "updated_at"]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        communities = list(member_selectors.communities_administered_by(user=request.user)[:2])
        if communities:  # the street of the deployment's (or the staff member's) communities
            initial.setdefault("street", communities[0].street_id)
        if len(communities) == 1 and not permissions.is_street_staff(request.user):
            initial.setdefault("community", communities[0].pk)  # community staff of one community: theirs
        return initial

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            # Community staff create projects for their communities only (the service checks it too).
            kwargs["queryset"] = member_selectors.communities_administered_by(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: ServiceProject, form, change: bool) -> None:
        if change:
            data = {n: form.cleaned_data[n] for n in form.changed_data if n in services.PROJECT_FIELDS}
            if data:
                self.save_through(request, services.project_update, project=obj, data=data)
            return
        data = {n: form.cleaned_data[n] for n in services.PROJECT_FIELDS if n in form.cleaned_data}
        created = self.save_through(request, services.project_create, data=data)
        if created is not None:
            obj.pk = created.pk

    # --- Actions ---

    def _move_each(self, request, queryset, service, sources, success: str, none: str) -> None:
        done = sum(
            self.run_service(request, service, project=project, success=success % {"project": project.title})
            for project in queryset.filter(status__in=sources)
        )
        if not done:
            messages.warning(request, none)

    @admin.action(description=_("Open the selected projects for claims"))
    def open_for_claims(self, request, queryset):
        self._move_each(
            request,
            queryset,
            services.project_open,
            [P.DRAFT],
            gettext("%(project)s is open for claims."),
            gettext("Only draft projects can be opened for claims."),
        )

    @admin.action(description=_("Start the selected projects (claims close)"))
    def start(self, request, queryset):
        self._move_each(
            request,
            queryset,
            services.project_start,
            [P.OPEN],
            gettext("%(project)s is running."),
            gettext("Only projects open for claims can be started."),
        )

    @admin.action(description=_("Finish the selected projects"))
    def finish(self, request, queryset):
        self._move_each(
            request,
            queryset,
            services.project_finish,
            [P.OPEN, P.RUNNING],
            gettext("%(project)s is finished."),
            gettext("Only projects open for claims or running can be finished."),
        )

    @admin.action(description=_("Mark the selected projects as demonstration projects (with the plaque date)"))
    def mark_demonstration(self, request, queryset):
        form = PlaqueForm(
            request.POST if "apply" in request.POST else None, initial={"plaque_awarded_on": timezone.localdate()}
        )
        if form.is_valid():
            awarded_on = form.cleaned_data["plaque_awarded_on"]
            done = sum(
                self.run_service(
                    request,
                    services.project_update,
                    project=project,
                    data={"is_demonstration": True, "plaque_awarded_on": awarded_on},
                    success=gettext("%(project)s is a demonstration project.") % {"project": project.title},
                )
                for project in queryset
            )
            if not done:
                messages.warning(request, gettext("None of the selected projects was marked."))
            return HttpResponseRedirect(request.get_full_path())
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Mark demonstration projects"),
            "form": form,
            "objects": queryset,
            "action": "mark_demonstration",
            "opts": self.opts,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/projects/serviceproject/demonstration.html", context)

    @admin.action(description=_("Export the claim table of the selected projects to Excel"))
    def export_claim_table(self, request, queryset):
        claims = selectors.claims_visible_to(user=request.user).filter(project_id__in=queryset.values("pk"))
        return _claim_table_response(claims)


# --- Claims ---------------------------------------------------------------------------------------


@admin.register(ProjectClaim)
class ProjectClaimAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """Claims are made by units in the portal; staff approve or reject them here."""

    staff_roles = "community"
    change_form_template = "admin/projects/projectclaim/change_form.html"
    list_display = ["project", "unit", "project_community", "status", "created_at", "decided_at"]
    list_select_related = ["project__category", "project__community", "unit__community"]
    list_filter = ["status", "project__category", ProjectCommunityFilter, "project__is_demonstration"]
    search_fields = ["unit__name", "project__title"]
    search_help_text = _("Unit or project")
    date_hierarchy = "created_at"
    list_per_page = 50
    fields = [
        "project",
        "unit",
        "commitment",
        "status",
        "claimed_by",
        "created_at",
        "decided_at",
        "decision_note",
    ]
    readonly_fields = fields
    inlines = [ActivityInline, ReviewInline]
    actions = ["approve", "reject", "export_claim_table"]

    def get_queryset(self, request):
        return selectors.claims_visible_to(user=request.user)

    def has_add_permission(self, request, *args) -> bool:
        return False  # a unit claims for itself, with its own commitment, in the portal

    def has_change_permission(self, request, obj=None) -> bool:
        # The claim's text is the unit's; staff only decide, through the actions or the decision page.
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=_("community"), ordering="project__community__name")
    def project_community(self, obj: ProjectClaim) -> str:
        return obj.project.community.name if obj.project.community_id else _street_wide()

    # --- The decision page ---

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="{}_{}_decide".format(*info)),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["can_decide"] = "approve" in permissions.actions_allowed(request.user, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        claim = selectors.claim_detail(user=request.user, pk=pk)  # 404 when the user may not see it
        if not permissions.can_change(request.user, claim):
            raise PermissionDenied
        change_url = reverse("admin:projects_projectclaim_change", args=[claim.pk])
        if "approve" not in permissions.actions_allowed(request.user, claim):
            messages.warning(request, workflow.refusal_for(claim, "approve"))
            return HttpResponseRedirect(change_url)
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if "reject" in request.POST:
                done = call_for_form(
                    form, services.claim_reject, claim=claim, actor=request.user, reason=form.cleaned_data["reason"]
                )
                success = gettext("The claim of %(unit)s is rejected.")
            else:
                done = call_for_form(form, services.claim_approve, claim=claim, actor=request.user)
                success = gettext("The claim of %(unit)s is approved.")
            if done is not None:
                messages.success(request, success % {"unit": claim.unit.name})
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Decide on the claim of %(unit)s") % {"unit": claim.unit.name},
            "opts": self.opts,
            "original": claim,
            "claim": claim,
            "project": claim.project,
            "community": claim.project.community.name if claim.project.community_id else _street_wide(),
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/projects/projectclaim/decide.html", context)

    # --- Actions ---

    @admin.action(description=_("Approve the selected claims"))
    def approve(self, request, queryset):
        done = sum(
            self.run_service(
                request,
                services.claim_approve,
                claim=claim,
                success=gettext("The claim of %(unit)s on %(project)s is approved.")
                % {"unit": claim.unit.name, "project": claim.project.title},
            )
            for claim in queryset.filter(status=C.PENDING)
        )
        if not done:
            messages.warning(request, gettext("None of the selected claims is waiting for approval."))

    @admin.action(description=_("Reject the selected claims"))
    def reject(self, request, queryset):
        return self.ask_reason(
            request,
            queryset.filter(status=C.PENDING),
            service=services.claim_reject,
            object_kwarg="claim",
            success=lambda claim: (
                gettext("The claim of %(unit)s on %(project)s is rejected.")
                % {"unit": claim.unit.name, "project": claim.project.title}
            ),
            none_done=gettext("None of the selected claims is waiting for approval."),
            title=gettext("Reject claims"),
            intro=gettext("These claims will be rejected and their places freed; the units are told the reason."),
            empty=gettext("None of the selected claims is waiting for approval."),
            describe=lambda claim: f"{claim.unit.name} · {claim.project.title}",
            detail=lambda claim: Truncator(claim.commitment).chars(120),
        )

    @admin.action(description=_("Export the selected claims to Excel (claim table)"))
    def export_claim_table(self, request, queryset):
        return _claim_table_response(queryset)


# --- Activities -----------------------------------------------------------------------------------


TOTAL_GROUPS = [
    ("category", _("Per category")),
    ("quarter", _("Per quarter")),
    ("community", _("Per community")),
    ("project", _("Per project")),
    ("unit", _("Per unit")),
]


@admin.register(ServiceActivity)
class ServiceActivityAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
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
    list_filter = ["claim__project__category", ActivityCommunityFilter, "claim__project__is_demonstration"]
    search_fields = ["title", "place", "claim__unit__name", "claim__project__title"]
    search_help_text = _("Title, place, unit or project")
    date_hierarchy = "date"
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
        _limit_to_decided_claims(db_field, request, kwargs)
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
            activities = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(changelist_url + "?e=1")
        groups = []
        for key, label in TOTAL_GROUPS:
            rows = selectors.activity_totals(by=key, activities=activities)
            for row in rows:
                row["label"] = totals_row_label(key, row)
            groups.append({"key": key, "label": label, "rows": rows})
        # Every activity has exactly one category, so the category rows (already summed in SQL) add up to
        # the grand total without another pass over the activities.
        fields = ("activities", "services", "beneficiaries", "participants", "hours")
        overall = {f: sum(row[f] for row in groups[0]["rows"]) for f in fields}
        query = request.GET.urlencode()
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


# --- Reviews --------------------------------------------------------------------------------------


@admin.register(CommitmentReview)
class CommitmentReviewAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """承诺评议: staff's quarterly score of a claim, beside the residents' ratings of the needs the unit
    completed in that quarter."""

    staff_roles = "community"
    form = ReviewForm
    list_display = ["claim", "year", "quarter", "score", "resident_rating", "reviewer", "created_at"]
    list_select_related = ["claim__project", "claim__unit", "reviewer"]
    list_filter = ["year", "quarter", "score", "claim__project__category", "claim__project__is_demonstration"]
    search_fields = ["claim__unit__name", "claim__project__title", "comment"]
    search_help_text = _("Unit, project or comment")
    list_per_page = 50

    def get_queryset(self, request):
        return selectors.reviews_visible_to(user=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a score is corrected by saving it again, which the history keeps

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["claim", "year", "quarter", "score", "comment"]
        return ["claim", "year", "quarter", "score", "comment", "resident_rating", "reviewer", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["claim", "year", "quarter", "resident_rating", "reviewer", "created_at"]

    def get_changeform_initial_data(self, request):
        current = Quarter.current()
        return {"year": current.year, "quarter": current.quarter, **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        _limit_to_decided_claims(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changelist_instance(self, request):
        """The residents' ratings of the page's units, in one query for the whole page."""
        changelist = super().get_changelist_instance(request)
        reviews = list(changelist.result_list)  # evaluates the page once; the template reuses the cache
        ratings = demand_selectors.unit_quarter_ratings(unit_ids={r.claim.unit_id for r in reviews})
        for review in reviews:
            review._resident_rating = ratings.get((review.claim.unit_id, review.year, review.quarter))
        return changelist

    @admin.display(description=_("residents' rating"))
    def resident_rating(self, obj: CommitmentReview) -> str:
        if not hasattr(obj, "_resident_rating"):  # the change page: one review, one query
            ratings = demand_selectors.unit_quarter_ratings(unit_ids=[obj.claim.unit_id])
            obj._resident_rating = ratings.get((obj.claim.unit_id, obj.year, obj.quarter))
        if obj._resident_rating is None:
            return "—"
        average, count = obj._resident_rating
        return ngettext("%(average).1f (%(count)d rating)", "%(average).1f (%(count)d ratings)", count) % {
            "average": average,
            "count": count,
        }

    def save_model(self, request, obj: CommitmentReview, form, change: bool) -> None:
        data = form.cleaned_data
        claim = obj.claim if change else data["claim"]
        saved = self.save_through(
            request,
            services.review_save,
            claim=claim,
            year=obj.year if change else data["year"],
            quarter=obj.quarter if change else data["quarter"],
            score=data["score"],
            comment=data.get("comment", ""),
        )
        if saved is not None:
            obj.pk = saved.pk
