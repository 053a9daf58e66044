"""Staff screens of the meetings app: joint meetings with their invitations, attendance, minutes,
resolutions and attachments; cancelling, moving and inviting; series planned ahead; resolutions followed
up until done (督办); the reminder ledger; attendance rates per unit and quarter.

Access through `alliance.permissions` (community staff plan and run their communities' meetings and see
the street's); every write through `meetings.services`, reads through `meetings.selectors`."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from alliance import permissions, workflow
from alliance.admin import ReadOnlyInline, ScopedAdminMixin, ScopedChoiceFilter
from alliance.exports import xlsx_response
from alliance.forms import REFUSALS, call_for_form, refusal_message
from members import selectors as member_selectors
from members.models import MemberUnit

from . import exports, selectors, services
from .models import (
    Invitation,
    JointMeeting,
    Level,
    MeetingAttachment,
    MeetingSeries,
    Reminder,
    Resolution,
    ResolutionProgress,
)

M = JointMeeting.Status
I = Invitation.Status  # noqa: E741
# What the change form may edit through `meeting_update`; start, end and place move only by rescheduling
# (which tells the invitees), minutes are written through `minutes_record`.
UPDATE_FIELDS = ("title", "agenda", "kind", "level", "community", "sector")
CREATE_FIELDS = services.MEETING_FIELDS


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _invitable_units(user):
    """The units a user may invite or make owners of a resolution: active units they can see (all of
    them for street staff, their communities' for community staff)."""
    return (
        member_selectors.units_visible_to(user=user)
        .filter(status=MemberUnit.Status.ACTIVE)
        .order_by("community__sort_order", "community_id", "name")
    )


def _attendance_open(request, meeting: JointMeeting | None) -> bool:
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


# --- Forms --------------------------------------------------------------------------------------------


class MeetingFormMixin:
    """The shape of a meeting: a community meeting names its community, a sector meeting its branch."""

    def clean(self):
        cleaned = super().clean()
        level = cleaned.get("level")
        if level == Level.COMMUNITY and not cleaned.get("community"):
            self.add_error("community", gettext("A community meeting needs its community."))
        if level == Level.SECTOR and not cleaned.get("sector"):
            self.add_error("sector", gettext("A sector branch meeting needs its sector branch."))
        return cleaned


class MeetingAddForm(MeetingFormMixin, forms.ModelForm):
    units = forms.ModelMultipleChoiceField(
        label=_("Invite units"),
        queryset=MemberUnit.objects.none(),
        required=False,
        widget=admin.widgets.FilteredSelectMultiple(_("units"), is_stacked=False),
        help_text=_("The units' liaisons are invited, answer in the portal and are reminded before the meeting."),
    )

    class Meta:
        model = JointMeeting
        fields = [*CREATE_FIELDS, "units"]

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["units"].queryset = _invitable_units(user)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", gettext("A meeting must end after it starts."))
        return cleaned


class MeetingChangeForm(MeetingFormMixin, forms.ModelForm):
    class Meta:
        model = JointMeeting
        fields = [*UPDATE_FIELDS, "minutes"]

    def __init__(self, *args, user=None, **kwargs) -> None:
        # `user` is taken like the add form's (see `get_form`); the change form offers nothing per user
        # beyond the communities, which `formfield_for_foreignkey` narrows.
        super().__init__(*args, **kwargs)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class RescheduleForm(forms.Form):
    start = forms.DateTimeField(label=_("New start"), widget=LocalDateTimeInput())
    end = forms.DateTimeField(label=_("New end"), widget=LocalDateTimeInput())
    place = forms.CharField(
        label=_("Place"), max_length=200, required=False, help_text=_("Leave empty to keep the current place.")
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", gettext("A meeting must end after it starts."))
        return cleaned


class InviteForm(forms.Form):
    units = forms.ModelMultipleChoiceField(
        label=_("Units"),
        queryset=MemberUnit.objects.none(),
        widget=admin.widgets.FilteredSelectMultiple(_("units"), is_stacked=False),
    )

    def __init__(self, *args, units=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["units"].queryset = units


class AttendanceForm(forms.ModelForm):
    """One invitation's attendance: recorded by staff once the meeting has begun, through the service
    (`save_formset`), never by saving the row."""

    attendance = forms.ChoiceField(
        label=_("record attendance"),
        required=False,
        choices=[("", "—"), (I.ATTENDED, I.ATTENDED.label), (I.ABSENT, I.ABSENT.label)],
    )

    class Meta:
        model = Invitation
        fields = ["attendance"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        status = self.instance.status if self.instance.pk else ""
        self.fields["attendance"].initial = status if status in (I.ATTENDED, I.ABSENT) else ""
        # `attendance_set` records a unit's attendance; an invited person's is not recorded.
        self.fields["attendance"].disabled = bool(self.instance.person_id)


class NewResolutionForm(forms.ModelForm):
    class Meta:
        model = Resolution
        fields = ["text", "owner", "due_date"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "cols": 60})}


# --- Inlines ----------------------------------------------------------------------------------------


class MeetingChildInline(admin.TabularInline):
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
        return [*fields, "attendance"] if _attendance_open(request, obj) else fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit", "person", "responded_by")

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # inviting is the "Invite units" page, through the service

    def has_change_permission(self, request, obj=None) -> bool:
        return _attendance_open(request, obj)

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
            kwargs["queryset"] = _invitable_units(request.user)
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


# --- Exports ------------------------------------------------------------------------------------------


def attendance_rows(meetings):
    """One row per invitation of the given meetings (already narrowed to what the user sees)."""
    header = [
        gettext("Meeting"),
        gettext("Start"),
        gettext("Level"),
        gettext("Community"),
        gettext("Invitee"),
        gettext("Attendance"),
        gettext("Answered at"),
    ]
    invitations = (
        Invitation.objects.filter(meeting__in=meetings.values("pk"))
        .select_related("meeting__community", "unit", "person")
        .order_by("meeting__start", "meeting_id", "id")
    )

    def rows():
        for invitation in invitations.iterator(chunk_size=500):
            meeting = invitation.meeting
            yield [
                meeting.title,
                meeting.start,
                meeting.get_level_display(),
                meeting.community.name if meeting.community_id else "",
                exports.invitee_name(invitation),
                invitation.get_status_display(),
                invitation.responded_at,
            ]

    return gettext("Attendance"), header, rows()


# --- Joint meetings -------------------------------------------------------------------------------


@admin.register(JointMeeting)
class JointMeetingAdmin(RefusalSafeMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    staff_roles = "community"
    list_display = [
        "title",
        "level",
        "kind",
        "start_local",
        "place",
        "status",
        "community_display",
        "invitation_count",
    ]
    list_select_related = ["community"]
    list_filter = ["status", "level", "kind", CommunityFilter]
    search_fields = ["title", "place", "agenda"]
    search_help_text = _("Title, place or agenda")
    date_hierarchy = "start"
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
        return _local(obj.start)

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
                (None, {"fields": ["level", "kind", "title", "community", "sector"]}),
                (_("When and where"), {"fields": ["start", "end", "place"]}),
                (_("Agenda and invitations"), {"fields": ["agenda", "units"]}),
            ]
        return [
            (None, {"fields": ["level", "kind", "title", "community", "sector", "status", "series"]}),
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

        class ScopedForm(form_class):
            def __init__(self, *args, **kw) -> None:
                super().__init__(*args, user=user, **kw)

        return ScopedForm

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            # Community staff plan meetings of their communities only (the service checks it too).
            kwargs["queryset"] = member_selectors.communities_administered_by(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if not permissions.is_street_staff(request.user):
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

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("attendance-rates/", view(self.attendance_rates_view), name="{}_{}_attendance_rates".format(*info)),
            path("<int:pk>/invite/", view(self.invite_view), name="{}_{}_invite".format(*info)),
            path("<int:pk>/reschedule/", view(self.reschedule_view), name="{}_{}_reschedule".format(*info)),
            path("<int:pk>/cancel/", view(self.cancel_view), name="{}_{}_cancel".format(*info)),
            *super().get_urls(),
        ]

    def _meeting_to_change(self, request, pk: int) -> JointMeeting:
        meeting = selectors.meeting_detail(user=request.user, pk=pk)  # 404 when the user may not see it
        if not self.has_change_permission(request, meeting):
            raise PermissionDenied
        return meeting

    def _page(self, request, template: str, title: str, meeting: JointMeeting | None, **context) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "original": meeting,
            "meeting": meeting,
            "change_url": reverse("admin:meetings_jointmeeting_change", args=[meeting.pk]) if meeting else "",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            **context,
        }
        return TemplateResponse(request, f"admin/meetings/jointmeeting/{template}", context)

    def invite_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        meeting = self._meeting_to_change(request, pk)
        change_url = reverse("admin:meetings_jointmeeting_change", args=[meeting.pk])
        if meeting.status == M.CANCELLED:
            messages.warning(request, gettext("This meeting is cancelled; nobody can be invited to it."))
            return HttpResponseRedirect(change_url)
        invited = {i.unit_id for i in meeting.invitations.all() if i.unit_id}
        units = _invitable_units(request.user).exclude(pk__in=invited)
        form = InviteForm(request.POST or None, units=units)
        if request.method == "POST" and form.is_valid():
            created = call_for_form(
                form, services.invite, meeting=meeting, actor=request.user, units=list(form.cleaned_data["units"])
            )
            if created is not None:
                messages.success(
                    request,
                    ngettext("%(count)d unit invited.", "%(count)d units invited.", len(created))
                    % {"count": len(created)},
                )
                return HttpResponseRedirect(change_url)
        return self._page(
            request,
            "invite.html",
            gettext("Invite units to %(title)s") % {"title": meeting.title},
            meeting,
            form=form,
            media=self.media + form.media,
            invitations=meeting.invitations.all(),
        )

    # --- Cancel ---

    def _ask_cancel_reason(self, request, meetings, *, title: str, page_of=None, back_url: str = ""):
        return self.ask_reason(
            request,
            meetings,
            service=services.meeting_cancel,
            object_kwarg="meeting",
            success=lambda meeting: (
                gettext("%(title)s is cancelled; the invitees are told.") % {"title": meeting.title}
            ),
            none_done=gettext("None of the selected meetings was cancelled."),
            title=title,
            intro=gettext(
                "These meetings will be cancelled. Every invitee is told, with the reason; reminders that have "
                "not gone out are withdrawn."
            ),
            empty=gettext("None of the selected meetings is planned."),
            describe=lambda meeting: (
                f"{meeting.title} · {date_format(timezone.localtime(meeting.start), 'Y-m-d H:i')} · {meeting.place}"
            ),
            submit_label=gettext("Cancel the meeting"),
            help_text=gettext("The invitees are told it with the notice of cancellation."),
            page_of=page_of,
            back_url=back_url,
        )

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        meeting = self._meeting_to_change(request, pk)
        change_url = reverse("admin:meetings_jointmeeting_change", args=[meeting.pk])
        if "cancel" not in permissions.actions_allowed(request.user, meeting):
            messages.warning(
                request,
                workflow.refusal_for(meeting, "cancel"),
            )
            return HttpResponseRedirect(change_url)
        return self._ask_cancel_reason(
            request,
            [meeting],
            title=gettext("Cancel %(title)s") % {"title": meeting.title},
            page_of=meeting,
            back_url=change_url,
        )

    @admin.action(description=_("Cancel the selected meetings"))
    def cancel(self, request, queryset):
        return self._ask_cancel_reason(request, queryset.filter(status=M.PLANNED), title=gettext("Cancel meetings"))

    # --- Reschedule ---

    def _reschedule(self, request, meeting: JointMeeting, *, action: str = "") -> HttpResponse:
        change_url = reverse("admin:meetings_jointmeeting_change", args=[meeting.pk])
        if "reschedule" not in permissions.actions_allowed(request.user, meeting):
            messages.warning(
                request,
                workflow.refusal_for(meeting, "reschedule"),
            )
            return HttpResponseRedirect(change_url)
        submitted = request.method == "POST" and (not action or "apply" in request.POST)
        initial = {
            "start": timezone.localtime(meeting.start),
            "end": timezone.localtime(meeting.end),
            "place": meeting.place,
        }
        form = RescheduleForm(request.POST if submitted else None, initial=initial)
        if submitted and form.is_valid():
            moved = self.run_service(
                request,
                services.meeting_reschedule,
                meeting=meeting,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                place=form.cleaned_data["place"] or None,
                success=gettext("%(title)s is moved; the invitees are told the new time and place.")
                % {"title": meeting.title},
            )
            if moved:
                return HttpResponseRedirect(change_url)
        return self._page(
            request,
            "reschedule.html",
            gettext("Reschedule %(title)s") % {"title": meeting.title},
            meeting,
            form=form,
            current={"start": _local(meeting.start), "end": _local(meeting.end), "place": meeting.place},
            action=action,
        )

    def reschedule_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._reschedule(request, self._meeting_to_change(request, pk))

    @admin.action(description=_("Reschedule the selected meeting"))
    def reschedule(self, request, queryset):
        meetings = list(queryset[:2])
        if len(meetings) != 1:
            messages.warning(request, gettext("Choose exactly one meeting to reschedule."))
            return None
        return self._reschedule(request, meetings[0], action="reschedule")

    # --- Export and attendance rates ---

    @admin.action(description=_("Export the attendance of the selected meetings to Excel"))
    def export_attendance(self, request, queryset):
        filename = "{}-{}.xlsx".format(gettext("attendance"), timezone.localdate().isoformat())
        return xlsx_response(filename, [attendance_rows(queryset)])

    def attendance_rates_view(self, request: HttpRequest) -> HttpResponse:
        """Per unit and quarter, over held meetings: the rate the quarterly assessment uses."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        unit_ids = None
        if not permissions.is_street_staff(request.user):
            unit_ids = member_selectors.units_visible_to(user=request.user).values_list("pk", flat=True)
        quarters: dict[tuple[int, int], list[dict]] = {}
        for row in selectors.attendance_rates(unit_ids=unit_ids):
            row["percent"] = round(row["rate"] * 100, 1)
            quarters.setdefault((row["year"], row["quarter"]), []).append(row)
        groups = [
            {
                "label": gettext("%(year)d Q%(quarter)d") % {"year": year, "quarter": quarter},
                "key": f"{year}-Q{quarter}",
                "rows": rows,
            }
            for (year, quarter), rows in sorted(quarters.items(), reverse=True)
        ]
        return self._page(
            request,
            "attendance_rates.html",
            gettext("Attendance rates per unit and quarter"),
            None,
            groups=groups,
            changelist_url=reverse("admin:meetings_jointmeeting_changelist"),
        )


# --- Series ---------------------------------------------------------------------------------------


SERIES_FIELDS = [
    "title",
    "level",
    "kind",
    "community",
    "sector",
    "recurrence",
    "day_of_month",
    "start_time",
    "duration_minutes",
    "place",
    "agenda",
    "invited_units",
    "starts_on",
    "is_active",
]


class SeriesForm(forms.ModelForm):
    class Meta:
        model = MeetingSeries
        fields = SERIES_FIELDS  # the organiser is whoever adds the series


@admin.register(MeetingSeries)
class MeetingSeriesAdmin(RefusalSafeMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Recurring meetings are reference data: the series is saved as it is; its occurrences are planned
    through `services.series_plan` (right after it is added, by beat, and by the "plan ahead" action)."""

    staff_roles = "community"
    form = SeriesForm
    list_display = [
        "title",
        "level",
        "kind",
        "community",
        "recurrence",
        "day_of_month",
        "start_time",
        "place",
        "is_active",
        "meeting_count",
    ]
    list_select_related = ["community"]
    list_filter = ["level", "kind", "recurrence", "is_active", CommunityFilter]
    search_fields = ["title", "place"]
    filter_horizontal = ["invited_units"]
    actions = ["plan_ahead"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(meeting_count=Count("meetings"))

    @admin.display(description=_("meetings planned"), ordering="meeting_count")
    def meeting_count(self, obj: MeetingSeries) -> int:
        return obj.meeting_count

    def get_fields(self, request, obj=None):
        return SERIES_FIELDS if obj is None else [*SERIES_FIELDS, "organiser", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["organiser", "created_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = member_selectors.communities_administered_by(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "invited_units":
            kwargs["queryset"] = _invitable_units(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj: MeetingSeries, form, change: bool) -> None:
        if not change:
            obj.organiser = request.user
        # The same answer as for a meeting of the series: street staff, or staff of its community.
        if not permissions.can_change(request.user, obj):
            request._service_refused = True
            messages.error(request, gettext("You may plan meetings only for the communities you work for."))
            return
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change and not getattr(request, "_service_refused", False):
            self._plan(request, form.instance)

    def _plan(self, request, series: MeetingSeries) -> int:
        try:
            planned = services.series_plan(series=series)
        except REFUSALS as exc:
            messages.error(request, refusal_message(exc))
            return 0
        messages.success(
            request,
            ngettext("%(series)s: %(count)d meeting planned.", "%(series)s: %(count)d meetings planned.", len(planned))
            % {"series": series.title, "count": len(planned)},
        )
        return len(planned)

    @admin.action(description=_("Plan the next meetings of the selected series"))
    def plan_ahead(self, request, queryset):
        for series in queryset:
            if not self.has_change_permission(request, series):
                messages.error(request, gettext("You may not plan %(series)s.") % {"series": series.title})
            elif not series.is_active:
                messages.warning(
                    request, gettext("%(series)s is not active; nothing planned.") % {"series": series.title}
                )
            else:
                self._plan(request, series)


# --- Resolutions ----------------------------------------------------------------------------------


@admin.register(Resolution)
class ResolutionAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """议定事项 followed up until done (督办). Created on their meeting's page; owners write progress in
    the portal; staff mark them done here."""

    staff_roles = "community"
    list_display = ["short_text", "meeting", "owner", "due_date", "status", "overdue"]
    list_select_related = ["meeting", "owner"]
    list_filter = ["status", OverdueFilter, OwnerCommunityFilter]
    search_fields = ["text", "owner__name", "meeting__title"]
    search_help_text = _("Resolution, owner unit or meeting")
    date_hierarchy = "due_date"
    list_per_page = 50
    fields = ["meeting", "text", "owner", "due_date", "status", "overdue", "done_at", "created_at"]
    readonly_fields = fields
    inlines = [ProgressInline]
    actions = ["mark_done"]

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
class ReminderAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The ledger that makes each reminder go out once: written by the reminder scan and the cancel and
    move notices, read here by street staff, never edited."""

    list_display = ["kind", "subject", "recipient", "version", "notification_status", "recorded_at"]
    list_select_related = ["meeting", "resolution", "recipient", "notification"]
    list_filter = ["kind", "notification__status"]
    search_fields = ["meeting__title", "resolution__text", "recipient__username"]
    date_hierarchy = "recorded_at"
    list_per_page = 100
    fields = ["kind", "meeting", "resolution", "recipient", "version", "notification_status", "recorded_at"]
    readonly_fields = fields

    # Reminders have no rules of their own in the permission layer: the ledger is street staff's
    # (`staff_roles = "street"`), who see every row.
    def get_queryset(self, request):
        return Reminder.objects.all() if self._may_open(request) else Reminder.objects.none()

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
