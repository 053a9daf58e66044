"""Portal pages of the members app: my units, a unit's profile and agreements, the join application."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe

from alliance import permissions, ratelimit
from alliance.forms import call_for_form, call_with_message

from . import assessments, selectors, services
from .forms import UnitApplicationForm, UnitProfileForm
from .models import Assessment

logger = logging.getLogger(__name__)


class AssessmentRemarkForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Your remark"),
        max_length=assessments.REMARK_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Seen by the street's staff before they approve the assessment."),
    )


APPLY_SCOPE = "unit_apply"


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    return render(request, "members/portal/unit_list.html", {"units": selectors.units_of_liaison(user=request.user)})


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = selectors.unit_detail(user=request.user, pk=pk)
    context = {
        "unit": unit,
        "agreements": selectors.agreements_visible_to(user=request.user).filter(unit=unit),
        "memberships": selectors.memberships_of_unit(unit=unit),
        "can_edit": permissions.can_change(request.user, unit),
    }
    return render(request, "members/portal/unit_detail.html", context)


@login_required
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    unit = selectors.unit_detail(user=request.user, pk=pk)
    permissions.require_change(request.user, unit)
    form = UnitProfileForm(request.POST or None, instance=unit)
    if (
        request.method == "POST"
        and form.is_valid()
        and call_for_form(form, services.unit_update, unit=unit, actor=request.user, data=form.cleaned_data)
    ):
        messages.success(request, _("The unit's profile has been saved."))
        return redirect("portal:unit_detail", pk=unit.pk)
    return render(request, "members/portal/unit_edit.html", {"unit": unit, "form": form})


def unit_apply(request: HttpRequest) -> HttpResponse:
    form = UnitApplicationForm(request.POST or None)
    if request.method != "POST":
        return render(request, "members/portal/apply.html", {"form": form})
    if form.is_bot():
        # The answer a stored application gets, so that the bot learns nothing; nothing is stored.
        logger.info("unit application: honeypot filled in, nothing stored")
        return redirect("portal:unit_apply_done")
    status = 200
    if form.is_valid():
        # Counted once the form is valid, per client address (anyone may apply, signed in or not).
        if not ratelimit.allow(request, APPLY_SCOPE):
            minutes = max(1, -(-ratelimit.rate_for(APPLY_SCOPE)[1] // 60))
            message = ngettext(
                "Too many applications came from your network in a short time, so this one was not saved. "
                "Please try again in about %(minutes)d minute.",
                "Too many applications came from your network in a short time, so this one was not saved. "
                "Please try again in about %(minutes)d minutes.",
                minutes,
            )
            form.add_error(None, message % {"minutes": minutes})
            status = 429
        elif call_for_form(form, services.unit_apply, data=form.application_data(), applicant=request.user):
            return redirect("portal:unit_apply_done")
        else:
            ratelimit.refund(request, APPLY_SCOPE)
    return render(request, "members/portal/apply.html", {"form": form}, status=status)


def unit_apply_done(request: HttpRequest) -> HttpResponse:
    return render(request, "members/portal/apply_done.html")


# --- The unit's quarterly assessment (按季度考核) ------------------------------------------------------


@login_required
def assessment_list(request: HttpRequest) -> HttpResponse:
    """The assessments of the liaison's own units, newest quarter first."""
    rows = assessments.assessments_of_liaison(user=request.user).prefetch_related(None)
    return render(request, "members/portal/assessment_list.html", {"assessments": rows})


@login_required
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One assessment with each indicator explained; the unit's liaison may leave a remark until approved."""
    assessment = assessments.assessment_detail(user=request.user, pk=pk)
    may_remark = assessment.status != Assessment.Status.APPROVED and permissions.has_ability(
        request.user, "members.remark_assessment", assessment
    )
    context = {
        "assessment": assessment,
        "lines": assessments.shown_lines(assessment),
        "renormalised": any(not line.applicable for line in assessment.lines.all()),
        "form": AssessmentRemarkForm(initial={"text": assessment.liaison_remark}) if may_remark else None,
    }
    return render(request, "members/portal/assessment_detail.html", context)


@login_required
@require_POST
def assessment_remark(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = assessments.assessment_detail(user=request.user, pk=pk)
    form = AssessmentRemarkForm(request.POST)
    if form.is_valid():
        call_with_message(
            request,
            assessments.assessment_remark,
            assessment=assessment,
            text=form.cleaned_data["text"],
            actor=request.user,
            success=_("Your remark has been saved; the street's staff will read it before approving."),
        )
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("portal:assessment_detail", pk=assessment.pk)


# --- The council roster (届): in the portal and on the public site ---------------------------------------


def _chosen_street(request: HttpRequest, streets: list):
    """The street asked for (`?street=<id>`, one of `streets`), or the only one; an unknown or malformed id
    is a 404, never a 500."""
    asked = request.GET.get("street")
    if asked in (None, ""):
        return streets[0] if len(streets) == 1 else None
    if not asked.isascii() or not asked.isdigit():
        raise Http404
    street = next((s for s in streets if s.pk == int(asked)), None)
    if street is None:
        raise Http404
    return street


def _roster(street) -> dict:
    term = selectors.current_term(street_id=street.pk) if street else None
    return {"term": term, "seats": list(selectors.council_roster(term=term))}


@require_safe
def council_public(request: HttpRequest) -> HttpResponse:
    """/council/?street=<id>: a street's council of the current term — unit, role and holder, no contact."""
    streets = list(selectors.streets_named())
    street = _chosen_street(request, streets)
    return render(request, "members/public/council.html", {"streets": streets, "street": street, **_roster(street)})


@login_required
@require_safe
def council_roster(request: HttpRequest) -> HttpResponse:
    """The council of the streets of my units (and, for staff, of the streets they oversee)."""
    ids = set(selectors.streets_of_units(unit_ids=permissions.units_of(request.user))) | permissions.streets_of(
        request.user
    )
    streets = list(selectors.streets_named().filter(pk__in=ids))
    street = _chosen_street(request, streets) if streets else None
    if street is None and streets:
        street = streets[0]
    return render(request, "members/portal/council.html", {"streets": streets, "street": street, **_roster(street)})
