"""Portal pages of the projects app: the claim table (认领表), a project with its claim form, my units'
claims, a claim with its activities and commitment reviews (承诺评议), and recording an activity.

Thin: reads through `selectors`, writes through `services`; a refusal of the domain (full/已满, not
open, already claimed) becomes a form error or a message, and what the user may not see is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alliance import permissions
from alliance.forms import call_for_form, call_with_message
from alliance.pagination import page_of
from demands import selectors as demand_selectors
from members import selectors as member_selectors

from . import selectors, services
from .forms import ActivityForm, ClaimForm, ClaimTableFilterForm
from .models import ProjectClaim, ServiceActivity, ServiceProject

C = ProjectClaim.Status
# The claims that count as a unit's claim on a project (the service refuses a second one while one stands).
STANDING = (*ProjectClaim.HOLDING, C.COMPLETED)
# As in services.activity_record: activities are reported under approved claims (and, once the project
# has finished, under the completed ones).
RECORDABLE = (C.APPROVED, C.COMPLETED)
PAGE_SIZE = 20


def _my_units(request: HttpRequest):
    return member_selectors.units_of_liaison(user=request.user).order_by("name", "id")


# --- The claim table ---------------------------------------------------------------------------------


@login_required
def claim_table(request: HttpRequest) -> HttpResponse:
    filters = ClaimTableFilterForm(request.GET)
    projects = filters.filter(selectors.claim_table(user=request.user))
    page = page_of(projects, request.GET, per_page=PAGE_SIZE)
    rows = list(page.object_list)
    # One query for the whole page: which listed projects one of my units holds a place on.
    mine = {}
    if rows:
        holding = selectors.claims_of_my_units(user=request.user).filter(
            project_id__in=[p.pk for p in rows], status__in=ProjectClaim.HOLDING
        )
        for claim in holding:
            mine.setdefault(claim.project_id, claim)
    for project in rows:
        project.my_claim = mine.get(project.pk)
    context = {"page": page, "projects": rows, "filters": filters}
    return render(request, "projects/portal/claim_table.html", context)


def _project_page(
    request: HttpRequest, project: ServiceProject, *, claim_form: ClaimForm | None = None
) -> HttpResponse:
    units = _my_units(request)
    claims = list(selectors.claims_of_project(project=project).filter(status__in=STANDING))
    my_unit_ids = {unit.pk for unit in units}
    my_claims = [claim for claim in claims if claim.unit_id in my_unit_ids]
    is_liaison = bool(my_unit_ids)
    if not is_liaison:
        closed_reason = ""
    elif project.status != ServiceProject.Status.OPEN:
        closed_reason = _("This project is not open for claims.")
    elif len(my_claims) >= len(my_unit_ids):
        closed_reason = _("Your unit has already claimed this project.")
    elif project.places_left <= 0:
        closed_reason = _("All places of this project are taken.")
    else:
        closed_reason = ""
    context = {
        "project": project,
        "claims": claims,
        "my_claims": my_claims,
        "is_liaison": is_liaison,
        "can_claim": is_liaison and not closed_reason,
        "closed_reason": closed_reason,
        "claim_form": claim_form or (ClaimForm(units=units) if is_liaison else None),
    }
    return render(request, "projects/portal/project_detail.html", context)


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _project_page(request, selectors.project_detail(user=request.user, pk=pk))


@login_required
@require_POST
def project_claim(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.project_detail(user=request.user, pk=pk)
    units = _my_units(request)
    if not units.exists():
        raise Http404  # only units claim; there is no claim form for anyone else
    form = ClaimForm(request.POST, units=units)
    if form.is_valid() and call_for_form(
        form,
        services.claim_create,
        project=project,
        unit=form.cleaned_data["unit"],
        commitment=form.cleaned_data["commitment"],
        actor=request.user,
    ):
        messages.success(
            request,
            _("Your unit has claimed %(project)s. The street's staff will review the claim.")
            % {"project": project.title},
        )
        return redirect("portal:claim_list")
    # Read the project again: a refusal (full, closed) is best explained beside the places left now.
    return _project_page(request, selectors.project_detail(user=request.user, pk=pk), claim_form=form)


# --- My units' claims ------------------------------------------------------------------------------


@login_required
def claim_list(request: HttpRequest) -> HttpResponse:
    claims = selectors.claims_of_my_units(user=request.user)
    page = page_of(claims, request.GET, per_page=PAGE_SIZE)
    rows = list(page.object_list)
    for claim in rows:
        claim.actions = permissions.actions_allowed(request.user, claim)  # its buttons
    context = {
        "page": page,
        "claims": rows,
        "has_units": bool(_my_units(request).exists()),
        "open_count": selectors.claim_table(user=request.user).count(),
    }
    return render(request, "projects/portal/claim_list.html", context)


@login_required
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_detail(user=request.user, pk=pk)
    activities = selectors.activities_visible_to(user=request.user).filter(claim=claim)
    totals = selectors.activity_totals(by="project", activities=activities)
    page = page_of(activities.prefetch_related("photos"), request.GET, per_page=PAGE_SIZE)
    reviews = list(selectors.reviews_visible_to(user=request.user).filter(claim=claim))
    # Beside each quarter's score: the residents' ratings of the needs this unit completed that quarter.
    ratings = demand_selectors.unit_quarter_ratings(unit_ids=[claim.unit_id])
    for review in reviews:
        review.resident_rating = ratings.get((claim.unit_id, review.year, review.quarter))
    context = {
        "claim": claim,
        "page": page,
        "activities": page.object_list,
        "totals": totals[0] if totals else None,
        "reviews": reviews,
        "can_withdraw": "withdraw" in permissions.actions_allowed(request.user, claim),
        "can_record": claim.status in RECORDABLE and permissions.can_change(request.user, ServiceActivity(claim=claim)),
    }
    return render(request, "projects/portal/claim_detail.html", context)


@login_required
@require_POST
def claim_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_detail(user=request.user, pk=pk)
    call_with_message(
        request,
        services.claim_withdraw,
        claim=claim,
        actor=request.user,
        success=_("Your claim on %(project)s has been withdrawn; its place is free again.")
        % {"project": claim.project.title},
    )
    return redirect("portal:claim_list")


@login_required
def activity_create(request: HttpRequest, pk: int) -> HttpResponse:
    claim = selectors.claim_detail(user=request.user, pk=pk)
    form = ActivityForm(request.POST, request.FILES) if request.method == "POST" else ActivityForm()
    if (
        request.method == "POST"
        and form.is_valid()
        and call_for_form(
            form,
            services.activity_record,
            claim=claim,
            actor=request.user,
            data=form.activity_data(),
            photos=form.cleaned_data["photos"],
        )
    ):
        messages.success(request, _("The activity has been recorded. Thank you."))
        return redirect("portal:claim_detail", pk=claim.pk)
    context = {
        "claim": claim,
        "form": form,
        "can_record": claim.status in RECORDABLE,
        "max_photos": services.MAX_PHOTOS,
    }
    return render(request, "projects/portal/activity_form.html", context)
