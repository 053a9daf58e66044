"""Password recovery by text-message code (members and liaisons, who sign in with their mobile number),
and the sign-in form that says so. Thin: the rules are in alliance/passwords.py."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from . import passwords, ratelimit
from .masking import mask_phone
from .validators import validate_mobile

# The number the code was asked for, between the two pages (the code page never takes it from the form:
# a guesser would otherwise try one code against many numbers).
SESSION_PHONE = "password_code_phone"


class PhoneSignInForm(AuthenticationForm):
    """Members and liaisons sign in with their mobile number, staff with a user name: the field says both."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = gettext_lazy("Mobile phone or user name")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "inputmode": "text"})


class CodeRequestForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone"),
        max_length=11,
        validators=[validate_mobile],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )

    def clean_phone(self) -> str:
        return self.cleaned_data["phone"].strip()


class CodeResetForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Code from the text message"),
        regex=r"^[0-9]{6}$",
        max_length=6,
        error_messages={"invalid": gettext_lazy("The code has 6 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    new_password1 = forms.CharField(
        label=gettext_lazy("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict:
        data = super().clean()
        first, second = data.get("new_password1"), data.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two passwords differ."))
        return data


@require_http_methods(["GET", "POST"])
def password_code_request(request: HttpRequest) -> HttpResponse:
    form = CodeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        if not ratelimit.allow(request, "password_code") or not passwords.sms_code_request(phone=phone):
            form.add_error(None, _("Too many codes were asked for. Please try again in an hour."))
        else:
            request.session[SESSION_PHONE] = phone
            messages.success(
                request,
                _(
                    "If a member or liaison account signs in with this number, a code has been sent to it by "
                    "text message. It works for 10 minutes."
                ),
            )
            return redirect("portal:password_code_reset")
    return render(request, "registration/password_code_request.html", {"form": form})


@require_http_methods(["GET", "POST"])
def password_code_reset(request: HttpRequest) -> HttpResponse:
    phone = request.session.get(SESSION_PHONE)
    if not phone:
        return redirect("portal:password_code_request")
    form = CodeResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.allow(request, "password_code_check"):
            form.add_error(None, _("Too many tries from your network. Please try again in an hour."))
        else:
            try:
                code_row = passwords.sms_code_check(phone=phone, code=form.cleaned_data["code"])
                password = form.cleaned_data["new_password1"]
                try:
                    password_validation.validate_password(password, code_row.user)
                except forms.ValidationError as exc:
                    passwords.sms_code_give_back(code_row=code_row)
                    form.add_error("new_password1", exc)
                else:
                    passwords.sms_code_reset(code_row=code_row, password=password)
                    request.session.pop(SESSION_PHONE, None)
                    messages.success(request, _("Your password has been set. Please sign in."))
                    return redirect("portal:login")
            except passwords.CodeRefused as exc:
                form.add_error("code", str(exc))
    return render(request, "registration/password_code_reset.html", {"form": form, "phone": mask_phone(phone)})
