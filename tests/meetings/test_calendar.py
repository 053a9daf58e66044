"""iCalendar feeds of joint meetings: parsed with a real parser (`icalendar`), one event per meeting the
feed's owner is invited to, in the right time (09:00 Asia/Shanghai is 01:00 UTC), with a stable UID and
the schedule version as SEQUENCE; nothing about another unit; addresses that can be renewed, after which
the old one answers 404, and that nobody else can renew."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from meetings import services
from meetings.models import CalendarFeed, JointMeeting

from ..conftest import client_for
from .factories import InvitationFactory, MeetingFactory, local

M = JointMeeting.Status


def _feed_url(feed: CalendarFeed) -> str:
    return reverse("calendar_feed", args=[feed.token])


def _events(response) -> dict[str, object]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    events = calendar.walk("VEVENT")
    uids = [str(event["UID"]) for event in events]
    assert len(uids) == len(set(uids))
    return dict(zip(uids, events, strict=True))


def _uid(meeting: JointMeeting) -> str:
    return f"meeting-{meeting.pk}@testserver"


@pytest.fixture
def nine_am(unit_a):
    """A meeting at 09:00 Asia/Shanghai ten days ahead, unit_a invited."""
    day = timezone.localdate() + timedelta(days=10)
    meeting = MeetingFactory(
        title="三季度街道联席会议",
        start=local(day, time(9, 0)),
        end=local(day, time(10, 30)),
        agenda="通报三季度工作\n协商停车难问题",
    )
    InvitationFactory(meeting=meeting, unit=unit_a)
    return meeting


@pytest.fixture
def theirs(unit_b):
    meeting = MeetingFactory(title="柳北社区议事协商会", place="柳北社区党群服务站")
    InvitationFactory(meeting=meeting, unit=unit_b)
    return meeting


def test_user_feed_holds_the_meetings_of_my_units_and_my_personal_invitations(
    anonymous, liaison_a, unit_a, nine_am, theirs
):
    personal = MeetingFactory(title="理事会会议")
    InvitationFactory(meeting=personal, unit=None, person=liaison_a)
    feed = services.calendar_feed_for(user=liaison_a, actor=liaison_a)

    events = _events(client_for(anonymous).get(_feed_url(feed)))  # calendar apps do not sign in
    assert client_for(anonymous).head(_feed_url(feed)).status_code == 200  # some apps look before they fetch
    assert set(events) == {_uid(nine_am), _uid(personal)}
    event = events[_uid(nine_am)]
    assert event.decoded("DTSTART") == datetime.combine(nine_am.start.date(), time(1, 0), tzinfo=UTC)
    assert event.decoded("DTSTART").astimezone(timezone.get_default_timezone()).time() == time(9, 0)
    assert event.decoded("DTEND") == event.decoded("DTSTART") + timedelta(minutes=90)
    assert str(event["SUMMARY"]) == nine_am.title
    assert str(event["LOCATION"]) == nine_am.place
    assert "通报三季度工作" in str(event["DESCRIPTION"]) and "协商停车难问题" in str(event["DESCRIPTION"])
    assert int(event["SEQUENCE"]) == 1
    assert str(event["STATUS"]) == "CONFIRMED"


def test_a_moved_meeting_keeps_its_uid_and_raises_its_sequence(street_staff, liaison_a, nine_am):
    feed = services.calendar_feed_for(user=liaison_a, actor=liaison_a)
    new_start = nine_am.start + timedelta(days=1, hours=5)  # 14:00 the next day
    services.meeting_reschedule(
        meeting=nine_am, actor=street_staff, start=new_start, end=new_start + timedelta(hours=2), place="新会议室"
    )
    event = _events(client_for(None).get(_feed_url(feed)))[_uid(nine_am)]
    assert int(event["SEQUENCE"]) == 2
    assert event.decoded("DTSTART") == new_start.astimezone(UTC)
    assert event.decoded("DTSTART").astimezone(timezone.get_default_timezone()).time() == time(14, 0)
    assert str(event["LOCATION"]) == "新会议室"


def test_a_cancelled_meeting_stays_in_the_feed_as_cancelled(street_staff, liaison_a, nine_am):
    feed = services.calendar_feed_for(user=liaison_a, actor=liaison_a)
    services.meeting_cancel(meeting=nine_am, actor=street_staff, reason="台风预警")
    event = _events(client_for(None).get(_feed_url(feed)))[_uid(nine_am)]
    assert str(event["STATUS"]) == "CANCELLED"
    assert "台风预警" in str(event["DESCRIPTION"])


def test_unit_feed_holds_that_units_meetings_and_nothing_of_another_unit(liaison_a, unit_a, unit_b, nine_am, theirs):
    shared = MeetingFactory(title="街道大党委联席会议")
    InvitationFactory(meeting=shared, unit=unit_a)
    InvitationFactory(meeting=shared, unit=unit_b)
    feed = services.calendar_feed_for(unit=unit_a, actor=liaison_a)

    response = client_for(None).get(_feed_url(feed))
    assert set(_events(response)) == {_uid(nine_am), _uid(shared)}
    body = response.content.decode()
    assert unit_a.name in body  # the calendar's name
    assert unit_b.name not in body and theirs.title not in body and theirs.place not in body
    # no personal data: no liaison's phone, no organiser
    assert unit_a.liaison_phone not in body and unit_b.liaison_phone not in body
    assert nine_am.organiser.email not in body and "ORGANIZER" not in body


def test_a_user_feed_shows_nothing_of_a_unit_the_user_left_or_never_had(liaison_b, unit_b, nine_am, theirs):
    feed = services.calendar_feed_for(user=liaison_b, actor=liaison_b)
    response = client_for(None).get(_feed_url(feed))
    assert set(_events(response)) == {_uid(theirs)}
    assert nine_am.title not in response.content.decode()


def test_meetings_older_than_a_year_drop_out_of_the_feed(liaison_a, unit_a, nine_am):
    old = MeetingFactory(start=timezone.now() - timedelta(days=400), status=M.HELD)
    InvitationFactory(meeting=old, unit=unit_a)
    recent = MeetingFactory(start=timezone.now() - timedelta(days=40), status=M.HELD)
    InvitationFactory(meeting=recent, unit=unit_a)
    feed = services.calendar_feed_for(unit=unit_a, actor=liaison_a)
    assert set(_events(client_for(None).get(_feed_url(feed)))) == {_uid(nine_am), _uid(recent)}


def test_unknown_tokens_answer_404(db):
    client = client_for(None)
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    assert client.get("/calendar/..%2F..%2Fetc.ics").status_code == 404


def test_renewing_revokes_the_old_address_at_once_and_the_new_one_works(liaison_a, unit_a, nine_am):
    feed = services.calendar_feed_for(unit=unit_a, actor=liaison_a)
    client = client_for(liaison_a)
    old_url = _feed_url(feed)
    assert client_for(None).get(old_url).status_code == 200

    response = client.post(reverse("portal:calendar_renew", args=[feed.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("portal:calendar")
    assert client_for(None).get(old_url).status_code == 404
    renewed = CalendarFeed.objects.get(unit=unit_a, revoked_at__isnull=True)
    assert renewed.token != feed.token
    assert set(_events(client_for(None).get(_feed_url(renewed)))) == {_uid(nine_am)}
    # renewing the revoked one again: gone
    assert client.post(reverse("portal:calendar_renew", args=[feed.pk])).status_code == 404


def test_nobody_renews_another_users_or_another_units_feed(liaison_a, liaison_b, unit_a):
    own = services.calendar_feed_for(user=liaison_a, actor=liaison_a)
    units = services.calendar_feed_for(unit=unit_a, actor=liaison_a)
    client = client_for(liaison_b)
    for feed in (own, units):
        assert client.post(reverse("portal:calendar_renew", args=[feed.pk])).status_code == 404
    assert CalendarFeed.objects.filter(revoked_at__isnull=False).count() == 0
    assert CalendarFeed.objects.count() == 2
    for feed in (own, units):
        assert client_for(None).get(_feed_url(feed)).status_code == 200


def test_calendar_page_shows_my_feed_and_each_of_my_units_feeds_as_absolute_addresses(liaison_a, unit_a, unit_b):
    client = client_for(liaison_a)
    response = client.get(reverse("portal:calendar"))
    assert response.status_code == 200
    own = CalendarFeed.objects.get(user=liaison_a, revoked_at__isnull=True)
    units = CalendarFeed.objects.get(unit=unit_a, revoked_at__isnull=True)
    assert not CalendarFeed.objects.filter(unit=unit_b).exists()
    body = response.content.decode()
    for feed in (own, units):
        assert f"http://testserver{_feed_url(feed)}" in body
        assert f'action="{reverse("portal:calendar_renew", args=[feed.pk])}"' in body
    # A second visit shows the same addresses: nothing is made twice.
    client.get(reverse("portal:calendar"))
    assert CalendarFeed.objects.count() == 2


def test_calendar_page_needs_a_signed_in_user(db):
    response = client_for(None).get(reverse("portal:calendar"))
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]


def test_a_switched_off_accounts_feed_answers_404(liaison_a, nine_am):
    feed = services.calendar_feed_for(user=liaison_a, actor=liaison_a)
    liaison_a.is_active = False
    liaison_a.save(update_fields=["is_active"])
    assert client_for(None).get(_feed_url(feed)).status_code == 404


def test_me_endpoint_gives_the_address_that_the_feed_answers_at(liaison_a, nine_am):
    client = client_for(liaison_a)
    client.get(reverse("portal:calendar"))
    url = client.get("/api/v1/me/").json()["calendar_url"]
    assert set(_events(client_for(None).get(url))) == {_uid(nine_am)}


def test_feed_query_count_does_not_grow_with_meetings(liaison_a, unit_a):
    feed = services.calendar_feed_for(user=liaison_a, actor=liaison_a)
    client = client_for(None)
    InvitationFactory(meeting=MeetingFactory(), unit=unit_a)
    with CaptureQueriesContext(connection) as few:
        client.get(_feed_url(feed))
    for _ in range(10):
        InvitationFactory(meeting=MeetingFactory(), unit=unit_a)
    with CaptureQueriesContext(connection) as many:
        assert len(_events(client.get(_feed_url(feed)))) == 11
    # the feed joined with its unit and user, the user's units (guardian), the meetings, the venue bookings
    # (shared venues) — however many.
    assert len(many) == len(few)


def test_me_gives_a_live_calendar_address_to_someone_who_never_opened_the_calendar_page(member, nine_am):
    client = client_for(member)
    first = client.get("/api/v1/me/").json()["calendar_url"]
    # SITE_URL unset: the address the request came in on
    assert first.startswith("http://testserver/calendar/") and first.endswith(".ics")
    assert client.get("/api/v1/me/").json()["calendar_url"] == first  # one live address, not a new one each time
    assert client_for(None).get(first.removeprefix("http://testserver")).status_code == 200
    assert CalendarFeed.objects.filter(user=member, revoked_at__isnull=True).count() == 1
