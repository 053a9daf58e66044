"""Forms of the liaisons' portal for projects. They check the shape of input only; the rules (who may
claim, whether places are left, which claims may report activities, how many photos) live in
`projects.services`."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.forms import MultiplePhotoField
from alliance.models import Category
from members import selectors as member_selectors
from members.models import MemberUnit

from .models import ServiceActivity, ServiceProject
from .services import ACTIVITY_FIELDS, MAX_PHOTOS

STREET_WIDE = "street"


# --- The claim table's filters ---------------------------------------------------------------------


class ClaimTableFilterForm(forms.Form):
    """GET filters of the claim table. Invalid values are dropped one by one (a shared link with a stale
    category still lists the table), never answered with an error page."""

    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.filter(is_active=True), required=False, empty_label=_("All")
    )
    community = forms.ChoiceField(label=_("Community"), required=False)
    demonstration = forms.BooleanField(label=_("Demonstration projects only"), required=False)
    has_places = forms.BooleanField(label=_("With places left"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [
            ("", _("All")),
            (STREET_WIDE, _("Street-wide")),
            *((str(c.pk), c.name) for c in member_selectors.communities_public()),
        ]

    def filter(self, projects: QuerySet[ServiceProject]) -> QuerySet[ServiceProject]:
        self.is_valid()
        data = self.cleaned_data  # only the fields that were valid
        if data.get("category"):
            projects = projects.filter(category=data["category"])
        community = data.get("community")
        if community == STREET_WIDE:
            projects = projects.filter(community__isnull=True)
        elif community:
            projects = projects.filter(community_id=int(community))
        if data.get("demonstration"):
            projects = projects.filter(is_demonstration=True)
        if data.get("has_places"):
            projects = projects.filter(places_left_db__gt=0)
        return projects


# --- Claiming ---------------------------------------------------------------------------------------


class ClaimForm(forms.Form):
    """The commitment, and the unit among the liaison's units. With a single unit the choice is a hidden
    field: it is still checked against the liaison's units, so a forged unit is refused, not replaced."""

    unit = forms.ModelChoiceField(
        label=_("Unit"),
        queryset=MemberUnit.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("You may claim projects only for your own unit.")},
    )
    commitment = forms.CharField(
        label=_("Commitment"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What the unit promises: people, venue hours, money, sessions."),
    )

    def __init__(self, *args, units: QuerySet[MemberUnit], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        field.queryset = units
        if len(units) == 1:
            field.widget = forms.HiddenInput()
            field.initial = units[0].pk

    def full_clean(self) -> None:
        super().full_clean()
        # includes/form.html shows no error of a hidden field: carry it to the form's own errors.
        if self.is_bound and self.fields["unit"].widget.is_hidden and "unit" in self._errors:
            errors = self._errors.pop("unit")
            self._errors.setdefault(NON_FIELD_ERRORS, self.error_class(error_class="nonfield")).extend(errors)


# --- Activities -------------------------------------------------------------------------------------


class ActivityForm(forms.ModelForm):
    photos = MultiplePhotoField(label=_("Photos"), required=False)

    class Meta:
        model = ServiceActivity
        fields = list(ACTIVITY_FIELDS)
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["photos"].help_text = _("Up to %(count)d photos (JPEG, PNG or WebP).") % {"count": MAX_PHOTOS}
        today = timezone.localdate()
        self.fields["date"].widget.attrs["max"] = today.isoformat()
        if not self.is_bound:
            self.fields["date"].initial = today
        for name in ("participants", "services", "beneficiaries", "hours"):
            self.fields[name].widget.attrs.setdefault("inputmode", "decimal" if name == "hours" else "numeric")

    def clean_photos(self) -> list:
        photos = self.cleaned_data.get("photos") or []
        if len(photos) > MAX_PHOTOS:
            raise forms.ValidationError(_("At most %(count)d photos.") % {"count": MAX_PHOTOS})
        return photos

    def activity_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ACTIVITY_FIELDS}
