"""The rows shown on a meeting's page and a resolution's page."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import ReadOnlyInline, TabularInline

from .. import selectors
from ..models import Invitation, MeetingAttachment, Resolution, ResolutionProgress
from .common import M, attendance_open, invitable_units
from .forms import AttendanceForm, NewResolutionForm


class MeetingChildInline(TabularInline):
    """A meeting's rows: seen with it (its admin decided who sees it), changed by its staff."""

    extra = 0

    def _may_change(self, request, obj) -> bool:
        return obj is not None and obj.pk is not None and permissions.can_change(request.user, obj)

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    def has_add_permission(self, request, obj=None) -> bool:
        return self._may_change(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_change(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_change(request, obj)


class InvitationInline(MeetingChildInline):
    model = Invitation
    form = AttendanceForm
    can_delete = False
    readonly_fields = ["invitee", "status", "responded_at", "responded_by"]
    verbose_name_plural = _("invitations and attendance")

    def get_fields(self, request, obj=None):
        fields = ["invitee", "status", "responded_at", "responded_by"]
        return [*fields, "attendance"] if attendance_open(request, obj) else fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit", "person", "responded_by")

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # inviting is the "Invite units" page, through the service

    def has_change_permission(self, request, obj=None) -> bool:
        return attendance_open(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # there is no service that withdraws an invitation

    @admin.display(description=_("invitee"))
    def invitee(self, obj: Invitation) -> str:
        if obj.unit_id:
            return obj.unit.name
        return (obj.person.get_full_name() or obj.person.get_username()) if obj.person_id else "—"


class ResolutionInline(ReadOnlyInline):
    model = Resolution
    fields = ["text", "owner", "due_date", "status", "overdue"]
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = _("resolutions of this meeting")

    def get_queryset(self, request):
        return selectors.with_overdue(super().get_queryset(request).select_related("owner"))

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj: Resolution) -> bool:
        return bool(getattr(obj, "is_overdue", False))


class NewResolutionInline(MeetingChildInline):
    """Only new rows: each is created through `resolution_create` in `save_formset`."""

    model = Resolution
    form = NewResolutionForm
    fields = ["text", "owner", "due_date"]
    extra = 1
    can_delete = False
    verbose_name = _("new resolution")
    verbose_name_plural = _("add resolutions")

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_add_permission(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._may_change(request, obj) and obj.status != M.CANCELLED

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            kwargs["queryset"] = invitable_units(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AttachmentInline(MeetingChildInline):
    """Plain files filed with the meeting (sign-in sheets, photos, the printed minutes). There is no
    workflow on them and no service: the meeting's staff add and remove them here."""

    model = MeetingAttachment
    fields = ["title", "file"]


class ProgressInline(ReadOnlyInline):
    model = ResolutionProgress
    fields = ["at", "author", "text"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")
