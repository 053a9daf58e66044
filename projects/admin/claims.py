"""Claims of projects: the decision page, approving and rejecting in bulk, the claim table."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import permissions, workflow
from alliance.admin import HistoryAdmin, ScopedAdminMixin
from alliance.admin.base import local_date, period_filter, truncated
from alliance.forms import call_for_form

from .. import exports, selectors, services
from ..models import ProjectClaim
from .common import C, ProjectCommunityFilter, street_wide
from .forms import DecisionForm
from .inlines import ActivityInline, ReviewInline

# A column of the list (list_display_links names the same object).
CLAIM_PROJECT = truncated("project__title", 12, _("project"), ordering="project__title")


@admin.register(ProjectClaim)
class ProjectClaimAdmin(ScopedAdminMixin, HistoryAdmin):
    """Claims are made by units in the portal; staff approve or reject them here."""

    staff_roles = "community"
    change_form_template = "admin/projects/projectclaim/change_form.html"
    list_display = [
        CLAIM_PROJECT,
        truncated("unit__name", 8, _("unit"), ordering="unit__name"),
        "project_community",
        "status",
        "claimed_on",
        "decided_on",
    ]
    list_display_links = [CLAIM_PROJECT]
    list_select_related = ["project__category", "project__community", "unit__community"]
    list_filter = [
        "status",
        "project__category",
        ProjectCommunityFilter,
        "project__is_demonstration",
        period_filter("created_at"),
    ]
    search_fields = ["unit__name", "project__title"]
    search_help_text = _("Unit or project")
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
        return obj.project.community.name if obj.project.community_id else street_wide()

    @admin.display(description=_("claimed at"), ordering="created_at")
    def claimed_on(self, obj: ProjectClaim) -> str:
        return local_date(obj.created_at)

    @admin.display(description=_("decided at"), ordering="decided_at")
    def decided_on(self, obj: ProjectClaim) -> str:
        return local_date(obj.decided_at)

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
            "community": claim.project.community.name if claim.project.community_id else street_wide(),
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
        return exports.claim_table_later(request, queryset, model_admin=self)
