"""Resolutions followed up until done (督办), and the reminder ledger."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import HistoryAdmin, ModelAdmin, ScopedAdminMixin
from alliance.admin.base import period_filter

from .. import selectors, services
from ..models import Reminder, Resolution
from .common import OverdueFilter, OwnerCommunityFilter
from .inlines import ProgressInline


@admin.register(Resolution)
class ResolutionAdmin(ScopedAdminMixin, HistoryAdmin):
    """议定事项 followed up until done (督办). Created on their meeting's page; owners write progress in
    the portal; staff mark them done here."""

    staff_roles = "community"
    list_display = ["short_text", "meeting", "owner", "due_date", "status", "overdue", "forwarding"]
    list_select_related = ["meeting", "owner"]
    list_filter = ["status", OverdueFilter, OwnerCommunityFilter, period_filter("due_date")]
    search_fields = ["text", "owner__name", "meeting__title"]
    search_help_text = _("Resolution, owner unit or meeting")
    list_per_page = 50
    fields = [
        "meeting",
        "text",
        "owner",
        "due_date",
        "status",
        "overdue",
        "done_at",
        "result",
        "forwarded_from",
        "forwarding",
        "forwarded_at",
        "forward_note",
        "decline_reason",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [ProgressInline]
    actions = ["mark_done", "mark_done_with_result", "forward", "decline_forwarded"]

    def get_queryset(self, request):
        return selectors.resolutions_visible_to(user=request.user)

    def has_add_permission(self, request, *args) -> bool:
        return False  # a resolution is decided at a meeting and added on the meeting's page

    def has_change_permission(self, request, obj=None) -> bool:
        # Read-only on its page; "mark done" is the one change, through the service.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("resolution"), ordering="text")
    def short_text(self, obj: Resolution) -> str:
        return obj.text if len(obj.text) <= 60 else obj.text[:59] + "…"

    @admin.display(description=_("overdue"), boolean=True, ordering="is_overdue")
    def overdue(self, obj: Resolution) -> bool:
        return bool(getattr(obj, "is_overdue", False))

    @admin.display(description=_("forwarded to"))
    def forwarding(self, obj: Resolution) -> str:
        """Where it went up: the higher meeting (annotated by the selector), or the body it waits for."""
        if getattr(obj, "forwarded_to_title", None):
            return obj.forwarded_to_title
        if obj.status == Resolution.Status.FORWARDED:
            body = obj.forward_district or obj.forward_street
            return gettext("Waiting for the next meeting of %(body)s") % {"body": body}
        return "—"

    @admin.action(description=_("Mark the selected resolutions as done, with their result"))
    def mark_done_with_result(self, request, queryset):
        def done(*, actor, resolution, reason):
            return services.resolution_done(resolution=resolution, actor=actor, result=reason)

        return self.ask_reason(
            request,
            queryset.filter(status=Resolution.Status.OPEN),
            service=done,
            object_kwarg="resolution",
            success=lambda r: gettext("Done: %(resolution)s") % {"resolution": self.short_text(r)},
            title=gettext("Mark done with the result"),
            intro=gettext("What came of these resolutions? An item forwarded here passes the result back down."),
            empty=gettext("None of the selected resolutions is open."),
            describe=self.short_text,
            none_done=gettext("None of the selected resolutions is open."),
            submit_label=gettext("Mark done"),
        )

    @admin.action(description=_("Forward the selected resolutions to the body above"))
    def forward(self, request, queryset):
        return self.ask_reason(
            request,
            queryset.filter(status=Resolution.Status.OPEN),
            service=services.resolution_forward,
            object_kwarg="resolution",
            success=lambda r: gettext("Forwarded: %(resolution)s") % {"resolution": self.short_text(r)},
            title=gettext("Forward to the body above"),
            intro=gettext(
                "A community's resolutions go to its street's next coordination meeting, a street's to its "
                "district's next meeting; when none is planned yet they wait for it. Say why this body cannot "
                "settle them."
            ),
            empty=gettext("None of the selected resolutions is open."),
            describe=self.short_text,
            none_done=gettext("None of the selected resolutions was forwarded."),
            submit_label=gettext("Forward"),
        )

    @admin.action(description=_("Decline the selected items forwarded to this meeting"))
    def decline_forwarded(self, request, queryset):
        return self.ask_reason(
            request,
            queryset.filter(status=Resolution.Status.OPEN, forwarded_from__isnull=False),
            service=services.resolution_decline,
            object_kwarg="resolution",
            success=lambda r: gettext("Declined: %(resolution)s") % {"resolution": self.short_text(r)},
            title=gettext("Decline forwarded items"),
            intro=gettext("The reason goes back to the body that forwarded them; their resolutions are open again."),
            empty=gettext("None of the selected resolutions is an open item forwarded here."),
            describe=self.short_text,
            none_done=gettext("None of the selected resolutions was declined."),
            submit_label=gettext("Decline"),
        )

    @admin.action(description=_("Mark the selected resolutions as done"))
    def mark_done(self, request, queryset):
        done = sum(
            self.run_service(
                request,
                services.resolution_done,
                resolution=resolution,
                success=gettext("Done: %(resolution)s") % {"resolution": self.short_text(resolution)},
            )
            for resolution in queryset.filter(status=Resolution.Status.OPEN)
        )
        if not done:
            messages.warning(request, gettext("None of the selected resolutions is open."))


# --- Reminders ------------------------------------------------------------------------------------


@admin.register(Reminder)
class ReminderAdmin(ScopedAdminMixin, ModelAdmin):
    """The ledger that makes each reminder go out once: written by the reminder scan and the cancel and
    move notices, read here by street staff, never edited."""

    list_display = ["kind", "subject", "recipient", "version", "notification_status", "recorded_at"]
    list_select_related = ["meeting", "resolution", "recipient", "notification"]
    list_filter = ["kind", "notification__status", period_filter("recorded_at")]
    search_fields = ["meeting__title", "resolution__text", "recipient__username"]
    list_per_page = 100
    fields = ["kind", "meeting", "resolution", "recipient", "version", "notification_status", "recorded_at"]
    readonly_fields = fields

    # The ledger is street staff's (`staff_roles = "street"`), each their streets' rows (meetings.rules).
    def get_queryset(self, request):
        if not self._may_open(request):
            return Reminder.objects.none()
        return permissions.visible(request.user, Reminder.objects.all()).select_related(*self.list_select_related)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may_open(request)

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("about"))
    def subject(self, obj: Reminder) -> str:
        if obj.meeting_id:
            return obj.meeting.title
        return str(obj.resolution) if obj.resolution_id else "—"

    @admin.display(description=_("notification"), ordering="notification__status")
    def notification_status(self, obj: Reminder) -> str:
        return obj.notification.get_status_display() if obj.notification_id else "—"
