"""Portal pages of the meetings app: my units' invitations and their answers (confirm / decline), a
meeting with its agenda and the open resolutions carried over from earlier meetings (督办), the minutes
(on the page, printable, and as a workbook) for staff and the units that attended, my units' resolutions
with their progress notes, and the calendar feeds (iCalendar) with the page that manages their addresses.

Thin: reads through `selectors`, writes through `services`; a refusal of the domain (the meeting has
begun, the invitation is another unit's) becomes a message, and what the user may not see is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from alliance import permissions
from alliance.forms import call_with_message
from alliance.pagination import page_of
from members import selectors as member_selectors

from . import calendar, exports, selectors, services
from .forms import AnswerForm, ProgressForm
from .models import Invitation, JointMeeting, Resolution, ResolutionProgress

I = Invitation.Status  # noqa: E741
M = JointMeeting.Status
PAGE_SIZE = 20


def _my_units(request: HttpRequest):
    return member_selectors.units_of_liaison(user=request.user).order_by("name", "id")


def _can_answer(invitation: Invitation, my_unit_ids: frozenset[int], now, user) -> bool:
    """Whether to offer the buttons (the service decides): a unit's invitation of one of my units that its
    declared moves let me answer, to a planned meeting that has not begun. Invitations of persons are not
    answered in the portal."""
    meeting = invitation.meeting
    return (
        invitation.unit_id in my_unit_ids
        and "confirm" in permissions.actions_allowed(user, invitation)
        and meeting.status == M.PLANNED
        and meeting.start > now
    )


def _mine(request: HttpRequest, invitations: list[Invitation]) -> list[Invitation]:
    unit_ids = permissions.units_of(request.user)
    return [inv for inv in invitations if inv.unit_id in unit_ids or inv.person_id == request.user.pk]


def _next_or(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- Invitations ------------------------------------------------------------------------------------


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    invitations = selectors.invitations_of_my_units(user=request.user)
    # Upcoming meetings first, the nearest at the top; then the past ones, the latest first, page by page.
    upcoming = list(invitations.filter(meeting__start__gte=now).order_by("meeting__start", "id"))
    page = page_of(invitations.filter(meeting__start__lt=now), request.GET, per_page=PAGE_SIZE)
    unit_ids = permissions.units_of(request.user)
    for invitation in upcoming:
        invitation.can_answer = _can_answer(invitation, unit_ids, now, request.user)
    context = {
        "upcoming": upcoming,
        "page": page,
        "past": page.object_list,
        "has_units": bool(unit_ids),
    }
    return render(request, "meetings/portal/meeting_list.html", context)


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_detail(user=request.user, pk=pk)
    invitations = list(meeting.invitations.all())
    mine = _mine(request, invitations)
    now = timezone.now()
    unit_ids = permissions.units_of(request.user)
    for invitation in mine:
        invitation.can_answer = _can_answer(invitation, unit_ids, now, request.user)
    may_read_minutes = permissions.has_ability(request.user, "meetings.read_minutes", meeting)
    context = {
        "meeting": meeting,
        "my_invitations": mine,
        "carried": list(selectors.carried_resolutions(meeting=meeting)),
        "attachments": list(meeting.attachments.all()),
        "may_read_minutes": may_read_minutes,
        "invitations": invitations if may_read_minutes else [],
        "resolutions": list(_resolutions_of(request, meeting)) if may_read_minutes else [],
    }
    return render(request, "meetings/portal/meeting_detail.html", context)


@login_required
@require_POST
def meeting_answer(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = selectors.meeting_detail(user=request.user, pk=pk)
    form = AnswerForm(request.POST, units=_my_units(request))
    if not form.is_valid():
        messages.error(request, form.error_text())
    else:
        unit = form.cleaned_data["unit"]
        status = form.cleaned_data["status"]
        names = {"unit": unit.name, "title": meeting.title}
        if status == I.CONFIRMED:
            success = _("You have confirmed that %(unit)s will attend %(title)s.") % names
        else:
            success = _("You have declined the invitation of %(unit)s to %(title)s.") % names
        call_with_message(
            request,
            services.attendance_set,
            meeting=meeting,
            unit=unit,
            status=status,
            actor=request.user,
            success=success,
        )
    return redirect(_next_or(request, reverse("portal:meeting_detail", args=[meeting.pk])))


# --- Minutes --------------------------------------------------------------------------------------


def _resolutions_of(request: HttpRequest, meeting: JointMeeting):
    return selectors.resolutions_visible_to(user=request.user).filter(meeting=meeting).order_by("due_date", "id")


def _minutes_or_404(request: HttpRequest, pk: int) -> tuple[JointMeeting, list[Invitation], list[Resolution]]:
    """The meeting, its invitations and resolutions — or 404 for anyone who may not read its minutes,
    so that a unit that did not attend cannot tell minutes exist."""
    meeting = selectors.meeting_detail(user=request.user, pk=pk)
    invitations = list(meeting.invitations.all())
    if not permissions.has_ability(request.user, "meetings.read_minutes", meeting):
        raise Http404
    return meeting, invitations, list(_resolutions_of(request, meeting))


@login_required
def minutes_print(request: HttpRequest, pk: int) -> HttpResponse:
    meeting, invitations, resolutions = _minutes_or_404(request, pk)
    context = {
        "meeting": meeting,
        "organiser": exports.organiser_name(meeting),
        # One paragraph a line, each indented by two characters as Chinese documents are.
        "paragraphs": [line.strip() for line in meeting.minutes.splitlines() if line.strip()],
        "invitations": invitations,
        "resolutions": resolutions,
        "printed_at": timezone.now(),
    }
    return render(request, "meetings/minutes_print.html", context)


@login_required
def minutes_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    meeting, invitations, resolutions = _minutes_or_404(request, pk)
    return exports.minutes_xlsx_response(meeting=meeting, invitations=invitations, resolutions=resolutions)


# --- Resolutions ------------------------------------------------------------------------------------


@login_required
def resolution_list(request: HttpRequest) -> HttpResponse:
    open_first = Case(When(status=Resolution.Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    resolutions = (
        selectors.resolutions_of_my_units(user=request.user)
        .order_by(open_first, "due_date", "id")
        .prefetch_related(Prefetch("progress", queryset=ResolutionProgress.objects.select_related("author")))
    )
    page = page_of(resolutions, request.GET, per_page=PAGE_SIZE)
    rows = list(page.object_list)
    for resolution in rows:
        # One form per resolution on the page, each with its own element ids.
        resolution.progress_form = ProgressForm(auto_id=f"id_%s_{resolution.pk}")
    context = {"page": page, "resolutions": rows, "has_units": bool(permissions.units_of(request.user))}
    return render(request, "meetings/portal/resolution_list.html", context)


@login_required
@require_POST
def resolution_progress(request: HttpRequest, pk: int) -> HttpResponse:
    resolution = permissions.get_visible_or_404(
        request.user, selectors.resolutions_visible_to(user=request.user), pk=pk
    )
    form = ProgressForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.error_text())
    else:
        call_with_message(
            request,
            services.resolution_progress,
            resolution=resolution,
            actor=request.user,
            text=form.cleaned_data["text"],
            success=_("Your progress note has been added."),
        )
    return redirect(f"{reverse('portal:resolution_list')}#resolution-{resolution.pk}")


# --- Calendar feeds ---------------------------------------------------------------------------------


def _feed_links(request: HttpRequest, feed) -> dict:
    url = request.build_absolute_uri(reverse("calendar_feed", args=[feed.token]))
    # webcal:// makes phones and desktop calendars offer to subscribe at a tap.
    return {"feed": feed, "url": url, "webcal": "webcal://" + url.split("://", 1)[1]}


@login_required
def calendar_feeds(request: HttpRequest) -> HttpResponse:
    # Made on the first visit: the address exists once its owner has seen it.
    own = services.calendar_feed_for(user=request.user, actor=request.user)
    units = [
        {"unit": unit, **_feed_links(request, services.calendar_feed_for(unit=unit, actor=request.user))}
        for unit in _my_units(request)
    ]
    context = {"own": _feed_links(request, own), "units": units}
    return render(request, "meetings/portal/calendar.html", context)


@login_required
@require_POST
def calendar_renew(request: HttpRequest, pk: int) -> HttpResponse:
    feed = calendar.own_feed_or_404(user=request.user, pk=pk)
    call_with_message(
        request,
        services.calendar_feed_renew,
        feed=feed,
        actor=request.user,
        success=_("The calendar has a new address; the old one no longer works. Subscribe again with the new one."),
    )
    return redirect("portal:calendar")


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself, for calendar apps: no sign-in, the token is the key."""
    feed = calendar.live_feed_or_404(token)
    host, _port = split_domain_port(request.get_host())
    body = calendar.render_feed(
        name=calendar.feed_name(feed),
        meetings=calendar.feed_meetings(feed),
        uid_host=host or "alliance",
        link=lambda meeting: request.build_absolute_uri(reverse("portal:meeting_detail", args=[meeting.pk])),
        bookings=calendar.feed_bookings(feed),
        booking_link=lambda booking: request.build_absolute_uri(
            reverse("portal:venue_week", args=[booking.venue_id]) + f"?week={booking.start.date().isoformat()}"
        ),
    )
    response = HttpResponse(body, content_type=calendar.CONTENT_TYPE)
    response["Content-Disposition"] = 'inline; filename="meetings.ics"'
    # The address is a secret and may be renewed at any moment: no shared cache keeps a copy.
    patch_cache_control(response, private=True, no_cache=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
