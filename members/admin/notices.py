"""Notices (通知公告): a street's staff publish announcements for the public site, each with a publication
window and attachments. Saved through `members.services.notice_save`; seen and changed by the street's own
staff only (members.rules.NoticeRules)."""

from __future__ import annotations

from django.contrib import admin

from alliance import permissions
from alliance.admin import HistoryAdmin, ScopedAdminMixin, TabularInline, scoped_filter

from .. import services
from ..models import Notice, NoticeAttachment, Street


class NoticeAttachmentInline(TabularInline):
    """Files published with the notice (the upload check of alliance.uploads decides what is accepted). No
    workflow and no service: the notice's staff add and remove them here, with the notice."""

    model = NoticeAttachment
    fields = ["title", "file"]
    extra = 0

    def _may_change(self, request, obj) -> bool:
        if obj is None or obj.pk is None:
            return permissions.can_add(request.user, Notice)
        return permissions.can_change(request.user, obj)

    def has_view_permission(self, request, obj=None) -> bool:
        return True

    def has_add_permission(self, request, obj=None) -> bool:
        return self._may_change(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_change(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_change(request, obj)


@admin.register(Notice)
class NoticeAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ["title", "street", "publish_from", "publish_until", "created_by"]
    list_filter = [scoped_filter("street")]
    list_select_related = ["street", "created_by"]
    search_fields = ["title"]
    date_hierarchy = "publish_from"
    fields = ["street", "title", "body", "publish_from", "publish_until"]
    inlines = [NoticeAttachmentInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "street":
            kwargs["queryset"] = Street.objects.filter(pk__in=permissions.managed_streets_of(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        streets = permissions.managed_streets_of(request.user)
        if len(streets) == 1:
            initial.setdefault("street", next(iter(streets)))
        return initial

    def save_model(self, request, obj, form, change) -> None:
        self.save_through(request, services.notice_save, notice=obj)
