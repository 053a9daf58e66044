"""The HTML lists' one paginator: previous / next over `?page=N`, one query a page, no count, no page
deeper than MAX_PAGE; walking the pages shows every row once."""

from __future__ import annotations

import re

import pytest
from django.http import QueryDict
from django.urls import reverse

from alliance import pagination
from alliance.models import Notification
from demands.models import Need

from ..conftest import client_for
from ..demands.factories import NeedFactory


def _notifications(user, count: int) -> None:
    Notification.objects.bulk_create(
        Notification(recipient=user, subject=f"通知{n:02d}", body="") for n in range(count)
    )


@pytest.mark.parametrize(
    ("asked", "number"),
    [(None, 1), ("", 1), ("abc", 1), ("0", 1), ("-2", 1), ("3", 3), ("99999999999999999999", 1), ("100", 100)],
)
def test_a_page_number_that_makes_no_sense_is_the_first_page(asked, number):
    assert pagination.page_number(asked) == number


def test_a_page_past_the_deepest_is_the_deepest(monkeypatch):
    monkeypatch.setattr(pagination, "MAX_PAGE", 3)
    assert pagination.page_number("4") == 3


def test_the_links_keep_the_lists_other_parameters():
    page = pagination.page_of(list(range(30)), QueryDict("status=open&page=2"), per_page=10)
    assert (page.previous_url, page.next_url) == ("?status=open", "?status=open&page=3")
    assert page.object_list == list(range(10, 20))
    first = pagination.page_of(list(range(5)), QueryDict(""), per_page=10)
    assert (first.has_previous(), first.has_next(), first.has_other_pages()) == (False, False, False)


def test_walking_the_pages_shows_every_row_once_at_one_query_a_page(member, django_assert_num_queries):
    _notifications(member, 45)
    rows = Notification.objects.filter(recipient=member).order_by("-created_at", "-id")
    seen, query = [], QueryDict("")
    while True:
        with django_assert_num_queries(1):  # the page's rows and one more: no COUNT
            page = pagination.page_of(rows, query, per_page=20)
        seen += [n.pk for n in page]
        if not page.has_next():
            break
        query = QueryDict(page.next_url[1:])
    assert seen == list(rows.values_list("pk", flat=True))
    assert page.number == 3


def test_the_deepest_page_says_to_narrow_the_list(monkeypatch, member):
    monkeypatch.setattr(pagination, "MAX_PAGE", 2)
    _notifications(member, 50)
    page = client_for(member).get(reverse("portal:notifications"), {"page": "9"}).content.decode()
    assert "data-capped" in page and 'rel="next"' not in page and 'href="?page=1"' not in page
    assert 'rel="prev"' in page


def test_the_portal_needs_list_walks_its_pages_with_the_filter_kept(liaison_a, unit_a, community_x):
    for _ in range(45):
        NeedFactory(unit=unit_a, community=community_x, status=Need.Status.DISPATCHED)
    NeedFactory(unit=unit_a, community=community_x, status=Need.Status.ACCEPTED)  # not in the filter
    client = client_for(liaison_a)
    url = reverse("portal:need_list")
    address, seen = f"{url}?status=dispatched", []
    while address:
        page = client.get(address).content.decode()
        seen += [int(pk) for pk in re.findall(r'href="/portal/needs/(\d+)/"', page)]
        following = re.search(r'<a href="(\?[^"]*)" rel="next">', page)
        address = url + following.group(1).replace("&amp;", "&") if following else ""
    dispatched = Need.objects.filter(status=Need.Status.DISPATCHED).order_by("-dispatched_at", "-id")
    assert seen == list(dispatched.values_list("pk", flat=True))


def test_a_page_past_the_end_is_the_first_page(member):
    _notifications(member, 3)
    response = client_for(member).get(reverse("portal:notifications"), {"page": "5"})
    assert response.status_code == 200
    assert (response.context["page"].number, len(response.context["page"])) == (1, 3)
