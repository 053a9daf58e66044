"""Portal forms. They check the shape of input only; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.forms import HoneypotMixin

from .models import MemberUnit
from .services import APPLICATION_FIELDS, PROFILE_FIELDS


class UnitProfileForm(forms.ModelForm):
    class Meta:
        model = MemberUnit
        fields = list(PROFILE_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "liaison_phone": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
        }

    def validate_unique(self) -> None:
        # Uniqueness is the service's business (it knows which duplicates matter); see unit_update.
        pass


class UnitApplicationForm(HoneypotMixin, forms.ModelForm):
    agree = forms.BooleanField(
        label=_("I confirm that the information is true and that the unit's Party organisation agrees to join."),
        required=True,
    )

    class Meta:
        model = MemberUnit
        fields = list(APPLICATION_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "liaison_phone": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
            "credit_code": forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
        }
        help_texts = {
            "credit_code": _("18 characters, as printed on the business licence. Military units may leave it empty."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = self.fields["community"].queryset.select_related("street")
        self.fields["sector"].queryset = self.fields["sector"].queryset.select_related("street")

    def clean_credit_code(self) -> str:
        return (self.cleaned_data.get("credit_code") or "").strip().upper()

    def validate_unique(self) -> None:
        pass

    def application_data(self) -> dict:
        return {field: self.cleaned_data[field] for field in APPLICATION_FIELDS}
