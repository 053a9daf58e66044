"""The rows shown with a project, a claim and an activity: read here, written by the services."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import ReadOnlyInline

from ..models import ActivityPhoto, CommitmentReview, ProjectClaim, ServiceActivity


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
