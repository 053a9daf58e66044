"""What a signed-in API list costs in statements (issue 12), and that what is now kept in the cache stays true.

A signed-in list page reads its session and the user's group names from the cache (alliance/sessions.py,
alliance/permissions.py), so it costs the user, the count and the page; past EXACT_COUNT_LIMIT rows the
count is an estimate kept briefly per list, user and filters (alliance/api/pagination.py), and the page
costs the user and the page alone. Group changes, from either side, reach the next request at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance import permissions, sessions
from alliance.api import pagination

from ..demands.factories import NeedFactory
from ..factories import MemberUnitFactory
from ..meetings.factories import MeetingFactory
from ..projects.factories import ClaimFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/needs/",
    "/api/v1/units/",
    "/api/v1/members/",
    "/api/v1/claims/",
    "/api/v1/service-logs/",
    "/api/v1/meetings/",
]


@pytest.fixture
def lists(community_x, unit_a):
    for _ in range(3):
        MemberUnitFactory(community=community_x)
        NeedFactory(community=community_x, unit=unit_a)
        ServiceLogFactory(member=PartyMemberFactory(work_unit=unit_a, residence_community=community_x))
        ClaimFactory(unit=unit_a)
        MeetingFactory()


def _statements(client, path: str, **params) -> tuple[int, list[str], dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(captured), [query["sql"] for query in captured], response.json()


@pytest.mark.parametrize("path", LISTS)
def test_a_signed_in_list_costs_the_user_the_count_and_the_page(street_staff, as_user, lists, path):
    client = as_user(street_staff)
    client.get(path)  # the first request of the user puts their group names in the cache
    count, sql, body = _statements(client, path, page_size=2)
    assert count == 3
    assert not [text for text in sql if "django_session" in text or "auth_group" in text]
    # …and a page reached by its `next` link costs the same.
    assert _statements(client, body["next"])[0] == 3


def test_the_first_request_reads_the_groups_once_then_the_cache_answers(street_staff, as_user, lists):
    client = as_user(street_staff)
    cache.delete(permissions._groups_key(street_staff.pk))
    # The user, the groups, the street scope (the streets the staff member oversees), the count, the page.
    assert _statements(client, "/api/v1/needs/")[0] == 5
    assert _statements(client, "/api/v1/needs/")[0] == 3


def test_an_estimated_count_is_kept_and_the_next_pages_do_not_count(street_staff, as_user, lists, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 1)
    monkeypatch.setattr(pagination, "COUNT_CAP", 2)
    client = as_user(street_staff)
    client.get("/api/v1/needs/")
    cache.clear()  # nothing kept, in Redis or in this process: the first page counts (past the limit, then
    pagination.forget_estimates()  # up to the cap)
    count, _, first = _statements(client, "/api/v1/needs/", page_size=1)
    # The session, the user, the groups, the street scope, the count stopping past the limit, the estimate
    # (PostgreSQL's planner) or the count stopping at the cap (SQLite), the page.
    assert (count, first["count_is_estimate"]) == (7, True)
    assert first["count"] >= 2
    count, sql, second = _statements(client, first["next"])
    # The user, the page; the count is the one kept.
    assert (count, second["count"], second["count_is_estimate"]) == (2, first["count"], True)
    assert not [text for text in sql if "COUNT(" in text.upper()]


def test_an_estimate_is_kept_per_list_user_and_filters(street_staff, as_user, lists, monkeypatch, root):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 1)
    monkeypatch.setattr(pagination, "COUNT_CAP", 2)
    client = as_user(street_staff)
    client.get("/api/v1/needs/")
    cache.clear()
    pagination.forget_estimates()

    def counted(client, **params) -> bool:
        _, sql, body = _statements(client, "/api/v1/needs/", **params)
        assert body["count_is_estimate"] is True
        return any("COUNT(" in text.upper() for text in sql)

    assert counted(client) is True
    # Another page size, another order of the same parameters: the same list, the estimate kept.
    assert counted(client, page_size=1) is False
    assert counted(client, page_size=2, ordering="-submitted_at") is True  # the order is part of the key
    assert counted(client, ordering="-submitted_at", page_size=1) is False
    # A filter makes another list; so does another user, whose scope may differ.
    assert counted(client, status="submitted") is True
    assert counted(client, status="submitted") is False
    assert counted(as_user(root)) is True
    assert counted(as_user(root)) is False


def test_an_exact_count_is_never_kept(street_staff, as_user, lists):
    client = as_user(street_staff)
    assert client.get("/api/v1/needs/").json()["count"] == 3
    NeedFactory()
    body = client.get("/api/v1/needs/").json()
    assert (body["count"], "count_is_estimate" in body) == (4, False)


def test_leaving_or_joining_a_group_reaches_the_next_request(street_staff, as_user, lists):
    client = as_user(street_staff)
    group = Group.objects.get(name=permissions.STREET_STAFF_GROUP)
    assert client.get("/api/v1/needs/").json()["count"] == 3
    street_staff.groups.remove(group)
    assert client.get("/api/v1/needs/").json()["count"] == 0
    group.user_set.add(street_staff)
    assert client.get("/api/v1/needs/").json()["count"] == 3
    group.user_set.clear()
    assert client.get("/api/v1/needs/").json()["count"] == 0
    street_staff.groups.add(group)
    assert client.get("/api/v1/needs/").json()["count"] == 3
    group.name = "former_street_staff"
    group.save()
    assert client.get("/api/v1/needs/").json()["count"] == 0


def test_without_the_cache_sessions_and_groups_come_from_the_database(street_staff, as_user, lists, monkeypatch):
    client = as_user(street_staff)

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    for name in ("get", "set", "delete", "delete_many"):
        monkeypatch.setattr(type(caches["default"]), name, down)
    count, sql, body = _statements(client, "/api/v1/needs/")
    # The session, the user, the groups, the street scope, the count, the page (the scope is kept on the
    # User itself, which request.user's lazy proxy and the rules share: read once).
    assert (count, body["count"]) == (6, 3)
    assert [text for text in sql if "django_session" in text]
    assert not sessions.breaker.closed() and not permissions.groups_breaker.closed()
    # While the breakers are open nothing waits for the cache.
    assert _statements(client, "/api/v1/needs/")[0] == 6
