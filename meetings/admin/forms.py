"""The forms of the meetings' admin screens: a meeting added or changed, moved, its invitations and
attendance, its new resolutions."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members.models import MemberUnit

from ..models import Invitation, JointMeeting, Level, Resolution
from .common import CREATE_FIELDS, UPDATE_FIELDS, I, invitable_units


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
            self.fields["units"].queryset = invitable_units(user)

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
