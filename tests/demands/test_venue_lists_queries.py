"""Every list of the shared venues costs the same number of queries however many rows it shows (issue 15,
"every list a constant number of queries"): the venues and the bookings over the API, the portal's venues
and bookings pages, a venue's week, the admin's lists, and the public venues page — which also reads
nothing while its cache is warm, and never hands one visitor's CSRF token to the next."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance.periods import ZONE
from demands import services
from demands.models import Booking

from ..api import api_client as _api
from ..conftest import client_for
from ..factories import MemberUnitFactory
from .factories import VenueFactory

pytestmark = pytest.mark.django_db


def _at(days: int, hour: int) -> datetime:
    return datetime.combine(timezone.localdate() + timedelta(days=days), time(hour), tzinfo=ZONE)


def _statements(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def _venues(unit, n: int) -> None:
    for i in range(n):
        VenueFactory(resource__unit=unit, resource__title=f"活动室{unit.pk}-{i}")


@pytest.fixture
def venue(unit_a):
    return VenueFactory(resource__unit=unit_a)


@pytest.fixture
def book(venue, liaison_a, liaison_b, unit_b):
    """Requests by unit B's liaison for the venue of unit A, one a day; every other one approved."""

    def make(days) -> None:
        for day in days:
            booking = services.booking_request(
                venue=venue, actor=liaison_b, unit=unit_b, start=_at(day, 9), end=_at(day, 10), purpose="党课", people=5
            )
            if day % 2:
                services.booking_approve(booking=booking, actor=liaison_a)

    return make


def test_the_api_venues_list_costs_the_same_however_many_venues(unit_a, venue, liaison_b):
    client = _api(liaison_b)
    client.get("/api/v1/venues/")  # warm: the user's groups and scopes are then cached
    # 1 the count, 2 the page of venues with their resource and unit joined.
    assert _statements(lambda: client.get("/api/v1/venues/")) == 2
    _venues(unit_a, 5)
    assert _statements(lambda: client.get("/api/v1/venues/")) == 2
    assert client.get("/api/v1/venues/").json()["count"] == 6


@pytest.mark.parametrize("who", ["liaison_a", "liaison_b", "street_staff"])
def test_the_portal_bookings_page_costs_the_same_however_many_bookings(request, book, who):
    client = client_for(request.getfixturevalue(who))
    book([1, 2])
    client.get(reverse("portal:bookings"))  # warm the session and the scopes
    before = _statements(lambda: client.get(reverse("portal:bookings")))
    book([3, 4, 5, 6, 7])
    assert _statements(lambda: client.get(reverse("portal:bookings"))) == before
    page = client.get(reverse("portal:bookings")).content.decode()
    # The requester lists their seven; the owner and the street's staff have the three pending to answer.
    assert page.count("党群服务中心多功能厅</") == (7 if who == "liaison_b" else 3)


def test_the_portal_venues_page_and_a_week_cost_the_same_however_many_rows(unit_a, venue, book, liaison_a):
    client = client_for(liaison_a)
    client.get(reverse("portal:venue_list"))
    before = _statements(lambda: client.get(reverse("portal:venue_list")))
    _venues(unit_a, 6)
    assert _statements(lambda: client.get(reverse("portal:venue_list"))) == before

    week = reverse("portal:venue_week", args=[venue.pk])
    monday = {"week": _at(1, 9).date().isoformat()}
    book([1])
    before = _statements(lambda: client.get(week, monday))
    book([2, 3, 4, 5])
    assert _statements(lambda: client.get(week, monday)) == before


@pytest.mark.parametrize("name", ["admin:demands_booking_changelist", "admin:demands_venue_changelist"])
def test_the_admin_lists_cost_the_same_however_many_rows(unit_a, book, street_staff, name):
    client = client_for(street_staff)
    book([1, 2])
    client.get(reverse(name))
    before = _statements(lambda: client.get(reverse(name)))
    book([3, 4, 5, 6])
    _venues(unit_a, 4)
    client.get(reverse(name))  # a save of a row some filter offers has its choices read again once
    assert _statements(lambda: client.get(reverse(name))) == before


def test_the_public_venues_page_costs_the_same_and_nothing_while_cached(unit_a, venue, book):
    """Per street like the other public pages (here several streets: the street staff's and unit_a's)."""
    from alliance import public_figures

    street = {"street": unit_a.community.street_id}
    public_figures.refresh()  # the street list the public pages read (the beat keeps it)
    book([1, 2])
    cache.clear()
    public_figures.forget()
    # 1 the snapshot's street list, 2 the page of public venues with their unit, 3 their closed days, 4 their
    # approved bookings.
    assert _statements(lambda: Client().get("/venues/", street)) == 4
    assert _statements(lambda: Client().get("/venues/", street)) == 0
    _venues(MemberUnitFactory(community=unit_a.community), 12)
    book([3, 4, 5])
    cache.clear()
    public_figures.forget()
    assert _statements(lambda: Client().get("/venues/", street)) == 4
    page = Client().get("/venues/", street).content.decode()
    assert 'rel="next"' in page
    assert Booking.objects.filter(status=Booking.Status.APPROVED).count() == 3


def test_a_visitor_of_the_cached_venues_page_can_still_switch_language(venue):
    cache.clear()
    Client(enforce_csrf_checks=True).get("/venues/")  # fills the cache
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get("/venues/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    switched = visitor.post("/i18n/setlang/", {"language": "en", "next": "/venues/", "csrfmiddlewaretoken": token})
    assert (switched.status_code, switched["Location"]) == (302, "/venues/")
    assert "Shared venues" in visitor.get("/venues/").content.decode()
