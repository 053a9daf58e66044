"""The forms of the volunteers' admin screens: a registration, a post, a team, an hour record, the service
card's choice of unit and quarter."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import services
from ..imports import MemberUnit
from ..models import PartyMember, ServiceLog, VolunteerPost, VolunteerTeam
from .common import active_units


class MemberForm(forms.ModelForm):
    class Meta:
        model = PartyMember
        fields = list(services.MEMBER_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if (
            "work_unit" in self.fields
            and not cleaned.get("work_unit")
            and not cleaned.get("work_unit_name", "").strip()
        ):
            self.add_error(
                "work_unit", gettext("Choose the member unit, or write the name of a unit that has not joined.")
            )
        return cleaned


class PostForm(forms.ModelForm):
    class Meta:
        model = VolunteerPost
        fields = ["community", "title", "description", "schedule", "places", "status"]

    def clean_places(self):
        places = self.cleaned_data["places"]
        if self.instance.pk is not None and places is not None and places < self.instance.places_taken:
            raise forms.ValidationError(
                gettext("%(taken)d places are taken; the post cannot have fewer places.")
                % {"taken": self.instance.places_taken}
            )
        return places


class TeamForm(forms.ModelForm):
    class Meta:
        model = VolunteerTeam
        fields = ["name", "community", "unit", "members", "leader"]

    def clean(self):
        cleaned = super().clean()
        community, unit = cleaned.get("community"), cleaned.get("unit")
        if community is None and unit is None:
            self.add_error("community", gettext("A team belongs to a community or to a unit."))
        members = cleaned.get("members")
        if community is not None and members is not None:
            strangers = [m.name for m in members if m.residence_community_id != community.pk]
            if strangers:
                self.add_error(
                    "members",
                    gettext("These members are not registered in %(community)s: %(names)s")
                    % {"community": community.name, "names": ", ".join(strangers)},
                )
        leader = cleaned.get("leader")
        if leader is not None and members is not None and leader not in members:
            self.add_error("leader", gettext("The leader must be one of the team's members."))
        return cleaned


class LogForm(forms.ModelForm):
    class Meta:
        model = ServiceLog
        fields = ["member", *services.LOG_FIELDS]


class ServiceCardForm(forms.Form):
    work_unit = forms.ModelChoiceField(label=_("Work unit"), queryset=MemberUnit.objects.none())
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label=_("Quarter"), choices=[(q, q) for q in range(1, 5)], coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["work_unit"].queryset = active_units()


class ServiceCardsForm(forms.Form):
    """Every work unit's card of a quarter, one workbook (a sheet per unit), written in the background."""

    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label=_("Quarter"), choices=[(q, q) for q in range(1, 5)], coerce=int)
