"""What the meetings' admin screens share: status shorthands, the fields a meeting's services take, who may be
invited, when attendance is recorded, and the list filters."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import ScopedChoiceFilter
from members import selectors as member_selectors
from members.models import MemberUnit

from .. import selectors, services
from ..models import Invitation, JointMeeting

M = JointMeeting.Status
I = Invitation.Status  # noqa: E741
# What the change form may edit through `meeting_update`; start, end and place move only by rescheduling
# (which tells the invitees), minutes are written through `minutes_record`.
UPDATE_FIELDS = ("title", "agenda", "kind", "level", "community", "sector")
CREATE_FIELDS = services.MEETING_FIELDS


def local_time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def invitable_units(user):
    """The units a user may invite or make owners of a resolution: active units they can see (all of
    them for street staff, their communities' for community staff)."""
    return (
        member_selectors.units_visible_to(user=user)
        .filter(status=MemberUnit.Status.ACTIVE)
        .order_by("community__sort_order", "community_id", "name")
    )


def attendance_open(request, meeting: JointMeeting | None) -> bool:
    """Attendance is recorded by the meeting's staff once it has begun (the service checks again)."""
    return (
        meeting is not None
        and meeting.pk is not None
        and meeting.status != M.CANCELLED
        and meeting.start <= timezone.now()
        and permissions.can_change(request.user, meeting)
    )


class RefusalSafeMixin:
    """With a service refusal, `ScopedAdminMixin.save_related` skips the formsets, which then have no
    `new_objects` for Django's change message (an AttributeError, a 500); and a refused add has no row to
    log."""

    def construct_change_message(self, request, form, formsets, add=False):
        for formset in formsets or ():
            for attr in ("new_objects", "changed_objects", "deleted_objects"):
                if not hasattr(formset, attr):
                    setattr(formset, attr, [])
        return super().construct_change_message(request, form, formsets, add)

    def log_addition(self, request, obj, message):
        if obj.pk is None or getattr(request, "_service_refused", False):
            return None
        return super().log_addition(request, obj, message)


# --- Filters ----------------------------------------------------------------------------------------


class CommunityFilter(ScopedChoiceFilter):
    """The communities the user works for (all of them for street staff), and "none" for the meetings
    of the street, a sector branch or the council."""

    title = _("community")
    parameter_name = "community"
    field = "community"
    none_label = _("No community")

    def choices_for(self, request):
        return member_selectors.communities_administered_by(user=request.user).order_by("sort_order", "id")


class OwnerCommunityFilter(CommunityFilter):
    title = _("owner's community")
    parameter_name = "owner_community"
    field = "owner__community"


class WorkbenchFilter(admin.SimpleListFilter):
    """The workbench's meeting to-dos, so its links open exactly the meetings it counted."""

    title = _("to do")
    parameter_name = "todo"

    def lookups(self, request, model_admin):
        return [("this_week", _("Meetings this week")), ("minutes_missing", _("Minutes missing"))]

    def queryset(self, request, queryset):
        if self.value() == "this_week":
            return queryset.filter(selectors.this_week_q())
        if self.value() == "minutes_missing":
            return queryset.filter(selectors.minutes_missing_q())
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        # `is_overdue` is annotated by `selectors.with_overdue` on the admin's queryset.
        if self.value() == "yes":
            return queryset.filter(is_overdue=True)
        if self.value() == "no":
            return queryset.filter(is_overdue=False)
        return queryset
