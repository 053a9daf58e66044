"""API pages by cursor (alliance.api.pagination): every row exactly once, forwards and back, whatever the ties."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.api import pagination
from demands.models import Need
from members.models import MemberUnit

from ..api import api_client as _api
from ..demands.factories import NeedFactory
from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory

NEEDS = "/api/v1/needs/"
UNITS = "/api/v1/units/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _get(client, url, params=None) -> dict:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def _walk(client, url, params) -> tuple[list[list[int]], dict]:
    """Follow `next` from the first page to the last; the pages' ids, and the last page's answer."""
    body = _get(client, url, params)
    pages = [[row["id"] for row in body["results"]]]
    assert body["previous"] is None
    while body["next"]:
        body = _get(client, body["next"])
        pages.append([row["id"] for row in body["results"]])
    return pages, body


def _walk_back(client, body) -> list[list[int]]:
    pages = [[row["id"] for row in body["results"]]]
    while body["previous"]:
        body = _get(client, body["previous"])
        pages.append([row["id"] for row in body["results"]])
    return pages[::-1]


@pytest.fixture
def needs_with_ties(db):
    """23 needs in groups of five sharing one submission time to the microsecond."""
    community, category = CommunityFactory(), CategoryFactory()
    needs = NeedFactory.create_batch(23, community=community, category=category)
    start = datetime(2026, 5, 1, 9, 0, tzinfo=SHANGHAI)
    for i, need in enumerate(needs):
        Need.objects.filter(pk=need.pk).update(submitted_at=start + timedelta(hours=i // 5))
    return needs


def test_next_links_walk_every_need_once_in_order_even_with_equal_timestamps(street_staff, needs_with_ties):
    client = _api(street_staff)
    pages, last = _walk(client, NEEDS, {"page_size": 4})
    expected = list(Need.objects.order_by("-submitted_at", "-id").values_list("pk", flat=True))
    assert [len(page) for page in pages] == [4, 4, 4, 4, 4, 3]
    assert [pk for page in pages for pk in page] == expected
    assert last["next"] is None and last["count"] == 23
    # …and the previous links walk back through the very same pages.
    assert _walk_back(client, last) == pages


def test_an_ascending_order_walks_both_ways_too(street_staff, needs_with_ties):
    client = _api(street_staff)
    pages, last = _walk(client, NEEDS, {"page_size": 5, "ordering": "submitted_at"})
    expected = list(Need.objects.order_by("submitted_at", "id").values_list("pk", flat=True))
    assert [pk for page in pages for pk in page] == expected
    assert _walk_back(client, last) == pages


def test_a_filtered_list_pages_within_the_filter(street_staff, needs_with_ties):
    Need.objects.filter(pk__in=[n.pk for n in needs_with_ties[::2]]).update(status=Need.Status.REJECTED)
    pages, _last = _walk(_api(street_staff), NEEDS, {"page_size": 3, "status": "rejected"})
    expected = list(
        Need.objects.filter(status="rejected").order_by("-submitted_at", "-id").values_list("pk", flat=True)
    )
    assert [pk for page in pages for pk in page] == expected and len(expected) == 12


@pytest.mark.parametrize("ordering", ["joined_on", "-joined_on"])
def test_units_without_a_joining_date_are_paged_too(street_staff, ordering):
    community = CommunityFactory()
    for i in range(11):
        MemberUnitFactory(community=community, joined_on=None if i % 3 == 0 else date(2020, 1, 1 + i % 2))
    client = _api(street_staff)
    pages, last = _walk(client, UNITS, {"page_size": 2, "ordering": ordering})
    seen = [pk for page in pages for pk in page]
    assert sorted(seen) == sorted(MemberUnit.objects.values_list("pk", flat=True)) and len(seen) == 11
    dates = [MemberUnit.objects.get(pk=pk).joined_on for pk in seen]
    # No joining date: after every date going up, before every date going down.
    if ordering == "joined_on":
        assert dates[-4:] == [None] * 4 and dates[:-4] == sorted(dates[:-4])
    else:
        assert dates[:4] == [None] * 4 and dates[4:] == sorted(dates[4:], reverse=True)
    assert _walk_back(client, last) == pages


def test_a_new_need_arriving_between_two_pages_moves_nothing(street_staff, needs_with_ties):
    client = _api(street_staff)
    first = _get(client, NEEDS, {"page_size": 10})
    NeedFactory(community=needs_with_ties[0].community, category=needs_with_ties[0].category)  # the newest
    second = _get(client, first["next"])
    expected = list(Need.objects.order_by("-submitted_at", "-id").values_list("pk", flat=True))[1:]
    assert [r["id"] for r in first["results"] + second["results"]] == expected[:20]


def test_page_numbers_still_work_for_the_first_pages(street_staff, needs_with_ties):
    client = _api(street_staff)
    by_cursor, _last = _walk(client, NEEDS, {"page_size": 5})
    second = _get(client, NEEDS, {"page_size": 5, "page": 2})
    assert [row["id"] for row in second["results"]] == by_cursor[1]
    # From a numbered page, the links are cursors: on to page 3, back to page 1.
    assert [row["id"] for row in _get(client, second["next"])["results"]] == by_cursor[2]
    assert [row["id"] for row in _get(client, second["previous"])["results"]] == by_cursor[0]
    assert client.get(NEEDS, {"page_size": 5, "page": 6}).status_code == 404  # past the end


def test_a_deep_page_number_is_refused_with_a_pointer_to_the_links(street_staff):
    response = _api(street_staff).get(NEEDS, {"page": 10_000})
    assert response.status_code == 400
    assert response.json() == {
        "page": [f"按页码只能翻到前 {pagination.MAX_PAGE_OFFSET} 条；更后面的内容请使用列表中的“next”链接继续翻页。"]
    }


def test_page_size_is_capped_at_200_and_kept_in_the_links(street_staff):
    community = CommunityFactory()
    MemberUnitFactory.create_batch(203, community=community)
    body = _get(_api(street_staff), UNITS, {"page_size": 1000})
    assert len(body["results"]) == 200 and body["count"] == 203
    assert parse_qs(urlsplit(body["next"]).query)["page_size"] == ["1000"]
    rest = _get(_api(street_staff), body["next"])
    assert len(rest["results"]) == 3 and rest["next"] is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        base64.urlsafe_b64encode(b'{"o":"-submitted_at,-id","v":["yesterday",1],"r":false}').decode(),
        # A cursor of another order (?ordering=submitted_at) used with the default one.
        base64.urlsafe_b64encode(
            json.dumps({"o": "submitted_at,id", "v": ["2026-05-01T09:00:00+08:00", 1], "r": False}).encode()
        ).decode(),
        base64.urlsafe_b64encode(b'{"o":"-submitted_at,-id","v":["2026-05-01T09:00:00+08:00"],"r":false}').decode(),
    ],
)
def test_a_bad_cursor_answers_400_in_chinese(street_staff, needs_with_ties, cursor):
    response = _api(street_staff).get(NEEDS, {"cursor": cursor})
    assert response.status_code == 400
    assert response.json() == {"cursor": ["翻页链接无效（或列表的排序已改变），请从第一页重新开始。"]}


def test_ordering_by_two_fields_at_once_is_refused(street_staff):
    response = _api(street_staff).get(NEEDS, {"ordering": "status,-submitted_at"})
    assert response.status_code == 400
    assert response.json() == {"ordering": ["一次只能按一个字段排序：status, -submitted_at。"]}


def test_a_later_page_costs_the_same_queries_as_the_first(street_staff, needs_with_ties):
    # Each client with the user loaded anew, as each request loads it: nothing kept on the user object.
    first_client, next_client = (_api(User.objects.get(pk=street_staff.pk)) for _ in range(2))
    _get(_api(User.objects.get(pk=street_staff.pk)), NEEDS)  # puts the user's group names in the cache
    with CaptureQueriesContext(connection) as first_queries:
        first = _get(first_client, NEEDS, {"page_size": 5})
    with CaptureQueriesContext(connection) as next_queries:
        _get(next_client, first["next"])
    # The count, the page (the user's group names from the cache, alliance/permissions.py).
    assert len(first_queries) == len(next_queries) == 2


def test_a_large_count_is_an_estimate_and_says_so(street_staff, needs_with_ties, monkeypatch):
    client = _api(street_staff)
    assert "count_is_estimate" not in _get(client, NEEDS)  # 23 rows: counted exactly
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 10)
    monkeypatch.setattr(pagination, "COUNT_CAP", 15)
    body = _get(client, NEEDS)
    assert body["count_is_estimate"] is True
    if connection.vendor == "postgresql":
        assert body["count"] >= 11  # the planner's estimate, never below what was counted
    else:
        assert body["count"] == 15  # counting stopped at the cap


def test_the_schema_says_when_the_count_is_an_estimate(street_staff):
    schema = _api(street_staff).get("/api/schema/", {"format": "json"}).json()
    page = schema["components"]["schemas"]["PaginatedNeedList"]
    assert page["properties"]["count_is_estimate"]["type"] == "boolean"
    assert set(page["required"]) == {"count", "results"}
    names = {p["name"] for p in schema["paths"][NEEDS]["get"]["parameters"]}
    assert {"cursor", "page", "page_size", "ordering"} <= names
