"""iCalendar feeds (RFC 5545) of joint meetings, rendered with the `icalendar` library.

A feed is read by calendar apps, which cannot sign in: its unguessable token is the only key, so what it
shows is decided by the feed alone — a unit's feed holds the meetings that unit is invited to, a person's
feed the meetings they are invited to personally or through their units — and nothing else: no other
invited unit, no organiser, no phone number. Times are written in UTC (`…Z`), which every client reads
without a VTIMEZONE; the client shows them in its own zone (Asia/Shanghai on the street's phones)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vDuration

from alliance import permissions
from demands import selectors as demand_selectors
from demands.models import Booking

from .models import CalendarFeed, Invitation, JointMeeting

CONTENT_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//Party-building alliance//Joint meetings//ZH"
# How far back a feed reaches: a year of past meetings is what a calendar app keeps showing; older ones
# would only make every refresh heavier.
FEED_HISTORY = timedelta(days=366)
# How often a client should fetch the feed again (Apple, Outlook and Google read one of these).
REFRESH = timedelta(hours=1)


def live_feed_or_404(token: str) -> CalendarFeed:
    """The feed of a token that has not been renewed away; 404 for any other token, and for the feed of
    an account that has been switched off."""
    feed = CalendarFeed.objects.select_related("unit", "user").filter(token=token, revoked_at__isnull=True).first()
    if feed is None or (feed.user is not None and not feed.user.is_active):
        raise Http404
    return feed


def own_feed_or_404(*, user, pk: int) -> CalendarFeed:
    """A live feed the user manages — their own, or one of their units' — or 404: another person's or
    another unit's feed is not even confirmed to exist."""
    feed = (
        CalendarFeed.objects.select_related("unit", "user")
        .filter(Q(user_id=user.pk) | Q(unit_id__in=permissions.units_of(user)), pk=pk, revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        raise Http404
    return feed


def feed_meetings(feed: CalendarFeed) -> QuerySet[JointMeeting]:
    """The meetings a feed shows: those its unit is invited to, or those its person is invited to
    personally or through the units they hold an account at — cancelled ones included, so that calendars
    remove them."""
    if feed.unit_id is not None:
        invited = Q(unit_id=feed.unit_id)
    else:
        invited = Q(unit_id__in=permissions.units_of(feed.user)) | Q(person_id=feed.user_id)
    return JointMeeting.objects.filter(
        pk__in=Invitation.objects.filter(invited).values("meeting_id"),
        start__gte=timezone.now() - FEED_HISTORY,
    ).order_by("start", "id")


def feed_bookings(feed: CalendarFeed) -> QuerySet[Booking]:
    """The venue bookings the same feed shows (shared venues, issue 15): the unit's or the person's."""
    since = timezone.now() - FEED_HISTORY
    if feed.unit_id is not None:
        return demand_selectors.bookings_for_feed(unit_id=feed.unit_id, since=since)
    return demand_selectors.bookings_for_feed(user=feed.user, since=since)


def feed_name(feed: CalendarFeed) -> str:
    if feed.unit is not None:
        return _("Joint meetings of %(unit)s") % {"unit": feed.unit.name}
    return _("My joint meetings")


def _description(meeting: JointMeeting) -> str:
    lines = []
    if meeting.status == JointMeeting.Status.CANCELLED:
        lines += [_("Cancelled: %(reason)s") % {"reason": meeting.cancel_reason or "—"}, ""]
    items = meeting.agenda_items
    if items:
        lines.append(_("Agenda:"))
        lines += [f"{number}. {item}" for number, item in enumerate(items, start=1)]
    return "\n".join(lines)


def render_feed(
    *,
    name: str,
    meetings: Iterable[JointMeeting],
    uid_host: str,
    link: Callable[[JointMeeting], str],
    bookings: Iterable[Booking] = (),
    booking_link: Callable[[Booking], str] | None = None,
) -> bytes:
    """The VCALENDAR of `meetings`: one VEVENT each, with a UID stable per meeting (so a client updates
    the event it has rather than adding a second one), SEQUENCE = the meeting's schedule version (raised
    each time it is moved), and STATUS:CANCELLED for a cancelled meeting."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", timezone.get_default_timezone_name())
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    for meeting in meetings:
        event = Event()
        event.add("uid", f"meeting-{meeting.pk}@{uid_host}")
        event.add("dtstamp", meeting.updated_at)
        event.add("created", meeting.created_at)
        event.add("last-modified", meeting.updated_at)
        event.add("dtstart", meeting.start)
        event.add("dtend", meeting.end)
        event.add("sequence", meeting.schedule_version)
        event.add("summary", meeting.title)
        event.add("location", meeting.place)
        description = _description(meeting)
        if description:
            event.add("description", description)
        event.add("status", "CANCELLED" if meeting.status == JointMeeting.Status.CANCELLED else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if meeting.status == JointMeeting.Status.CANCELLED else "OPAQUE")
        event.add("url", link(meeting))
        cal.add_component(event)
    for booking in bookings:
        cal.add_component(_booking_event(booking, uid_host, booking_link))
    return cal.to_ical()


def _booking_event(booking: Booking, uid_host: str, link: Callable[[Booking], str] | None) -> Event:
    """An approved venue booking; a cancelled one as STATUS:CANCELLED with a higher SEQUENCE, so that a
    client that had it removes it. No requester name: the purpose and the place say what it is."""
    cancelled = booking.status == Booking.Status.CANCELLED
    event = Event()
    event.add("uid", f"booking-{booking.pk}@{uid_host}")
    event.add("dtstamp", booking.decided_at or booking.created_at)
    event.add("created", booking.created_at)
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("sequence", 1 if cancelled else 0)
    event.add(
        "summary",
        _("Venue: %(venue)s · %(purpose)s") % {"venue": booking.venue.resource.title, "purpose": booking.purpose},
    )
    event.add("location", booking.venue.resource.unit.address or booking.venue.resource.title)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    if link is not None:
        event.add("url", link(booking))
    return event
