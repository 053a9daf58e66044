"""The forms of the projects' admin screens."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance.forms import MultiplePhotoField

from .. import services
from ..models import CommitmentReview, ServiceActivity, ServiceProject


class ProjectForm(forms.ModelForm):
    class Meta:
        model = ServiceProject
        fields = list(services.PROJECT_FIELDS)

    def clean(self):
        cleaned = super().clean()
        street, community = cleaned.get("street"), cleaned.get("community")
        if street is not None and community is not None and community.street_id != street.pk:
            self.add_error("community", gettext("This community does not belong to the chosen street."))
        return cleaned


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed to reject the claim; the unit is told it."),
    )


class PlaqueForm(forms.Form):
    plaque_awarded_on = forms.DateField(
        label=_("Plaque awarded on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class ActivityForm(forms.ModelForm):
    photos = MultiplePhotoField(
        label=_("photos"),
        required=False,
        help_text=_("Up to %(count)d photos (jpg, png, webp).") % {"count": services.MAX_PHOTOS},
    )

    class Meta:
        model = ServiceActivity
        fields = ["claim", *services.ACTIVITY_FIELDS]


class ReviewForm(forms.ModelForm):
    class Meta:
        model = CommitmentReview
        fields = ["claim", "year", "quarter", "score", "comment"]
