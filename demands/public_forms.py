"""Forms of the residents' public pages. They check the shape of input only; the rules live in services.

Residents type on phones with Chinese input methods: full-width digits and letters (１３８, ＡＢＣ), spaces
and dashes are normalised before anything is checked."""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from alliance.forms import HoneypotMixin
from alliance.models import Category
from alliance.validators import validate_mobile
from members import selectors as member_selectors

from . import public_choices, selectors

PHONE_SEPARATORS = re.compile(r"[\s\-–—()（）]")


def _halfwidth(value: str) -> str:
    """１３８ → 138, ＡＢＣ → ABC, the ideographic space → a space."""
    return unicodedata.normalize("NFKC", value or "")


class TelInput(forms.TextInput):
    input_type = "tel"


class PublicChoiceField(forms.ModelChoiceField):
    """A community or category, checked against the list each process keeps (demands.public_choices)
    instead of one query per submission; the page still lists the choices from the database."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        found = public_choices.lookup(self.queryset.model, value)
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return found


class CommunityChoiceField(PublicChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class NeedForm(HoneypotMixin, forms.Form):
    """居民点单: what a resident needs, and how the community reaches them. With the honeypot."""

    community = CommunityChoiceField(
        label=_("Community"),
        queryset=member_selectors.communities_public(),
        empty_label=_("Choose your community"),
    )
    category = PublicChoiceField(
        label=_("What kind of help"),
        # Categories are the shared taxonomy (alliance), public like GET /api/v1/categories/.
        queryset=Category.objects.filter(is_active=True),
        empty_label=_("Choose a category"),
    )
    title = forms.CharField(
        label=_("In a few words"),
        min_length=2,
        max_length=80,
        help_text=_("For example: the stairway light in building 3 is broken"),
    )
    description = forms.CharField(
        label=_("Details"),
        min_length=5,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What is needed, where, and when it suits you."),
    )
    contact_name = forms.CharField(
        label=_("Your name"), max_length=30, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    contact_phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        widget=TelInput(attrs={"inputmode": "numeric", "autocomplete": "tel-national"}),
        help_text=_("11 digits. You will need its last four digits to follow your need."),
    )
    address = forms.CharField(
        label=_("Address (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
        help_text=_("Building, unit and room, if someone needs to come to you."),
    )

    def clean_contact_phone(self) -> str:
        phone = PHONE_SEPARATORS.sub("", _halfwidth(self.cleaned_data["contact_phone"]))
        for prefix in ("+86", "0086"):
            if phone.startswith(prefix):
                phone = phone[len(prefix) :]
        if len(phone) == 13 and phone.startswith("86"):
            phone = phone[2:]
        # The validator's \d also matches other scripts' digits; only 0-9 may be stored.
        if not phone.isascii():
            phone = "x"
        validate_mobile(phone)
        return phone

    def need_data(self) -> dict:
        """What `services.need_submit` takes (SUBMIT_FIELDS); a resident's need is of the default kind."""
        data = self.cleaned_data
        return {
            "community": data["community"],
            "category": data["category"],
            "title": data["title"],
            "description": data["description"],
            "contact_name": data["contact_name"],
            "contact_phone": data["contact_phone"],
            "address": data["address"],
        }


class TrackForm(forms.Form):
    """The tracking code and the last four digits of the phone: both must match (selectors.need_by_tracking)."""

    code = forms.CharField(
        label=_("Tracking code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "autocorrect": "off"}
        ),
        help_text=_("As shown after you submitted your need, for example ABCD-EFGH-JKMNP."),
    )
    phone_last4 = forms.CharField(
        label=_("Last four digits of your phone"),
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"}),
    )

    def clean_code(self) -> str:
        code = selectors.normalise_tracking_code(_halfwidth(self.cleaned_data["code"]))
        if not code:
            raise ValidationError(_("Enter the tracking code you were given."), code="code")
        return code

    def clean_phone_last4(self) -> str:
        digits = PHONE_SEPARATORS.sub("", _halfwidth(self.cleaned_data["phone_last4"]))
        if not re.fullmatch(r"[0-9]{4}", digits):
            raise ValidationError(_("Enter the last four digits of the phone number you gave."), code="last4")
        return digits


RATING_CHOICES = [
    (5, _("5 — very satisfied")),
    (4, _("4 — satisfied")),
    (3, _("3 — acceptable")),
    (2, _("2 — not satisfied")),
    (1, _("1 — very dissatisfied")),
]


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with the result?"),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "rating-choice"}),
        error_messages={"required": _("Please choose from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
