"""Finding or making the accounts staff attach where they need them: a unit's liaison from the unit's
page, a community's staff member from the community's page. Django's own user screens are for
superusers, so a lookup into them answered staff with a bare 403; these pages search through
`selectors.accounts_matching`, show only masked data, and write through the services. A new account's
password-set link goes to its owner's phone when the message is sent: no page shows it and nothing stores it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance.errors import Conflict
from alliance.forms import REFUSALS, refusal_message
from alliance.masking import mask_name, mask_phone
from alliance.validators import validate_mobile

from .. import selectors

ACCOUNT_FORM_TEMPLATE = "admin/members/account_add.html"
# The unit's and the community's change page: the same form with an "add an account" button.
CHANGE_FORM_TEMPLATE = "admin/members/account_change_form.html"


class AccountSearchForm(forms.Form):
    q = forms.CharField(label=_("Name, user name or mobile phone"), max_length=150, required=False)


class AccountCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=11,
        validators=[validate_mobile],
        help_text=_("The link to set the password is sent to this number by text message."),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        required=False,
        help_text=_("Leave empty to sign in with the mobile phone number."),
    )


class AccountField(forms.ModelChoiceField):
    """An active account named by its exact user name or mobile phone: the add forms of unit accounts and
    community staff ask for it so, instead of a lookup into the user screens (superusers only)."""

    widget = forms.TextInput

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("Account"))
        kwargs.setdefault("help_text", _("The account's exact user name or mobile phone."))
        super().__init__(queryset=get_user_model().objects.filter(is_active=True), **kwargs)

    def prepare_value(self, value):
        if isinstance(value, int):  # a saved row's initial is its user's id
            return self.queryset.filter(pk=value).values_list("username", flat=True).first() or ""
        return getattr(value, "username", value)

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        user = self.queryset.filter(Q(username=value) | Q(profile__phone=value)).order_by("pk").first()
        if user is None:
            raise forms.ValidationError(_("No active account has this user name or phone."), code="invalid_choice")
        return user


def _phone_of(user) -> str:
    profile = getattr(user, "profile", None)  # an account without a profile has no phone
    return profile.phone if profile is not None else ""


def _row(user) -> dict[str, Any]:
    """What staff see of an account they may attach: enough to recognise it, not to reach its owner."""
    name = " ".join(part for part in (user.last_name, user.first_name) if part)
    return {"pk": user.pk, "username": user.username, "name": mask_name(name), "phone": mask_phone(_phone_of(user))}


def account_add_view(
    model_admin,
    request: HttpRequest,
    *,
    target,
    attach: Callable[..., Any],
    create: Callable[..., Any],
    target_kwarg: str,
    title: str,
    attached: Callable[[Any], str],
) -> HttpResponse:
    """The find-or-create page of `target` (a unit or a community): `attach(actor, <target_kwarg>, user)`
    or `create(actor, <target_kwarg>, name, phone, email, username)`; back to the target's page on success."""
    opts = target._meta
    back_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[target.pk])
    search = AccountSearchForm(request.GET or None)
    create_form = AccountCreateForm(request.POST if "create" in request.POST else None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    if request.method == "POST" and "attach" in request.POST:
        user = _active_user(request.POST["attach"])
        if user is not None:
            try:
                attach(actor=request.user, user=user, **{target_kwarg: target})
            except REFUSALS as exc:
                messages.error(request, refusal_message(exc))
            else:
                messages.success(request, attached(user))
                return HttpResponseRedirect(back_url)
        else:
            messages.error(request, gettext("This account does not exist or is switched off."))
    elif request.method == "POST" and create_form.is_valid():
        data = create_form.cleaned_data
        try:
            created = create(actor=request.user, **{target_kwarg: target}, **data)
        except REFUSALS as exc:
            messages.error(request, refusal_message(exc))
            if isinstance(exc, Conflict):
                # The phone or user name is someone's already: offer that account instead.
                query = data["phone"]
        else:
            messages.success(
                request,
                gettext(
                    "The account %(username)s was made; a message with a link to set the password was sent to %(phone)s."
                )
                % {"username": created.user.username, "phone": mask_phone(data["phone"])},
            )
            return HttpResponseRedirect(back_url)
    results = [_row(user) for user in selectors.accounts_matching(query=query)] if query else None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": opts,
        "original": target,
        "back_url": back_url,
        "search": search,
        "query": query,
        "results": results,
        "form": create_form,
    }
    return TemplateResponse(request, ACCOUNT_FORM_TEMPLATE, context)


def _active_user(value: str):
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        return None
    return get_user_model().objects.filter(pk=int(value), is_active=True).first()
