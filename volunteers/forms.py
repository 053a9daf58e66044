"""Forms of the Party members' portal (双报到). They check the shape of input only; who may register,
claim, log hours or move, and the range of hours, are the rules of `volunteers.services`."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.periods import QUARTER_CHOICES, Quarter
from alliance.validators import validate_mobile
from members import selectors as member_selectors
from members.models import MemberUnit

from .models import PartyMember, VolunteerPost
from .services import MEMBER_FIELDS

PHONE_ATTRS = {"inputmode": "numeric", "autocomplete": "tel", "maxlength": "11"}


class HiddenChoiceMixin:
    """A choice the person rarely has to make (their one registration) is a hidden field; a forged value
    is still checked against the queryset, and its error shown as the form's own (includes/form.html
    shows no error of a hidden field)."""

    hidden_when_single: tuple[str, ...] = ()

    def _hide_if_single(self, name: str, choices: list) -> None:
        field = self.fields[name]
        if len(choices) == 1:
            field.widget = forms.HiddenInput()
            field.initial = choices[0].pk

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.hidden_when_single:
            if self.is_bound and self.fields[name].widget.is_hidden and name in self._errors:
                errors = self._errors.pop(name)
                self._errors.setdefault(NON_FIELD_ERRORS, self.error_class(error_class="nonfield")).extend(errors)


# --- Registration (双报到) -------------------------------------------------------------------------


class RegistrationForm(forms.Form):
    """The person's registration at their residence community. An anonymous visitor also chooses a
    password: the account is made with the phone number as its user name."""

    name = forms.CharField(label=_("Name"), max_length=30, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        validators=[validate_mobile],
        widget=forms.TextInput(attrs={"type": "tel", **PHONE_ATTRS}),
    )
    work_unit = forms.ModelChoiceField(
        label=_("Work unit"),
        queryset=MemberUnit.objects.none(),
        required=False,
        empty_label=_("My unit has not joined the alliance"),
        help_text=_("Where your Party relationship is kept (关系在单位)."),
    )
    work_unit_name = forms.CharField(
        label=_("Name of the work unit"),
        max_length=100,
        required=False,
        help_text=_("Only when your unit is not in the list above."),
    )
    party_branch = forms.CharField(
        label=_("Party branch"), max_length=100, help_text=_("The Party branch you belong to at your work unit.")
    )
    residence_community = forms.ModelChoiceField(
        label=_("Residence community"),
        queryset=member_selectors.communities_public(),
        empty_label=_("Choose the community where you live"),
        help_text=_("Where you live and serve (活动在区域)."),
    )
    skills = forms.CharField(
        label=_("Skills"),
        max_length=200,
        required=False,
        help_text=_("For example: first aid, repairs, calligraphy, legal advice."),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, and not like your phone number or name."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, with_password: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.with_password = with_password
        if not with_password:
            del self.fields["password1"], self.fields["password2"]
        self.fields["work_unit"].queryset = MemberUnit.objects.filter(status=MemberUnit.Status.ACTIVE).order_by(
            "name", "id"
        )

    def clean_phone(self) -> str:
        # People type 138 1234 5678 or 138-1234-5678; the number is the same.
        return "".join(ch for ch in self.cleaned_data["phone"] if ch not in " -")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("work_unit"):
            data["work_unit_name"] = ""
        elif "work_unit" not in self.errors and not (data.get("work_unit_name") or "").strip():
            self.add_error(
                "work_unit_name",
                _("Please choose your work unit, or give its name when it has not joined the alliance."),
            )
        if self.with_password:
            self._clean_passwords(data)
        return data

    def _clean_passwords(self, data: dict) -> None:
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            # Judged against what the account will hold: the phone as user name, the name as first name.
            user = get_user_model()(username=data.get("phone", ""), first_name=data.get("name", ""))
            try:
                password_validation.validate_password(first, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)

    def member_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in MEMBER_FIELDS}


# --- Serving -------------------------------------------------------------------------------------


class WishCompleteForm(forms.Form):
    result = forms.CharField(
        label=_("What was done"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The resident reads this when they rate the result."),
    )


class HoursForm(HiddenChoiceMixin, forms.Form):
    """Hours served on one day. The range (more than 0, at most 24) and the date not in the future are
    the service's rules; the post is one the member holds."""

    hidden_when_single = ("registration",)

    registration = forms.ModelChoiceField(
        label=_("Registration"),
        queryset=PartyMember.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Hours are logged under your own verified registration.")},
    )
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    hours = forms.DecimalField(
        label=_("Hours"),
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    description = forms.CharField(label=_("What was done"), max_length=300)
    post = forms.ModelChoiceField(
        label=_("Post"),
        queryset=VolunteerPost.objects.none(),
        required=False,
        empty_label=_("No post"),
        error_messages={"invalid_choice": _("Choose one of the posts you hold.")},
    )

    def __init__(self, *args, registrations: QuerySet[PartyMember], posts: QuerySet[VolunteerPost], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["registration"].queryset = registrations
        self._hide_if_single("registration", list(registrations))
        self.fields["post"].queryset = posts
        today = timezone.localdate()
        self.fields["date"].widget.attrs["max"] = today.isoformat()
        if not self.is_bound:
            self.fields["date"].initial = today

    def clean(self) -> dict:
        data = super().clean()
        member, post = data.get("registration"), data.get("post")
        if member is not None and post is not None and post.community_id != member.residence_community_id:
            self.add_error("post", _("Choose one of the posts you hold."))
        return data

    def log_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in ("date", "hours", "description")}
        if self.cleaned_data.get("post") is not None:
            data["post"] = self.cleaned_data["post"]
        return data


class MoveForm(HiddenChoiceMixin, forms.Form):
    """搬家: the registration that ends and the community where the new one starts."""

    hidden_when_single = ("registration",)

    registration = forms.ModelChoiceField(
        label=_("Registration"),
        queryset=PartyMember.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Only your own active registrations can move.")},
    )
    community = forms.ModelChoiceField(
        label=_("New residence community"),
        queryset=member_selectors.communities_public(),
        empty_label=_("Choose the community where you live now"),
    )

    def __init__(self, *args, registrations: list[PartyMember], queryset: QuerySet[PartyMember], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["registration"].queryset = queryset
        self._hide_if_single("registration", registrations)
        # Not a community where the person is registered already (one active registration per community).
        self.fields["community"].queryset = member_selectors.communities_public().exclude(
            pk__in=[r.residence_community_id for r in registrations]
        )


# --- The service card ------------------------------------------------------------------------------


class QuarterForm(forms.Form):
    """?year=&quarter= of the service card. Anything invalid falls back to the current quarter, so a
    mistyped link still shows a card, never an error page."""

    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label=_("Quarter"), coerce=int, choices=QUARTER_CHOICES)

    def chosen(self) -> Quarter:
        current = Quarter.current()
        if self.is_valid():
            return Quarter(self.cleaned_data["year"], self.cleaned_data["quarter"])
        data = getattr(self, "cleaned_data", {})
        return Quarter(data.get("year", current.year), data.get("quarter", current.quarter))
