"""The joint meetings' list and change form; the extra pages are in `pages`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from alliance import permissions
from alliance.admin import HistoryAdmin, ScopedAdminMixin
from alliance.admin.base import period_filter, truncated
from members import selectors as member_selectors

from .. import selectors, services
from ..models import Invitation, JointMeeting, Level, Resolution
from .common import CREATE_FIELDS, UPDATE_FIELDS, CommunityFilter, M, RefusalSafeMixin, WorkbenchFilter, local_time
from .forms import MeetingAddForm, MeetingChangeForm, NewResolutionForm
from .inlines import AttachmentInline, InvitationInline, NewResolutionInline, ResolutionInline
from .pages import JointMeetingPagesMixin


def _levels(user) -> set[str]:
    """The levels of meeting this user may plan: district staff their districts' meetings, street and
    community staff the others (a superuser, and staff of both kinds, every level)."""
    district = permissions.is_district_staff(user) or user.is_superuser
    street = permissions.works_on_a_street(user)
    return {
        level
        for level in Level.values
        if (level == Level.DISTRICT and district) or (level != Level.DISTRICT and (street or user.is_superuser))
    }


def _place_fields(user) -> list[str]:
    """The add form's fields naming where a meeting belongs, for the levels this user may plan."""
    levels = _levels(user)
    fields = []
    if levels - {Level.DISTRICT}:
        fields += ["street", "community", "sector"]
    if Level.DISTRICT in levels:
        fields.insert(1 if fields else 0, "district")
    return fields


# A column of the list (list_display_links names the same object).
MEETING_TITLE = truncated("title", 12, _("title"))


@admin.register(JointMeeting)
class JointMeetingAdmin(JointMeetingPagesMixin, RefusalSafeMixin, ScopedAdminMixin, HistoryAdmin):
    staff_roles = "community"
    # The kind is a filter, not a column; the title and the place are cut, the full text on hover.
    list_display = [
        MEETING_TITLE,
        "level",
        "start_local",
        truncated("place", 8, _("place")),
        "status",
        "community_display",
        "invitation_count",
    ]
    list_display_links = [MEETING_TITLE]
    list_select_related = ["community"]
    list_filter = ["status", "level", "kind", CommunityFilter, WorkbenchFilter, period_filter("start")]
    search_fields = ["title", "place", "agenda"]
    search_help_text = _("Title, place or agenda")
    list_per_page = 50
    actions = ["cancel", "reschedule", "export_attendance"]

    def get_queryset(self, request):
        return selectors.meetings_visible_to(user=request.user).annotate(invitation_count=Count("invitations"))

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        return [InvitationInline, ResolutionInline, NewResolutionInline, AttachmentInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # cancelled, never deleted: the invitees were told it exists (MEETING_RULES)

    # --- Columns ---

    @admin.display(description=_("start"), ordering="start")
    def start_local(self, obj: JointMeeting) -> str:
        return local_time(obj.start)

    @admin.display(description=_("community"), ordering="community__name")
    def community_display(self, obj: JointMeeting) -> str:
        return obj.community.name if obj.community_id else "—"

    @admin.display(description=_("invitations"), ordering="invitation_count")
    def invitation_count(self, obj: JointMeeting) -> int:
        return obj.invitation_count

    # --- The form ---

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["level", "kind", "title", *_place_fields(request.user)]}),
                (_("When and where"), {"fields": ["start", "end", "place"]}),
                (_("Agenda and invitations"), {"fields": ["agenda", "units"]}),
            ]
        return [
            (
                None,
                {"fields": ["level", "kind", "title", "street", "district", "community", "sector", "status", "series"]},
            ),
            (
                _("When and where"),
                {
                    "fields": ["start", "end", "place", "schedule_version"],
                    "description": _("To move the meeting use “Reschedule”: the invitees are told the new time."),
                },
            ),
            (_("Agenda"), {"fields": ["agenda"]}),
            (pgettext_lazy("meeting", "Minutes"), {"fields": ["minutes", "minutes_written_at"]}),
            (_("Record"), {"fields": ["organiser", "cancel_reason", "created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fields = [
            # Where it belongs follows from its level and community (`services.meeting_place`).
            "street",
            "district",
            "status",
            "series",
            "start",
            "end",
            "place",
            "schedule_version",
            "minutes_written_at",
            "organiser",
            "cancel_reason",
            "created_at",
            "updated_at",
        ]
        # Minutes are written once the meeting has begun, and a cancelled meeting has none.
        if obj.status == M.CANCELLED or obj.start > timezone.now():
            fields.append("minutes")
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MeetingAddForm if obj is None else MeetingChangeForm
        form_class = super().get_form(request, obj, change, **kwargs)
        user = request.user

        levels = _levels(user) if obj is None else None

        class ScopedForm(form_class):
            def __init__(self, *args, **kw) -> None:
                super().__init__(*args, user=user, **kw)
                if levels is not None and "level" in self.fields:
                    self.fields["level"].choices = [c for c in self.fields["level"].choices if c[0] in levels]

        return ScopedForm

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            # Community staff plan meetings of their communities only (the service checks it too).
            kwargs["queryset"] = member_selectors.communities_administered_by(user=request.user)
        elif db_field.name in ("street", "district"):
            # A street-level meeting: a street its staff run; a district-level one: a district of theirs.
            kwargs["queryset"] = member_selectors.meeting_places(user=request.user, kind=db_field.name)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if _levels(request.user) == {Level.DISTRICT}:
            # District staff plan their district's meetings: the level, and their district when they have one.
            districts = sorted(permissions.districts_of(request.user))
            initial.setdefault("level", Level.DISTRICT)
            if len(districts) == 1:
                initial.setdefault("district", districts[0])
        elif not permissions.is_street_staff(request.user) and not permissions.is_district_staff(request.user):
            communities = list(member_selectors.communities_administered_by(user=request.user)[:2])
            initial.setdefault("level", Level.COMMUNITY)
            if len(communities) == 1:
                initial.setdefault("community", communities[0].pk)
        return initial

    def save_model(self, request, obj: JointMeeting, form, change: bool) -> None:
        if not change:
            data = {n: form.cleaned_data[n] for n in CREATE_FIELDS if n in form.cleaned_data}
            created = self.save_through(
                request, services.meeting_create, data=data, units=list(form.cleaned_data.get("units") or ())
            )
            if created is not None:
                obj.pk = created.pk
            return
        # The services lock and re-read the row; they are given the stored meeting, not the form's copy.
        data = {n: form.cleaned_data[n] for n in form.changed_data if n in UPDATE_FIELDS}
        if data:
            stored = JointMeeting.objects.get(pk=obj.pk)
            if self.save_through(request, services.meeting_update, meeting=stored, data=data) is None:
                return
        if "minutes" in form.changed_data:
            stored = JointMeeting.objects.get(pk=obj.pk)
            self.save_through(request, services.minutes_record, meeting=stored, minutes=form.cleaned_data["minutes"])

    def save_formset(self, request, form, formset, change: bool) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is Invitation:
            self._record_attendance(request, formset)
        elif formset.model is Resolution:
            self._create_resolutions(request, formset)
        else:
            super().save_formset(request, form, formset, change)

    def _record_attendance(self, request, formset) -> None:
        meeting = formset.instance
        for form in formset.forms:
            if not form.has_changed() or not form.cleaned_data.get("attendance"):
                continue
            invitation = form.instance
            if invitation.unit_id is None:
                messages.warning(
                    request,
                    gettext("Attendance of invited persons is not recorded here: %(person)s")
                    % {"person": invitation.person.get_username()},
                )
                continue
            updated = self.save_through(
                request,
                services.attendance_set,
                meeting=meeting,
                unit=invitation.unit,
                status=form.cleaned_data["attendance"],
            )
            if updated is not None:
                formset.changed_objects.append((updated, ["status"]))

    def _create_resolutions(self, request, formset) -> None:
        if not issubclass(formset.form, NewResolutionForm):
            return  # the read-only list of the meeting's resolutions
        for form in formset.forms:
            if not form.has_changed() or not form.cleaned_data:
                continue
            created = self.save_through(
                request,
                services.resolution_create,
                meeting=formset.instance,
                text=form.cleaned_data["text"],
                owner=form.cleaned_data["owner"],
                due_date=form.cleaned_data["due_date"],
            )
            if created is not None:
                formset.new_objects.append(created)

    # --- The change page ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            may_change = self.has_change_permission(request, obj)
            allowed = permissions.actions_allowed(request.user, obj)
            extra_context.update(
                {
                    "can_invite": may_change and obj.status != M.CANCELLED,
                    "can_move": "reschedule" in allowed,
                    "can_cancel": "cancel" in allowed,
                    # 督办: what earlier meetings decided and is not done stays on each next agenda.
                    "carried_resolutions": list(selectors.carried_resolutions(meeting=obj)),
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)
