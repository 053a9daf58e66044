"""Forms of the liaison portal and of the staff screens. They check the shape of input only; the rules
(who may, from which status, how many photos) live in `demands.services`."""

from __future__ import annotations

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from alliance.forms import MultiplePhotoField
from members.models import MemberUnit

from .models import HOURS_ORDER_MESSAGE, Need, Resource
from .services import EDIT_FIELDS, MAX_PHOTOS, RESOURCE_FIELDS, SUBMIT_FIELDS

# --- Portal: the unit's side of the workflow -------------------------------------------------------


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why can the unit not take this need on?"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The community's staff read this and dispatch the need again."),
    )


class CompleteForm(forms.Form):
    result = forms.CharField(
        label=_("What was done"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("The resident reads this, and it may be shown publicly: do not write names or phone numbers."),
    )
    photos = MultiplePhotoField(
        label=_("Photos"),
        required=False,
        help_text=_("Up to %(count)d photos (JPEG, PNG or WebP).") % {"count": MAX_PHOTOS},
    )

    def clean_photos(self) -> list:
        photos = self.cleaned_data.get("photos") or []
        if len(photos) > MAX_PHOTOS:
            raise forms.ValidationError(_("At most %(count)d photos.") % {"count": MAX_PHOTOS})
        return photos


# --- Portal: the unit's own needs (单位需求) ---------------------------------------------------------


class UnitNeedForm(forms.ModelForm):
    """What a unit asks for: category, title, description, and which unit when the liaison has several
    (only those; one unit is not asked). The community and the contact are the unit's, which the service
    (`need_file_for_unit`) puts in: they are not the liaison's to choose here."""

    class Meta:
        model = Need
        fields = ["category", "title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, units=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.units = list(units)
        self.fields["category"].queryset = self.fields["category"].queryset.filter(is_active=True)
        if len(self.units) > 1:
            # A choice among the liaison's own units: any other unit is "not one of the choices".
            self.fields = {
                "unit": forms.TypedChoiceField(
                    label=_("Filed by unit"),
                    choices=[(unit.pk, unit.name) for unit in self.units],
                    coerce=int,
                    widget=forms.RadioSelect,
                ),
                **self.fields,
            }

    def validate_unique(self) -> None:
        pass  # the tracking code is the service's business

    def filing_unit(self) -> MemberUnit:
        if len(self.units) == 1:
            return self.units[0]
        return next(unit for unit in self.units if unit.pk == self.cleaned_data["unit"])

    def need_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


# --- Portal: the unit's resources ------------------------------------------------------------------


class ResourceForm(forms.ModelForm):
    """Create (the unit chosen among the liaison's units) or edit (the unit stays)."""

    class Meta:
        model = Resource
        fields = list(RESOURCE_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, units=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["unit"]
        else:
            self.fields["unit"].queryset = units if units is not None else MemberUnit.objects.none()
            self.fields["unit"].empty_label = None
        self.fields["category"].queryset = self.fields["category"].queryset.filter(is_active=True)

    def resource_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in RESOURCE_FIELDS if name in self.fields}


# --- Admin: staff's side ---------------------------------------------------------------------------


class NeedEntryForm(forms.ModelForm):
    """A need entered by staff on a resident's behalf (a phone call, a visit)."""

    channel = forms.ChoiceField(
        label=_("How the resident told us"),
        choices=[(Need.Channel.PHONE, Need.Channel.PHONE.label), (Need.Channel.VISIT, Need.Channel.VISIT.label)],
        initial=Need.Channel.PHONE,
    )

    class Meta:
        model = Need
        fields = ["channel", *SUBMIT_FIELDS]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "contact_phone": forms.TextInput(attrs={"inputmode": "numeric"}),
        }

    def __init__(self, *args, communities=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if communities is not None and "community" in self.fields:
            self.fields["community"].queryset = communities
        if "category" in self.fields:
            self.fields["category"].queryset = self.fields["category"].queryset.filter(is_active=True)

    def validate_unique(self) -> None:
        pass  # the tracking code is the service's business

    def need_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in SUBMIT_FIELDS if name in self.cleaned_data}


class NeedEditForm(forms.ModelForm):
    """What a need says; where it stands belongs to the workflow and is read-only here."""

    class Meta:
        model = Need
        fields = list(EDIT_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def validate_unique(self) -> None:
        pass

    def changed_need_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in EDIT_FIELDS}


class DispatchForm(forms.Form):
    """Choose one suggestion (a unit or a resource), or any other active unit, and add a note."""

    target = forms.ChoiceField(label=_("Suggestion"), required=False, widget=forms.RadioSelect)
    other_unit = forms.ModelChoiceField(
        label=_("Or another active unit"),
        queryset=MemberUnit.objects.none(),
        required=False,
    )
    note = forms.CharField(
        label=_("Note for the unit"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, suggestions=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = []
        for s in suggestions:
            if s.kind == "resource":
                choices.append((f"resource:{s.resource_id}", f"{s.resource_title} · {s.unit_name}"))
            else:
                choices.append((f"unit:{s.unit_id}", s.unit_name))
        self.fields["target"].choices = choices
        self.fields["other_unit"].queryset = MemberUnit.objects.filter(status=MemberUnit.Status.ACTIVE).order_by("name")

    def clean(self) -> dict:
        cleaned = super().clean()
        target, other = cleaned.get("target"), cleaned.get("other_unit")
        if self.errors:
            return cleaned
        if target and other:
            raise forms.ValidationError(_("Choose either a suggestion or another unit, not both."))
        cleaned["unit"], cleaned["resource"] = other, None
        if target:
            kind, _sep, pk = target.partition(":")
            if kind == "resource":
                resource = Resource.objects.select_related("unit").filter(pk=pk).first()
                if resource is None:
                    raise forms.ValidationError(_("This resource no longer exists."))
                cleaned["unit"], cleaned["resource"] = resource.unit, resource
            else:
                cleaned["unit"] = MemberUnit.objects.filter(pk=pk).first()
        if cleaned["unit"] is None:
            raise forms.ValidationError(_("Choose a unit or a resource to dispatch the need to."))
        return cleaned


class BookingForm(forms.Form):
    """A slot of a venue: the day, from and until (on the hour or half hour), what for, how many people,
    and for whom (oneself, one of one's units or communities)."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time", "step": 1800}))
    end = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time", "step": 1800}))
    purpose = forms.CharField(label=_("What for"), max_length=200)
    people = forms.IntegerField(label=_("People expected"), min_value=1, max_value=100000)
    on_behalf = forms.ChoiceField(label=_("Booked for"), required=False)

    def __init__(self, *args, units=(), communities=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("Myself"))]
        choices += [(f"unit:{u.pk}", u.name) for u in units]
        choices += [(f"community:{c.pk}", c.name) for c in communities]
        self.fields["on_behalf"].choices = choices
        if len(choices) == 1:
            self.fields["on_behalf"].widget = forms.HiddenInput()
        self._units = {u.pk: u for u in units}
        self._communities = {c.pk: c for c in communities}

    def booking_data(self) -> dict:
        from datetime import datetime

        from alliance.periods import ZONE

        data = self.cleaned_data
        kind, _sep, pk = (data.get("on_behalf") or "").partition(":")
        return {
            "start": datetime.combine(data["date"], data["start"], tzinfo=ZONE),
            "end": datetime.combine(data["date"], data["end"], tzinfo=ZONE),
            "purpose": data["purpose"],
            "people": data["people"],
            "unit": self._units.get(int(pk)) if kind == "unit" else None,
            "community": self._communities.get(int(pk)) if kind == "community" else None,
        }


class BookingDeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why is the booking declined?"), max_length=300)


# --- Portal: a venue's owner sets its hours and closed days ----------------------------------------

# Django's own weekday names (translated in its catalogue), as the ISO digits `Venue.weekdays` keeps: 1 Monday.
WEEKDAY_CHOICES = [(str(number + 1), name) for number, name in WEEKDAYS.items()]


class VenueHoursForm(forms.Form):
    """A plain form, not a ModelForm: a ModelForm writes into the venue it is given before the service
    has said yes, and the page shows that venue. The days are boxes to tick (no digits to type on a phone)."""

    opens_at = forms.TimeField(label=_("Opens at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    closes_at = forms.TimeField(label=_("Closes at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    weekdays = forms.MultipleChoiceField(
        label=_("Opening days"),
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one opening day.")},
    )
    is_public = forms.BooleanField(
        label=_("Shown on the public site"),
        required=False,
        help_text=_("Residents see it and its free slots, never who booked."),
    )

    @classmethod
    def for_venue(cls, venue, data=None) -> VenueHoursForm:
        initial = {
            "opens_at": venue.opens_at,
            "closes_at": venue.closes_at,
            "weekdays": list(venue.weekdays),
            "is_public": venue.is_public,
        }
        return cls(data, initial=initial)

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens is not None and closes is not None and closes <= opens:
            self.add_error("closes_at", HOURS_ORDER_MESSAGE)  # on the field; the constraint says it too
        return data

    def venue_data(self) -> dict:
        data = self.cleaned_data
        return {
            "opens_at": data["opens_at"],
            "closes_at": data["closes_at"],
            "weekdays": "".join(sorted(data["weekdays"])),
            "is_public": data["is_public"],
        }


class VenueClosureForm(forms.Form):
    date = forms.DateField(label=_("Closed on"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Why (optional)"), max_length=100, required=False)


class VenueReopenForm(forms.Form):
    date = forms.DateField(widget=forms.HiddenInput)
