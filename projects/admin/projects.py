"""Service projects: opened for claims, started, finished, marked as demonstration projects (示范项目); the
claim table of their claims."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import HistoryAdmin, ScopedAdminMixin
from alliance.admin.base import period_filter
from members import selectors as member_selectors

from .. import exports, selectors, services
from ..models import ServiceProject
from .common import CommunityFilter, P, street_wide
from .forms import PlaqueForm, ProjectForm
from .inlines import ClaimInline


@admin.register(ServiceProject)
class ServiceProjectAdmin(ScopedAdminMixin, HistoryAdmin):
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
    list_filter = ["status", "category", CommunityFilter, "is_demonstration", period_filter("starts_on")]
    search_fields = ["title", "description"]
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
        return obj.community.name if obj.community_id else street_wide()

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
        return exports.claim_table_later(request, claims)
