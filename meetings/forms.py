"""Forms of the liaisons' portal for meetings. They check the shape of input only; the rules (who may
answer an invitation, until when, who writes progress on a resolution) live in `meetings.services`."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import MemberUnit

from .models import Invitation

ANSWERS = (
    (Invitation.Status.CONFIRMED, _("Confirm attendance")),
    (Invitation.Status.DECLINED, pgettext_lazy("invitation", "Decline")),
)


class AnswerForm(forms.Form):
    """A liaison's answer to an invitation: the unit (among the liaison's own units, so a forged unit is
    refused, not replaced) and confirmed or declined — the two submit buttons carry the status."""

    unit = forms.ModelChoiceField(
        queryset=MemberUnit.objects.none(),
        error_messages={"invalid_choice": _("You may answer invitations only for your own unit.")},
    )
    status = forms.ChoiceField(
        choices=ANSWERS, error_messages={"invalid_choice": _("Please confirm or decline the invitation.")}
    )

    def __init__(self, *args, units: QuerySet[MemberUnit], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units

    def error_text(self) -> str:
        return " ".join(str(error) for errors in self.errors.values() for error in errors)


class ProgressForm(forms.Form):
    text = forms.CharField(
        label=_("New progress note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What has been done since the last note, and what is left."),
        error_messages={"required": _("Please write what has been done.")},
    )

    def error_text(self) -> str:
        return " ".join(str(error) for errors in self.errors.values() for error in errors)
