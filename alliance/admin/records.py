"""The alliance's own records: categories, notifications (retried here) and background jobs (followed here)."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import jobs, notification_kinds, permissions
from ..models import Category, Job, Notification, SmsStatus
from .base import HistoryAdmin, ModelAdmin, ScopedAdminMixin, period_filter


class NotificationKindFilter(admin.SimpleListFilter):
    """By what a notification was about, in words (`alliance.notification_kinds`), not by its code."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(entry.name, entry.label) for entry in notification_kinds.registered()]

    def queryset(self, request, queryset):
        chosen = next((e for e in notification_kinds.registered() if e.name == self.value()), None)
        return queryset.filter(chosen.matches()) if chosen is not None else queryset


@admin.register(Category)
class CategoryAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ["name", "code", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {}


@admin.register(Notification)
class NotificationAdmin(ScopedAdminMixin, ModelAdmin):
    list_display = ["subject", "recipient", "kind_display", "status", "sms_status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "sms_status", NotificationKindFilter, period_filter("created_at")]
    search_fields = ["subject", "recipient__username"]
    list_select_related = ["recipient"]
    # Notifications are written by services; staff read and retry them here, never edit them.
    # The kind as words (`need_resident:dispatched` is a code): shown in its place on the page of one.
    fields = [f.name if f.name != "kind" else "kind_display" for f in Notification._meta.fields]
    readonly_fields = fields
    actions = ["retry"]

    @admin.display(description=_("kind"), ordering="kind")
    def kind_display(self, obj: Notification) -> str:
        return notification_kinds.kind_label(obj.kind)

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Deliver again"))
    def retry(self, request, queryset):
        from ..notifications import deliver

        # A text the provider refused is tried again too (staff fixed the template); one already out is not.
        queryset.filter(status=Notification.Status.FAILED, sms_status=SmsStatus.FAILED).update(
            sms_status=SmsStatus.NONE
        )
        queryset.filter(status=Notification.Status.FAILED).update(
            status=Notification.Status.PENDING, attempts=0, next_attempt_at=None
        )
        sent = sum(1 for pk in queryset.values_list("pk", flat=True) if deliver(pk))
        self.message_user(
            request,
            ngettext("%(count)d notification delivered.", "%(count)d notifications delivered.", sent) % {"count": sent},
        )


@admin.register(Job)
class JobAdmin(ScopedAdminMixin, ModelAdmin):
    """后台任务: every long piece of work (reports, imports, exports) with its progress and, when it failed,
    why. Jobs are made by the screens that need the work done; here staff only follow them, and download
    what a job produced (an export, an import's refused rows). Community staff see the jobs they asked for."""

    staff_roles = "community"

    list_display = ["label", "status", "steps_display", "rows_done", "requested_by", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["label"]
    list_select_related = ["requested_by"]
    # `kind` is the runner's code (members.quarterly_report); the label says what the job is in staff's words.
    readonly_fields = [
        *(f.name for f in Job._meta.fields if f.name not in ("payload", "kind", "result", "result_name")),
        "result_link",
    ]
    fields = readonly_fields

    def get_urls(self):
        download = path(
            "<int:object_id>/result/",
            self.admin_site.admin_view(self.result_view),
            name="alliance_job_result",
        )
        return [download, *super().get_urls()]

    def result_view(self, request, object_id: int):
        job = permissions.get_visible_or_404(request.user, Job, pk=object_id)
        if not job.result:
            raise Http404
        return jobs.result_response(job)

    @admin.display(description=_("result file"))
    def result_link(self, obj: Job) -> str:
        if not obj.result:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:alliance_job_result", args=[obj.pk]), obj.result_name)

    def get_queryset(self, request):
        return permissions.visible(request.user, Job.objects.all())

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("steps done"))
    def steps_display(self, obj: Job) -> str:
        return f"{obj.steps_done}/{obj.steps_total}" if obj.steps_total else "—"
