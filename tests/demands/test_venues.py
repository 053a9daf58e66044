"""Shared venues (免费开放场所): asking for a slot, the owner's answer, cancelling, and the rule that no two
approved bookings of one venue overlap."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from alliance.errors import Conflict, InvalidInput, PermissionDenied, TransitionNotAllowed
from alliance.models import Notification
from alliance.periods import ZONE
from demands import services
from demands.models import Booking, Resource, VenueClosure
from tests.volunteers.factories import PartyMemberFactory

from ..api import api_client as _api
from ..factories import UserFactory
from .factories import VenueFactory

pytestmark = pytest.mark.django_db


def _day(offset: int = 7) -> date:
    return timezone.localdate() + timedelta(days=offset)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


@pytest.fixture
def venue(unit_a):
    return VenueFactory(resource__unit=unit_a)


def _request(venue, actor, start_hour=9, end_hour=11, day=None, **extra):
    day = day or _day()
    data = {"purpose": "党课", "people": 30, **extra}
    return services.booking_request(
        venue=venue, actor=actor, start=_at(day, start_hour), end=_at(day, end_hour), **data
    )


def test_a_liaison_asks_for_a_slot_for_their_unit_and_the_owner_is_told(venue, liaison_a, liaison_b, unit_b):
    booking = _request(venue, liaison_b, unit=unit_b)
    assert (booking.status, booking.unit, booking.requester) == (Booking.Status.PENDING, unit_b, liaison_b)
    told = Notification.objects.get(kind="booking:pending")
    assert told.recipient == liaison_a
    assert told.subject == "场地预约申请：党群服务中心多功能厅"


def test_a_registered_party_member_books_in_their_own_name_a_plain_account_cannot(venue, member):
    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        _request(venue, stranger)
    PartyMemberFactory(user=member)
    assert _request(venue, member).status == Booking.Status.PENDING


def test_nobody_books_for_a_unit_or_community_they_do_not_act_for(venue, liaison_a, unit_b, community_y):
    with pytest.raises(PermissionDenied):
        _request(venue, liaison_a, unit=unit_b)
    with pytest.raises(PermissionDenied):
        _request(venue, liaison_a, community=community_y)
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start_hour": 7, "end_hour": 9}, "场地开放时间为 08:30 至 17:30。"),
        ({"start_hour": 16, "end_hour": 18}, "场地开放时间为 08:30 至 17:30。"),
        ({"start_hour": 11, "end_hour": 10}, "结束时间须晚于开始时间。"),
        ({"day_offset": -1}, "预约须从将来的时间开始。"),
        ({"day_offset": 61}, "场地最多可提前 60 天预约。"),
        ({"people": 41}, "该场地最多容纳 40 人。"),
    ],
)
def test_a_request_outside_the_venues_rules_is_refused_and_nothing_is_stored(venue, liaison_b, unit_b, change, message):
    change = dict(change)
    day = _day(change.pop("day_offset", 7))
    with pytest.raises(InvalidInput) as refused:
        _request(venue, liaison_b, unit=unit_b, day=day, **change)
    assert refused.value.message == message
    assert not Booking.objects.exists()


def test_a_closed_day_and_a_day_the_venue_does_not_open_are_refused(venue, liaison_b, unit_b):
    closed = _day(7)
    VenueClosure.objects.create(venue=venue, date=closed, note="设备检修")
    with pytest.raises(InvalidInput) as refused:
        _request(venue, liaison_b, unit=unit_b, day=closed)
    assert refused.value.message == f"场地 {closed.isoformat()} 不开放。"
    venue.weekdays = "12345"
    venue.save()
    saturday = _day(7) + timedelta(days=(5 - _day(7).weekday()) % 7)
    with pytest.raises(InvalidInput):
        _request(venue, liaison_b, unit=unit_b, day=saturday)


def test_times_keep_to_the_half_hour(venue, liaison_b, unit_b):
    day = _day()
    with pytest.raises(InvalidInput) as refused:
        services.booking_request(
            venue=venue, actor=liaison_b, unit=unit_b, start=_at(day, 9, 10), end=_at(day, 10), purpose="x", people=3
        )
    assert refused.value.message == "预约须从整点或半点开始和结束。"


def test_a_withdrawn_venue_cannot_be_booked(venue, liaison_b, unit_b):
    Resource.objects.filter(pk=venue.pk).update(status=Resource.Status.WITHDRAWN)
    venue.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        _request(venue, liaison_b, unit=unit_b)


def test_the_owner_approves_and_an_overlapping_approval_is_refused(venue, liaison_a, liaison_b, unit_b, unit_a):
    first = _request(venue, liaison_b, unit=unit_b, start_hour=9, end_hour=11)
    second = _request(venue, liaison_a, unit=unit_a, start_hour=10, end_hour=12)
    services.booking_approve(booking=first, actor=liaison_a)
    with pytest.raises(Conflict) as refused:
        services.booking_approve(booking=second, actor=liaison_a)
    assert refused.value.message == "该时段已被预约，请另选时间。"
    assert Booking.objects.get(pk=second.pk).status == Booking.Status.PENDING
    assert Notification.objects.get(kind="booking:approved").recipient == liaison_b


def test_a_request_for_a_time_already_approved_is_told_at_once(venue, liaison_a, liaison_b, unit_b, unit_a):
    services.booking_approve(booking=_request(venue, liaison_b, unit=unit_b), actor=liaison_a)
    with pytest.raises(Conflict):
        _request(venue, liaison_a, unit=unit_a, start_hour=10, end_hour=11)
    # Back to back is not an overlap: one ends when the next begins.
    assert _request(venue, liaison_a, unit=unit_a, start_hour=11, end_hour=12).status == Booking.Status.PENDING


def test_cancelling_frees_the_slot(venue, liaison_a, liaison_b, unit_b, unit_a):
    taken = _request(venue, liaison_b, unit=unit_b)
    services.booking_approve(booking=taken, actor=liaison_a)
    services.booking_cancel(booking=taken, actor=liaison_b)
    again = _request(venue, liaison_a, unit=unit_a)
    assert services.booking_approve(booking=again, actor=liaison_a).status == Booking.Status.APPROVED


def test_only_the_owner_or_the_streets_staff_decide_and_a_decline_needs_a_reason(
    venue, liaison_a, liaison_b, unit_b, street_staff
):
    booking = _request(venue, liaison_b, unit=unit_b)
    with pytest.raises(PermissionDenied):
        services.booking_approve(booking=booking, actor=liaison_b)
    with pytest.raises(InvalidInput):
        services.booking_decline(booking=booking, actor=liaison_a, reason="  ")
    declined = services.booking_decline(booking=booking, actor=street_staff, reason="当天有上级检查")
    assert (declined.status, declined.decline_reason, declined.decided_by) == (
        Booking.Status.DECLINED,
        "当天有上级检查",
        street_staff,
    )
    with pytest.raises(TransitionNotAllowed):
        services.booking_approve(booking=declined, actor=liaison_a)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the exclusion constraint is PostgreSQL's")
def test_the_database_refuses_overlapping_approved_bookings_whatever_writes_them(venue, liaison_a):
    start = _at(_day(), 9)
    row = {"venue": venue, "requester": liaison_a, "purpose": "x", "people": 1, "status": Booking.Status.APPROVED}
    Booking.objects.create(start=start, end=start + timedelta(hours=2), **row)
    Booking.objects.create(start=start + timedelta(hours=2), end=start + timedelta(hours=3), **row)  # adjacent
    Booking.objects.create(start=start, end=start + timedelta(hours=1), **{**row, "status": Booking.Status.PENDING})
    with pytest.raises(IntegrityError, match="booking_no_overlap"), transaction.atomic():
        Booking.objects.create(start=start + timedelta(hours=1), end=start + timedelta(hours=2), **row)


# --- API ---------------------------------------------------------------------------------------------


def test_api_request_answers_201_pending_and_approve_answers_409_on_overlap(venue, liaison_a, liaison_b, unit_b):
    day = _day()
    body = {"start": _at(day, 9).isoformat(), "end": _at(day, 11).isoformat(), "purpose": "党课", "people": 20}
    first = _api(liaison_b).post(f"/api/v1/venues/{venue.pk}/bookings/", {**body, "unit": unit_b.pk}, format="json")
    assert first.status_code == 201
    assert (first.json()["status"], first.json()["id"]) == ("pending", Booking.objects.get().pk)
    second = _api(liaison_b).post(f"/api/v1/venues/{venue.pk}/bookings/", {**body, "unit": unit_b.pk}, format="json")
    owner = _api(liaison_a)
    assert owner.post(f"/api/v1/bookings/{first.json()['id']}/approve/").json()["status"] == "approved"
    conflict = owner.post(f"/api/v1/bookings/{second.json()['id']}/approve/")
    assert (conflict.status_code, conflict.json()) == (409, {"detail": "该时段已被预约，请另选时间。"})
    refused = _api(liaison_b).post(f"/api/v1/bookings/{second.json()['id']}/approve/")
    assert refused.status_code == 403
    cancelled = _api(liaison_b).post(f"/api/v1/bookings/{first.json()['id']}/cancel/")
    assert cancelled.json()["status"] == "cancelled"


def test_api_bad_input_is_400_and_nothing_is_stored(venue, liaison_b, unit_b):
    day = _day()
    bad = _api(liaison_b).post(
        f"/api/v1/venues/{venue.pk}/bookings/",
        {"start": _at(day, 7).isoformat(), "end": _at(day, 8).isoformat(), "purpose": "党课", "people": 5},
        format="json",
    )
    assert (bad.status_code, bad.json()) == (400, {"detail": "场地开放时间为 08:30 至 17:30。"})
    missing = _api(liaison_b).post(f"/api/v1/venues/{venue.pk}/bookings/", {"purpose": ""}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()) == {"start", "end", "purpose", "people"}
    assert not Booking.objects.exists()


def test_a_booking_is_not_visible_to_an_unrelated_account(venue, liaison_b, unit_b):
    booking = _request(venue, liaison_b, unit=unit_b)
    stranger = _api(UserFactory())
    assert stranger.get(f"/api/v1/bookings/{booking.pk}/").status_code == 404
    assert stranger.post(f"/api/v1/bookings/{booking.pk}/cancel/").status_code == 404
    assert stranger.get("/api/v1/bookings/").json()["results"] == []


def test_api_venues_list_shows_hours_and_capacity(venue, liaison_b):
    rows = _api(liaison_b).get("/api/v1/venues/").json()["results"]
    assert rows == [
        {
            "id": venue.pk,
            "title": "党群服务中心多功能厅",
            "unit": venue.resource.unit_id,
            "unit_name": "山西饭店",
            "community": venue.resource.unit.community_id,
            "category": venue.resource.category_id,
            "capacity": 40,
            "is_free": True,
            "opens_at": "08:30:00",
            "closes_at": "17:30:00",
            "weekdays": "1234567",
            "is_public": True,
        }
    ]


def test_api_bookings_list_queries_do_not_grow_with_rows(
    venue, liaison_a, liaison_b, unit_b, django_assert_num_queries
):
    client = _api(liaison_a)
    client.get("/api/v1/bookings/")  # warm: the user's groups and scopes are then cached
    for hour in (9, 10, 11):
        _request(venue, liaison_b, unit=unit_b, start_hour=hour, end_hour=hour + 1)
    # 1 the count (exact below 1,000 rows), 2 the page of bookings with venue, unit and community joined;
    # the liaison's units were read by the warm-up request on this user object.
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/bookings/").json()["results"]) == 3
    for hour in (12, 13, 14):
        _request(venue, liaison_b, unit=unit_b, start_hour=hour, end_hour=hour + 1)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/bookings/").json()["results"]) == 6


# --- Portal -----------------------------------------------------------------------------------------


def test_the_week_view_shows_taken_times_without_names_and_takes_a_request(client, venue, liaison_b, unit_b, member):
    booking = _request(venue, liaison_b, unit=unit_b, purpose="支部主题党日")
    PartyMemberFactory(user=member)
    client.force_login(member)
    page = client.get(reverse("portal:venue_week", args=[venue.pk]), {"week": _day().isoformat()})
    html = page.content.decode()
    assert page.status_code == 200
    assert "09:00–11:00 待审批" in html
    assert "支部主题党日" not in html and "liaison_b" not in html
    answer = client.post(
        reverse("portal:venue_week", args=[venue.pk]),
        {"date": _day().isoformat(), "start": "13:00", "end": "14:30", "purpose": "读书会", "people": 8},
    )
    assert answer.status_code == 302
    mine = Booking.objects.exclude(pk=booking.pk).get()
    assert (mine.requester, mine.people, timezone.localtime(mine.start, ZONE).time()) == (member, 8, time(13))


def test_the_owner_answers_requests_from_the_bookings_page(client, venue, liaison_a, liaison_b, unit_b):
    booking = _request(venue, liaison_b, unit=unit_b)
    client.force_login(liaison_a)
    page = client.get(reverse("portal:bookings"))
    assert "待答复的申请" in page.content.decode()
    client.post(reverse("portal:booking_approve", args=[booking.pk]))
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.APPROVED


# --- Calendar feeds ---------------------------------------------------------------------------------


def test_approved_bookings_are_in_the_requesters_and_the_owners_calendar_feeds(venue, liaison_a, liaison_b, unit_b):
    from icalendar import Calendar

    from meetings import services as meeting_services

    approved = _request(venue, liaison_b, unit=unit_b, start_hour=9, end_hour=11, purpose="支部主题党日")
    services.booking_approve(booking=approved, actor=liaison_a)
    _request(venue, liaison_b, unit=unit_b, start_hour=14, end_hour=15)  # pending: in nobody's calendar
    withdrawn = _request(venue, liaison_b, unit=unit_b, start_hour=15, end_hour=16)
    services.booking_approve(booking=withdrawn, actor=liaison_a)
    services.booking_cancel(booking=withdrawn, actor=liaison_b)

    def events(user, unit=None):
        if unit is None:
            feed = meeting_services.calendar_feed_for(user=user, actor=user)
        else:
            feed = meeting_services.calendar_feed_for(unit=unit, actor=user)
        response = APIClient().get(reverse("calendar_feed", args=[feed.token]))
        return {str(e["UID"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}

    for feed_events in (events(liaison_b), events(liaison_a, unit=venue.resource.unit)):
        assert set(feed_events) == {f"booking-{approved.pk}@testserver", f"booking-{withdrawn.pk}@testserver"}
        event = feed_events[f"booking-{approved.pk}@testserver"]
        assert str(event["SUMMARY"]) == "场地：党群服务中心多功能厅 · 支部主题党日"
        assert (str(event["STATUS"]), event["DTSTART"].dt) == ("CONFIRMED", approved.start)
        assert str(feed_events[f"booking-{withdrawn.pk}@testserver"]["STATUS"]) == "CANCELLED"
    assert events(UserFactory()) == {}


# --- The public side ---------------------------------------------------------------------------------


def test_residents_see_public_venues_with_free_hours_and_never_who_booked(
    venue, liaison_a, liaison_b, unit_b, django_assert_num_queries
):
    from django.core.cache import cache
    from django.test import Client

    from .factories import VenueFactory

    tomorrow = _day(1)
    taken = _request(venue, liaison_b, unit=unit_b, start_hour=9, end_hour=11, day=tomorrow, purpose="太原五中家长会")
    services.booking_approve(booking=taken, actor=liaison_a)
    VenueFactory(resource__title="内部会议室", is_public=False)
    VenueFactory(resource__title="第二活动室")
    from alliance import public_figures

    public_figures.refresh()  # the street list the public pages read (the beat keeps it)
    cache.clear()
    public_figures.forget()
    # 1 the snapshot's street list (the page is per street: here the only one), 2 the page of public venues
    # with their unit, 3 their closed days, 4 their approved bookings.
    with django_assert_num_queries(4):
        page = Client().get("/venues/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "党群服务中心多功能厅" in html and "第二活动室" in html and "内部会议室" not in html
    day_line = html.split(tomorrow.strftime("%m-%d"))[1].split("</dd>")[0]
    # Hours from the opening time: 08:30, 09:30 and 10:30 meet the 09:00–11:00 booking; 11:30 is free.
    assert day_line.split("<dd>")[1].startswith("11:30 · 12:30 · 13:30")
    assert "08:30" not in day_line and "09:30" not in day_line and "10:30" not in day_line
    for private in ("太原五中家长会", "太原市第五中学", "liaison_b", venue.resource.unit.liaison_phone):
        assert private not in html


# --- Who asks and who is told ---------------------------------------------------------------------------


def test_a_communitys_staff_book_for_their_community_over_the_api(venue, liaison_a, community_x_staff):
    day = _day()
    body = {"start": _at(day, 14).isoformat(), "end": _at(day, 16).isoformat(), "purpose": "居民议事会", "people": 25}
    community = venue.resource.unit.community
    answer = _api(community_x_staff).post(
        f"/api/v1/venues/{venue.pk}/bookings/", {**body, "community": community.pk}, format="json"
    )
    assert (answer.status_code, answer.json()["status"]) == (201, "pending")
    booking = Booking.objects.get(pk=answer.json()["id"])
    assert (booking.community, booking.unit, booking.requester) == (community, None, community_x_staff)
    assert _api(liaison_a).post(f"/api/v1/bookings/{booking.pk}/approve/").json()["status"] == "approved"
    assert Notification.objects.get(kind="booking:approved").recipient == community_x_staff


def test_a_venue_without_a_liaison_is_told_to_its_own_streets_staff_only(
    community_x, liaison_b, unit_b, street_staff, root
):
    from members import services as member_services

    from ..factories import MemberUnitFactory, StreetFactory

    centre = VenueFactory(resource__unit=MemberUnitFactory(name="柳巷街道党群服务中心", community=community_x))
    elsewhere = UserFactory(username="other_street_staff", is_staff=True)
    member_services.street_staff_add(user=elsewhere, street=StreetFactory(name="桃园街道"), actor=root)
    booking = _request(centre, liaison_b, unit=unit_b)
    told = Notification.objects.filter(kind="booking:pending")
    assert {n.recipient for n in told} == {street_staff, root}  # the street's staff and the superuser
    assert services.booking_approve(booking=booking, actor=street_staff).status == Booking.Status.APPROVED
    with pytest.raises(Http404):  # another street's staff do not even see it
        services.booking_cancel(booking=Booking.objects.get(pk=booking.pk), actor=elsewhere)


def test_the_venue_and_booking_endpoints_are_in_the_schema_with_their_fixed_shapes(client):
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    def fields(operation, code=None):
        content = operation["requestBody"] if code is None else operation["responses"][code]
        ref = content["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        return set(components[ref]["properties"])

    assert "get" in schema["paths"]["/api/v1/venues/"]
    asking = schema["paths"]["/api/v1/venues/{id}/bookings/"]["post"]
    assert {"start", "end", "purpose", "people"} <= fields(asking)
    assert {"id", "status"} <= fields(asking, "201")
    for action in ("approve", "decline", "cancel"):
        operation = schema["paths"][f"/api/v1/bookings/{{id}}/{action}/"]["post"]
        assert "409" in operation["responses"]
    assert fields(schema["paths"]["/api/v1/bookings/{id}/decline/"]["post"]) == {"reason"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's locked check")
def test_on_sqlite_the_overlap_check_and_the_approval_hold_the_write_lock_together():
    """SQLite has no exclusion constraint: what keeps two approvals of one slot apart is that the check
    and the write run in one transaction that takes the database's write lock when it begins (IMMEDIATE),
    so a second approver waits for the first to commit and then sees its booking."""
    from django.conf import settings

    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_a_venue_a_unit_publishes_in_the_portal_can_be_booked_at_once(liaison_a, liaison_b, unit_a, unit_b, client):
    """A liaison publishes a resource of kind venue: it opens with the default hours (08:30–17:30, Monday to
    Friday), in the venues list and on the public page, and takes requests; a service the unit later turns
    into a venue likewise."""
    from datetime import time as clock

    from django.core.cache import cache
    from django.test import Client

    from ..factories import CategoryFactory

    category = CategoryFactory()
    client.force_login(liaison_a)
    form = {"unit": unit_a.pk, "category": category.pk, "kind": "venue", "title": "职工书屋", "capacity": "12"}
    assert client.post(reverse("portal:resource_create"), {**form, "is_free": "on"}).status_code == 302
    resource = Resource.objects.get(title="职工书屋")
    venue = resource.venue
    assert (venue.opens_at, venue.closes_at, venue.weekdays, venue.is_public) == (
        clock(8, 30),
        clock(17, 30),
        "12345",
        True,
    )
    assert venue.history.get().history_user == liaison_a
    listed = [row["title"] for row in _api(liaison_b).get("/api/v1/venues/").json()["results"]]
    assert listed == ["职工书屋"]
    cache.clear()
    assert "职工书屋" in Client().get("/venues/").content.decode()
    monday = _day(7) - timedelta(days=_day(7).weekday())
    booking = _request(venue, liaison_b, unit=unit_b, day=monday, people=12)
    assert booking.status == Booking.Status.PENDING

    service = Resource.objects.create(unit=unit_a, category=category, kind=Resource.Kind.SERVICE, title="会议室")
    services.resource_update(resource=service, actor=liaison_a, data={"kind": Resource.Kind.VENUE})
    assert Resource.objects.get(pk=service.pk).venue.weekdays == "12345"
