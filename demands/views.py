"""Portal pages of the demands app: the needs dispatched to my units, the needs they filed, and my units'
resources.

Thin: reads through `selectors`, writes through `services`; a refusal of the domain becomes a form error
or a message, and what the user may not see is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alliance import permissions
from alliance.forms import call_for_form, call_with_message
from alliance.masking import mask_name, mask_phone
from alliance.pagination import page_of
from members import selectors as member_selectors

from . import selectors, services
from .forms import (
    BookingDeclineForm,
    BookingForm,
    CompleteForm,
    DeclineForm,
    ResourceForm,
    UnitNeedForm,
    VenueClosureForm,
    VenueHoursForm,
    VenueReopenForm,
)
from .models import Booking, Need, Resource

S = Need.Status
LIST_STATUSES = (S.DISPATCHED, S.ACCEPTED, S.COMPLETED, S.CLOSED, S.REJECTED)
PAGE_SIZE = 20


# --- Needs ----------------------------------------------------------------------------------------


# The needs my units filed themselves can also wait to be dispatched (and never be "in hand").
FILED_STATUSES = (S.SUBMITTED, *LIST_STATUSES)
FILED = "filed"


@login_required
def need_list(request: HttpRequest) -> HttpResponse:
    """Two lists, as tabs: the needs dispatched to my units (what they serve) and, with `?list=filed`, the
    needs my units filed as their own (what they asked for), each with its status filter."""
    filed = request.GET.get("list") == FILED
    if filed:
        needs = selectors.needs_filed_by_units(user=request.user)
        statuses, filters = FILED_STATUSES, [("", _("All"))]
    else:
        needs = selectors.needs_of_units(user=request.user)
        statuses, filters = LIST_STATUSES, [("", _("All")), ("open", _("In hand"))]
    filters += [(s.value, s.label) for s in statuses]
    status = request.GET.get("status", "")
    if status == "open" and not filed:
        needs = needs.filter(status__in=selectors.OPEN_FOR_UNIT)
    elif status in statuses:
        needs = needs.filter(status=status)
    else:
        status = ""
    page = page_of(needs, request.GET, per_page=PAGE_SIZE)
    _label_rows(page.object_list, filed=filed)
    context = {
        "page": page,
        "needs": page.object_list,
        "status": status,
        "filters": filters,
        "filed": filed,
        "may_file": filed and services.may_file_unit_needs(request.user),
        # The status links keep the tab.
        "list_query": f"list={FILED}&" if filed else "",
    }
    return render(request, "demands/portal/need_list.html", context)


@login_required
def need_create(request: HttpRequest) -> HttpResponse:
    """A unit's liaison files the unit's own need (单位需求); the community and the contact are the unit's
    (the service's). Who has no unit to file for is answered as by resource_create: not found."""
    units = [
        unit
        for unit in member_selectors.units_of_liaison(user=request.user).order_by("name", "id")
        if services.may_file_for_unit(request.user, unit)
    ]
    if not units:
        raise Http404
    form = UnitNeedForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        need = call_for_form(
            form,
            services.need_file_for_unit,
            unit=form.filing_unit(),
            actor=request.user,
            data=form.need_data(),
            channel=Need.Channel.WEB,
        )
        if need is not None:
            messages.success(request, _("The need has been filed. The community's staff will dispatch it."))
            return redirect("portal:need_detail", pk=need.pk)
    return render(request, "demands/portal/need_form.html", {"form": form})


def _label_rows(needs: list[Need], *, filed: bool = False) -> None:
    """What each row of the list shows besides its fields, worked out once per page: the link (one
    reverse, the row's key put in) and "dispatched <local time>" (one translation). Per row in the
    template these were half the page's time (issue 12: the busiest liaison's list, 20 rows)."""
    marker = 999_999_999_999
    link = reverse("portal:need_detail", args=[marker])
    dispatched = _("dispatched %(at)s")
    submitted = _("filed %(at)s") if filed else ""
    statuses = dict(S.choices)
    for need in needs:
        need.detail_url = link.replace(str(marker), str(need.pk))
        need.status_label = statuses.get(need.status, need.status)
        need.dispatched_label = (
            dispatched % {"at": timezone.localtime(need.dispatched_at).strftime("%Y-%m-%d %H:%M")}
            if need.dispatched_at
            else ""
        )
        if filed:
            need.filed_label = submitted % {"at": timezone.localtime(need.submitted_at).strftime("%Y-%m-%d %H:%M")}


def _need_page(
    request: HttpRequest,
    need: Need,
    *,
    decline_form: DeclineForm | None = None,
    complete_form: CompleteForm | None = None,
) -> HttpResponse:
    contact_in_full = permissions.has_ability(request.user, "demands.see_contact", need)
    allowed = permissions.actions_allowed(request.user, need)
    if contact_in_full:
        contact = {"name": need.contact_name, "phone": need.contact_phone, "address": need.address}
    else:
        contact = {"name": mask_name(need.contact_name), "phone": mask_phone(need.contact_phone), "address": ""}
    context = {
        "need": need,
        "tracking_code": services.format_tracking_code(need.tracking_code),
        "contact": contact,
        "contact_in_full": contact_in_full,
        "events": need.events.all(),
        "photos": need.photos.all(),
        "can_accept": "accept" in allowed,
        "can_decline": "decline" in allowed,
        "can_complete": "complete" in allowed,
        "decline_form": decline_form or DeclineForm(),
        "complete_form": complete_form or CompleteForm(),
        "max_photos": services.MAX_PHOTOS,
    }
    return render(request, "demands/portal/need_detail.html", context)


@login_required
def need_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _need_page(request, selectors.need_detail(user=request.user, pk=pk))


@login_required
@require_POST
def need_accept(request: HttpRequest, pk: int) -> HttpResponse:
    need = selectors.need_detail(user=request.user, pk=pk)
    call_with_message(
        request,
        services.need_accept,
        need=need,
        actor=request.user,
        success=_("You have accepted the need. Please complete it and report the result."),
    )
    return redirect("portal:need_detail", pk=need.pk)


@login_required
@require_POST
def need_decline(request: HttpRequest, pk: int) -> HttpResponse:
    need = selectors.need_detail(user=request.user, pk=pk)
    form = DeclineForm(request.POST)
    if form.is_valid() and call_for_form(
        form, services.need_decline, need=need, actor=request.user, reason=form.cleaned_data["reason"]
    ):
        # The need goes back to the community and leaves this unit's list (and its page).
        messages.success(request, _("You have declined the need; the community will dispatch it again."))
        return redirect("portal:need_list")
    return _need_page(request, need, decline_form=form)


@login_required
@require_POST
def need_complete(request: HttpRequest, pk: int) -> HttpResponse:
    need = selectors.need_detail(user=request.user, pk=pk)
    form = CompleteForm(request.POST, request.FILES)
    if form.is_valid() and call_for_form(
        form,
        services.need_complete,
        need=need,
        actor=request.user,
        result=form.cleaned_data["result"],
        photos=form.cleaned_data["photos"],
    ):
        messages.success(request, _("Thank you. The resident has been told and asked to rate the result."))
        return redirect("portal:need_detail", pk=need.pk)
    return _need_page(request, need, complete_form=form)


# --- Resources ------------------------------------------------------------------------------------


def _my_resource(request: HttpRequest, pk: int) -> Resource:
    """A resource of one of my units, or 404 (others' resources are not mine to edit, seen or not)."""
    return permissions.get_visible_or_404(request.user, selectors.resources_of_units(user=request.user), pk=pk)


@login_required
def resource_list(request: HttpRequest) -> HttpResponse:
    resources = selectors.resources_of_units(user=request.user).order_by("unit__name", "status", "-created_at", "id")
    page = page_of(resources, request.GET, per_page=PAGE_SIZE)
    rows = list(page.object_list)
    for resource in rows:
        resource.actions = permissions.actions_allowed(request.user, resource)  # its buttons
    context = {
        "page": page,
        "resources": rows,
        "has_units": bool(member_selectors.units_of_liaison(user=request.user).exists()),
    }
    return render(request, "demands/portal/resource_list.html", context)


@login_required
def resource_create(request: HttpRequest) -> HttpResponse:
    units = member_selectors.units_of_liaison(user=request.user).order_by("name")
    if not units.exists():
        raise Http404
    form = ResourceForm(request.POST or None, units=units)
    if (
        request.method == "POST"
        and form.is_valid()
        and call_for_form(form, services.resource_create, actor=request.user, data=form.resource_data())
    ):
        messages.success(request, _("The resource has been published."))
        return redirect("portal:resource_list")
    return render(request, "demands/portal/resource_form.html", {"form": form, "resource": None})


@login_required
def resource_edit(request: HttpRequest, pk: int) -> HttpResponse:
    resource = _my_resource(request, pk)
    form = ResourceForm(request.POST or None, instance=resource)
    if (
        request.method == "POST"
        and form.is_valid()
        and call_for_form(
            form, services.resource_update, resource=resource, actor=request.user, data=form.resource_data()
        )
    ):
        messages.success(request, _("The resource has been saved."))
        return redirect("portal:resource_list")
    return render(request, "demands/portal/resource_form.html", {"form": form, "resource": resource})


@login_required
@require_POST
def resource_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    resource = _my_resource(request, pk)
    call_with_message(
        request,
        services.resource_withdraw,
        resource=resource,
        actor=request.user,
        success=_("%(title)s has been withdrawn.") % {"title": resource.title},
    )
    return redirect("portal:resource_list")


@login_required
@require_POST
def resource_restore(request: HttpRequest, pk: int) -> HttpResponse:
    resource = _my_resource(request, pk)
    call_with_message(
        request,
        services.resource_restore,
        resource=resource,
        actor=request.user,
        success=_("%(title)s is available again.") % {"title": resource.title},
    )
    return redirect("portal:resource_list")


# --- Shared venues ---------------------------------------------------------------------------------


def _monday(request: HttpRequest):
    """The Monday of the week asked for (`?week=YYYY-MM-DD`, any day of it), this week by default."""
    from datetime import date, timedelta

    from django.utils import timezone

    try:
        day = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = timezone.localdate()
    return day - timedelta(days=day.weekday())


@login_required
def venue_list(request: HttpRequest) -> HttpResponse:
    venues = selectors.bookable_venues_visible_to(user=request.user)
    page = page_of(venues.order_by("resource__title", "resource_id"), request.GET, per_page=PAGE_SIZE)
    rows = list(page.object_list)
    for venue in rows:
        venue.may_change = permissions.can_change(request.user, venue)  # its "hours and closed days" link
    return render(request, "demands/portal/venue_list.html", {"page": page, "venues": rows})


@login_required
def venue_week(request: HttpRequest, pk: int) -> HttpResponse:
    from datetime import timedelta

    venue = permissions.get_visible_or_404(request.user, selectors.venues_visible_to(user=request.user), pk=pk)
    units = member_selectors.units_of_liaison(user=request.user).order_by("name")
    # A community is booked for by its own staff (street staff book in their own name or for a unit).
    communities = member_selectors.communities_public().filter(pk__in=permissions.communities_of(request.user))
    form = BookingForm(request.POST or None, units=units, communities=communities)
    if (
        request.method == "POST"
        and form.is_valid()
        and call_for_form(form, services.booking_request, venue=venue, actor=request.user, **form.booking_data())
    ):
        messages.success(request, _("Your request has been sent to the venue. You will be told when it is answered."))
        return redirect(f"{request.path}?week={form.cleaned_data['date'].isoformat()}")
    monday = _monday(request)
    week = selectors.venue_week(venue=venue, monday=monday)
    # Who booked is shown to those who decide; everybody else sees the time taken, not the name.
    decides = permissions.has_ability(request.user, "demands.decide_booking", Booking(venue=venue))
    context = {
        "venue": venue,
        "week": week,
        "monday": monday,
        "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7),
        "form": form,
        "decides": decides,
        "may_change": permissions.can_change(request.user, venue),
    }
    return render(request, "demands/portal/venue_week.html", context)


def _venue_to_change(request: HttpRequest, pk: int):
    """A venue the user may change (VenueRules, the resource's rule), or 404: one that is not theirs to
    change is not there for them, seen or not — as a resource's edit page (resource_edit)."""
    venue = permissions.get_visible_or_404(request.user, selectors.venues_visible_to(user=request.user), pk=pk)
    if not permissions.can_change(request.user, venue):
        raise Http404
    return venue


def _hours_page(request: HttpRequest, venue, *, hours_form=None, closure_form=None) -> HttpResponse:
    context = {
        "venue": venue,
        "hours_form": hours_form or VenueHoursForm.for_venue(venue),
        "closure_form": closure_form or VenueClosureForm(),
        "closures": selectors.venue_closures_ahead(venue=venue),
    }
    return render(request, "demands/portal/venue_hours.html", context)


@login_required
def venue_hours(request: HttpRequest, pk: int) -> HttpResponse:
    """The venue's owner sets its opening hours, days and public listing, and sees and edits its closed days."""
    venue = _venue_to_change(request, pk)
    if request.method != "POST":
        return _hours_page(request, venue)
    form = VenueHoursForm.for_venue(venue, request.POST)
    if form.is_valid() and call_for_form(
        form, services.venue_hours_update, venue=venue, actor=request.user, data=form.venue_data()
    ):
        messages.success(request, _("The opening hours have been saved."))
        return redirect("portal:venue_week", pk=venue.pk)
    return _hours_page(request, venue, hours_form=form)


@login_required
@require_POST
def venue_closure_add(request: HttpRequest, pk: int) -> HttpResponse:
    venue = _venue_to_change(request, pk)
    form = VenueClosureForm(request.POST)
    if form.is_valid() and call_for_form(
        form,
        services.venue_closure_add,
        venue=venue,
        actor=request.user,
        date=form.cleaned_data["date"],
        note=form.cleaned_data["note"],
    ):
        messages.success(request, _("%(date)s is now a closed day.") % {"date": form.cleaned_data["date"].isoformat()})
        return redirect("portal:venue_hours", pk=venue.pk)
    return _hours_page(request, venue, closure_form=form)


@login_required
@require_POST
def venue_closure_remove(request: HttpRequest, pk: int) -> HttpResponse:
    venue = _venue_to_change(request, pk)
    form = VenueReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the closed day to open again."))
    else:
        day = form.cleaned_data["date"]
        call_with_message(
            request,
            services.venue_closure_remove,
            venue=venue,
            actor=request.user,
            date=day,
            success=_("%(date)s is no longer a closed day.") % {"date": day.isoformat()},
        )
    return redirect("portal:venue_hours", pk=venue.pk)


@login_required
def booking_list(request: HttpRequest) -> HttpResponse:
    """My bookings, and the requests to my units' venues waiting for an answer."""
    visible = selectors.bookings_visible_to(user=request.user)
    mine = page_of(visible.filter(requester=request.user).order_by("-start", "-id"), request.GET, per_page=PAGE_SIZE)
    to_decide = [
        b
        for b in visible.filter(status=Booking.Status.PENDING)
        .exclude(requester=request.user)
        .order_by("start", "id")[:50]
        if permissions.has_ability(request.user, "demands.decide_booking", b)
    ]
    context = {"page": mine, "bookings": mine.object_list, "to_decide": to_decide, "decline_form": BookingDeclineForm()}
    return render(request, "demands/portal/booking_list.html", context)


def _visible_booking(request: HttpRequest, pk: int) -> Booking:
    return permissions.get_visible_or_404(request.user, selectors.bookings_visible_to(user=request.user), pk=pk)


@login_required
@require_POST
def booking_approve(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _visible_booking(request, pk)
    call_with_message(
        request, services.booking_approve, booking=booking, actor=request.user, success=_("The booking is approved.")
    )
    return redirect("portal:bookings")


@login_required
@require_POST
def booking_decline(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _visible_booking(request, pk)
    form = BookingDeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for declining."))
        return redirect("portal:bookings")
    call_with_message(
        request,
        services.booking_decline,
        booking=booking,
        actor=request.user,
        reason=form.cleaned_data["reason"],
        success=_("The booking is declined; the requester has been told."),
    )
    return redirect("portal:bookings")


@login_required
@require_POST
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _visible_booking(request, pk)
    call_with_message(
        request, services.booking_cancel, booking=booking, actor=request.user, success=_("The booking is cancelled.")
    )
    return redirect("portal:bookings")
