"""How pages call services: one mapping of a service's refusal onto a form or a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import DomainError
from .uploads import PHOTO_KINDS, check_upload

T = TypeVar("T")
REFUSALS = (DomainError, PermissionDenied, ValidationError)


def refusal_message(exc: Exception) -> str:
    """The text of a domain error, a permission refusal or a model validation error."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(getattr(exc, "message", "") or exc) or _("You may not do this.")


def call_for_form(form: forms.BaseForm, service: Callable[..., T], **kwargs) -> T | None:
    """Call `service`; a refusal becomes the form's error (on the field it names, where the form has
    it) and None is returned, so the view re-renders the form."""
    try:
        return service(**kwargs)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)
    except (DomainError, PermissionDenied) as exc:
        form.add_error(None, refusal_message(exc))
    return None


def call_with_message(request: HttpRequest, service: Callable[..., T], *, success: str, **kwargs) -> T | None:
    """Call `service` for a button with no form: its refusal, or `success`, as a message."""
    try:
        result = service(**kwargs)
    except REFUSALS as exc:
        messages.error(request, refusal_message(exc))
        return None
    messages.success(request, success)
    return result


HONEYPOT = "website"


class HoneypotMixin:
    """A field people never see (CSS), screen readers skip (aria-hidden) and bots fill in, for the forms
    anyone may post (the residents' need form, a unit's application). Render it apart with
    `{% include "includes/honeypot.html" %}`; the view asks `is_bot()` first, stores nothing and answers
    as if it had, so that the bot learns nothing."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[HONEYPOT] = forms.CharField(
            label=gettext_lazy("Leave this field empty"),
            required=False,
            widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
        )

    def visible_fields(self) -> list:
        return [field for field in super().visible_fields() if field.name != HONEYPOT]

    def is_bot(self) -> bool:
        return bool((self.data.get(HONEYPOT) or "").strip())


PHOTO_TYPES = "image/jpeg,image/png,image/webp"


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos in one input (Django's documented pattern for several files)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": PHOTO_TYPES}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        items = [item for item in data if item] if isinstance(data, list | tuple) else [data] if data else []
        # Checked and re-encoded here, so the form shows which photo is refused and the service stores
        # the checked files without decoding them again.
        return [check_upload(single(item, initial), PHOTO_KINDS) for item in items]


class PasswordForgotForm(forms.Form):
    account = forms.CharField(label=gettext_lazy("User name or mobile phone"), max_length=150)

    def accounts(self) -> list:
        """Active accounts whose user name or profile phone is the value given (none is no error)."""
        value = self.cleaned_data["account"].strip()
        users = get_user_model().objects.filter(is_active=True).filter(Q(username=value) | Q(profile__phone=value))
        return list(users.distinct()[:5])
