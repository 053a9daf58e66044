"""A venue's owner sets its opening hours, days and closed days in the portal (and the API), under the
venue's one rule (VenueRules: whoever may change the resource); a change that would strand a booking is
refused whole; a resource no longer an active venue leaves every list and takes no request."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance.errors import Conflict, InvalidInput, TransitionNotAllowed
from alliance.periods import ZONE
from demands import selectors, services
from demands.models import Booking, Resource, Venue, VenueClosure
from members import services as member_services

from ..api import api_client as _api
from ..conftest import client_for
from ..factories import UserFactory
from .factories import VenueFactory

pytestmark = pytest.mark.django_db


def _day(offset: int = 7) -> date:
    return timezone.localdate() + timedelta(days=offset)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZONE)


@pytest.fixture
def venue(unit_a):
    return VenueFactory(resource__unit=unit_a)


def _hours_form(**change) -> dict:
    return {"opens_at": "08:30", "closes_at": "17:30", "weekdays": list("1234567"), "is_public": "on", **change}


def _state(venue: Venue) -> tuple:
    venue = Venue.objects.get(pk=venue.pk)
    closed = list(VenueClosure.objects.filter(venue=venue).values_list("date", flat=True))
    return venue.opens_at, venue.closes_at, venue.weekdays, venue.is_public, closed, venue.history.count()


def _approved(venue, liaison_a, liaison_b, unit_b, *, day: date, start: int = 9, end: int = 11) -> Booking:
    booking = services.booking_request(
        venue=venue, actor=liaison_b, unit=unit_b, start=_at(day, start), end=_at(day, end), purpose="党课", people=9
    )
    return services.booking_approve(booking=booking, actor=liaison_a)


def test_the_liaison_sets_the_hours_and_the_week_view_shows_them(venue, liaison_a):
    client = client_for(liaison_a)
    week = client.get(reverse("portal:venue_week", args=[venue.pk]))
    hours_url = reverse("portal:venue_hours", args=[venue.pk])
    assert f'href="{hours_url}"' in week.content.decode()
    assert f'href="{hours_url}"' in client.get(reverse("portal:venue_list")).content.decode()
    answer = client.post(hours_url, _hours_form(opens_at="09:00", closes_at="21:00", weekdays=["6", "7"], is_public=""))
    assert answer.status_code == 302 and answer["Location"] == reverse("portal:venue_week", args=[venue.pk])
    saved = Venue.objects.get(pk=venue.pk)
    assert (saved.opens_at, saved.closes_at, saved.weekdays, saved.is_public) == (time(9), time(21), "67", False)
    assert saved.history.latest().history_user == liaison_a
    page = client.get(answer["Location"]).content.decode()
    assert "开放时间已保存。" in page
    assert "开放 09:00–21:00" in page


def test_a_closed_day_shows_closed_and_refuses_requests_and_can_be_opened_again(venue, liaison_a, liaison_b, unit_b):
    client = client_for(liaison_a)
    closed = _day(8)
    answer = client.post(reverse("portal:venue_closure_add", args=[venue.pk]), {"date": closed, "note": "设备检修"})
    assert answer.status_code == 302
    page = client.get(answer["Location"]).content.decode()
    assert f"{closed.isoformat()} 已设为闭馆日。" in page and "设备检修" in page
    week = client_for(liaison_b).get(reverse("portal:venue_week", args=[venue.pk]), {"week": closed.isoformat()})
    assert [d["open"] for d in week.context["week"] if d["date"] == closed] == [False]
    with pytest.raises(InvalidInput) as refused:
        services.booking_request(
            venue=venue, actor=liaison_b, unit=unit_b, start=_at(closed, 9), end=_at(closed, 10), purpose="x", people=3
        )
    assert refused.value.message == f"场地 {closed.isoformat()} 不开放。"
    client.post(reverse("portal:venue_closure_remove", args=[venue.pk]), {"date": closed})
    assert not VenueClosure.objects.exists()


def test_shortening_the_hours_past_an_approved_booking_is_refused_naming_it_and_nothing_changes(
    venue, liaison_a, liaison_b, unit_b
):
    day = _day(5)
    _approved(venue, liaison_a, liaison_b, unit_b, day=day, start=15, end=17)
    before = _state(venue)
    client = client_for(liaison_a)
    page = client.post(reverse("portal:venue_hours", args=[venue.pk]), _hours_form(closes_at="16:00"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "此项修改会使以下预约落在开放时间之外或闭馆日" in html
    assert f"{day.isoformat()} 15:00–17:00 党课 (已通过)" in html
    closing = client.post(reverse("portal:venue_closure_add", args=[venue.pk]), {"date": day})
    assert f"{day.isoformat()} 15:00–17:00 党课" in closing.content.decode()
    no_weekday = [d for d in "1234567" if d != str(day.isoweekday())]
    client.post(reverse("portal:venue_hours", args=[venue.pk]), _hours_form(weekdays=no_weekday))
    assert _state(venue) == before
    # Through the admin's path too (venue_save): the same refusal.
    changed = Venue.objects.get(pk=venue.pk)
    changed.opens_at = time(16)
    with pytest.raises(Conflict):
        services.venue_save(venue=changed, actor=liaison_a)
    assert _state(venue) == before


def test_a_change_that_keeps_the_bookings_inside_is_saved(venue, liaison_a, liaison_b, unit_b):
    day = _day(5)
    _approved(venue, liaison_a, liaison_b, unit_b, day=day, start=9, end=11)
    services.venue_hours_update(venue=venue, actor=liaison_a, data={"opens_at": time(9), "closes_at": time(12)})
    services.venue_closure_add(venue=venue, actor=liaison_a, date=day + timedelta(days=1))
    assert _state(venue)[:2] == (time(9), time(12))
    assert VenueClosure.objects.get().date == day + timedelta(days=1)


@pytest.mark.parametrize(
    ("form", "field", "error"),
    [
        (_hours_form(closes_at="08:00"), "closes_at", "关门时间须晚于开门时间。"),
        (_hours_form(opens_at="半夜"), "opens_at", "输入一个有效的时间。"),
        (_hours_form(weekdays=[]), "weekdays", "请至少勾选一个开放日。"),
        (_hours_form(weekdays=["8"]), "weekdays", "选择一个有效的选项。 8 不在可用的选项中。"),
    ],
)
def test_bad_hours_get_chinese_field_errors_and_change_nothing(venue, liaison_a, form, field, error):
    before = _state(venue)
    page = client_for(liaison_a).post(reverse("portal:venue_hours", args=[venue.pk]), form)
    assert page.status_code == 200
    assert page.context["hours_form"].errors[field] == [error]
    assert _state(venue) == before


def test_a_bad_closed_day_gets_an_error_and_changes_nothing(venue, liaison_a):
    client = client_for(liaison_a)
    url = reverse("portal:venue_closure_add", args=[venue.pk])
    page = client.post(url, {"date": ""})
    assert page.context["closure_form"].errors["date"] == ["该字段是必填项。"]
    page = client.post(url, {"date": _day(-1)})
    assert page.context["closure_form"].non_field_errors() == ["闭馆日不能是已经过去的日期。"]
    VenueClosure.objects.create(venue=venue, date=_day(3))
    page = client.post(url, {"date": _day(3)})
    assert page.context["closure_form"].non_field_errors() == [f"{_day(3).isoformat()} 已是闭馆日。"]
    assert list(VenueClosure.objects.values_list("date", flat=True)) == [_day(3)]


def test_who_may_not_change_the_venue_gets_what_the_other_venue_pages_give(
    venue, liaison_b, member, community_y_staff, community_x_staff
):
    """Anonymous: the sign-in page; whoever sees the venue but may not change it: 404, as a resource's edit
    page; nothing is written, and the week view shows them no link."""
    before = _state(venue)
    urls = [reverse(name, args=[venue.pk]) for name in ("portal:venue_hours", "portal:venue_closure_add")]
    urls.append(reverse("portal:venue_closure_remove", args=[venue.pk]))
    anonymous = Client()
    for url in urls:
        assert anonymous.get(url)["Location"].startswith("/portal/login/")
        assert anonymous.post(url, {"date": _day(3)})["Location"].startswith("/portal/login/")
    for user in (liaison_b, member, community_y_staff):
        client = client_for(user)
        assert client.get(urls[0]).status_code == 404
        for url in urls:
            assert client.post(url, {**_hours_form(opens_at="10:00"), "date": _day(3)}).status_code == 404
        week = client.get(reverse("portal:venue_week", args=[venue.pk])).content.decode()
        assert urls[0] not in week
    assert _state(venue) == before
    # The community's staff may change their units' resources, so their venues too (one rule).
    assert client_for(community_x_staff).get(urls[0]).status_code == 200


def test_the_api_patches_the_hours_and_adds_closed_days_through_the_same_services(venue, liaison_a, liaison_b):
    api = _api(liaison_a)
    answer = api.patch(f"/api/v1/venues/{venue.pk}/", {"closes_at": "20:00"}, format="json")
    assert answer.status_code == 200 and answer.json()["closes_at"] == "20:00:00"
    added = api.post(f"/api/v1/venues/{venue.pk}/closures/", {"date": _day(4).isoformat()}, format="json")
    assert added.status_code == 201
    assert VenueClosure.objects.get().date == _day(4)
    assert (
        _api(liaison_b).patch(f"/api/v1/venues/{venue.pk}/", {"closes_at": "21:00"}, format="json").status_code == 403
    )
    removed = api.post(f"/api/v1/venues/{venue.pk}/closures/remove/", {"date": _day(4).isoformat()}, format="json")
    assert removed.status_code == 204 and not VenueClosure.objects.exists()
    assert Venue.objects.get(pk=venue.pk).closes_at == time(20)


def test_the_api_refuses_hours_that_close_before_they_open_in_words_and_changes_nothing(venue, liaison_a):
    before = _state(venue)
    answer = _api(liaison_a).patch(
        f"/api/v1/venues/{venue.pk}/", {"opens_at": "18:00", "closes_at": "08:00"}, format="json"
    )
    assert (answer.status_code, answer.json()) == (400, {"__all__": ["关门时间须晚于开门时间。"]})
    assert _state(Venue.objects.get(pk=venue.pk)) == before


def test_the_hours_page_costs_the_same_queries_however_many_closed_days(venue, liaison_a):
    client = client_for(liaison_a)
    url = reverse("portal:venue_hours", args=[venue.pk])
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    VenueClosure.objects.create(venue=venue, date=_day(2))
    one = count()
    for offset in range(3, 13):
        VenueClosure.objects.create(venue=venue, date=_day(offset))
    assert count() == one


# --- A resource that is no longer an active venue ---------------------------------------------------


@pytest.mark.parametrize("change", [{"kind": Resource.Kind.SERVICE}, {"status": Resource.Status.WITHDRAWN}])
def test_a_resource_no_longer_an_active_venue_leaves_every_list_and_takes_no_request(
    venue, liaison_a, liaison_b, unit_b, change
):
    kept = VenueFactory(resource__unit=venue.resource.unit, resource__title="职工书屋")
    Resource.objects.filter(pk=venue.pk).update(**change)
    venue = Venue.objects.select_related("resource").get(pk=venue.pk)
    assert list(selectors.public_venues()) == [kept]
    cache.clear()
    public = Client().get("/venues/").content.decode()
    assert "职工书屋" in public and "党群服务中心多功能厅" not in public
    portal = client_for(liaison_b).get(reverse("portal:venue_list")).content.decode()
    assert "职工书屋" in portal and "党群服务中心多功能厅" not in portal
    listed = [row["title"] for row in _api(liaison_b).get("/api/v1/venues/").json()["results"]]
    assert listed == ["职工书屋"]
    with pytest.raises(TransitionNotAllowed):
        services.booking_request(
            venue=venue, actor=liaison_b, unit=unit_b, start=_at(_day(), 9), end=_at(_day(), 10), purpose="x", people=3
        )
    assert not Booking.objects.exists()


def test_a_unit_liaison_added_later_may_change_the_venue_too(venue, unit_a, root):
    """The rule is the unit's, not the publisher's: every liaison of the owning unit."""
    other = UserFactory(username="liaison_a2")
    member_services.unit_membership_add(unit=unit_a, user=other, actor=root)
    services.venue_hours_update(venue=venue, actor=other, data={"is_public": False})
    assert Venue.objects.get(pk=venue.pk).is_public is False


def _admin_form(venue: Venue, closures: list[dict]) -> dict:
    data = {
        "resource": venue.pk,
        "opens_at": "08:30:00",
        "closes_at": "17:30:00",
        "weekdays": "1234567",
        "is_public": "on",
        "closures-TOTAL_FORMS": str(len(closures)),
        "closures-INITIAL_FORMS": str(sum(1 for c in closures if c.get("id"))),
        "closures-MIN_NUM_FORMS": "0",
        "closures-MAX_NUM_FORMS": "1000",
    }
    for i, closure in enumerate(closures):
        data.update({f"closures-{i}-{k}": v for k, v in closure.items()})
        data[f"closures-{i}-venue"] = venue.pk
    return data


def test_a_closed_day_the_admin_adds_goes_through_the_same_refusal(venue, liaison_a, liaison_b, unit_b, root):
    held = _day(5)
    _approved(venue, liaison_a, liaison_b, unit_b, day=held)
    client = client_for(root)
    url = reverse("admin:demands_venue_change", args=[venue.pk])
    refused = client.post(url, _admin_form(venue, [{"date": held.isoformat(), "note": "检修"}]), follow=True)
    assert "此项修改会使以下预约落在开放时间之外或闭馆日" in refused.content.decode()
    assert not VenueClosure.objects.exists()
    free = _day(6)
    assert client.post(url, _admin_form(venue, [{"date": free.isoformat(), "note": "检修"}])).status_code == 302
    closure = VenueClosure.objects.get()
    assert (closure.date, closure.note) == (free, "检修")
    moved = {"id": closure.pk, "date": held.isoformat(), "note": "检修"}
    answer = client.post(url, _admin_form(venue, [moved]), follow=True)
    assert "此项修改会使以下预约落在开放时间之外或闭馆日" in answer.content.decode()
    assert list(VenueClosure.objects.values_list("date", flat=True)) == [free]
