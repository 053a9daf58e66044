"""The pieces of the admin's frame kept per process (alliance/admin/frame.py: the sidebar, a list's
headers, its bar of actions and its panel of filters, and the communities a filter offers) show exactly
what drawing them afresh shows, for each user, page, address and language; each request keeps its own
CSRF token; and the communities a filter offers cost no query once read, however many there are."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance.admin import frame
from alliance.models import Notification

from ..conftest import client_for
from ..demands.factories import NeedFactory
from ..factories import CommunityFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

PAGES = [
    "/admin/",
    "/admin/demands/need/",
    "/admin/demands/need/?status__exact=submitted&o=-2",
    "/admin/volunteers/partymember/",
    "/admin/volunteers/servicelog/?verified__exact=1",
]


def _page(client, path: str, language: str) -> str:
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def _without_tokens(html: str) -> str:
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', html)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_kept_pieces_show_what_drawing_them_afresh_shows_for_every_user_and_page(
    language, street_staff, community_x_staff, root, community_x
):
    need = NeedFactory(community=community_x, title="楼道灯坏了")
    ServiceLogFactory(member=PartyMemberFactory(residence_community=community_x), verified=True)
    users = [street_staff, community_x_staff, root]
    # Every user and page drawn once to fill the caches (each user after the others: a piece kept for
    # one user must not be shown to another).
    for user in users:
        for path in PAGES:
            _page(client_for(user), path, language)
    for user in users:
        client = client_for(user)
        for path in PAGES:
            kept = _page(client, path, language)
            frame.forget()
            fresh = _page(client, path, language)
            assert _without_tokens(kept) == _without_tokens(fresh), (user, path)
            assert need.title in kept or "need" not in path
    assert frame._fragments  # the pages did keep pieces


def test_a_kept_sidebar_carries_each_requests_own_csrf_token(street_staff):
    client = client_for(street_staff)
    _page(client, "/admin/demands/need/", "zh-hans")
    response = client.get("/admin/demands/need/")
    tokens = TOKEN.findall(response.content.decode())
    assert len(tokens) >= 2 and frame.CSRF_MARK not in response.content.decode()
    # The logout form in the kept sidebar signs the user out: its token is this session's.
    logout = re.search(r'<form id="logout-form" method="post" action="([^"]+)"', response.content.decode())
    token = re.search(r'id="logout-form".*?name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode(), re.S)
    client.handler.enforce_csrf_checks = True
    answer = client.post(logout.group(1), {"csrfmiddlewaretoken": token.group(1)})
    assert (answer.status_code, answer["Location"]) == (302, "/")  # signed out, not the 403 of a bad token
    assert client.get("/admin/demands/need/").status_code == 302  # signed out: back to the login page


def test_a_community_filter_costs_no_query_once_read_however_many_communities(monkeypatch, street_staff, community_x):
    monkeypatch.setattr(frame, "KEEP_SECONDS", 3600.0)
    NeedFactory(community=community_x)
    client = client_for(street_staff)
    url = reverse("admin:demands_need_changelist")

    def statements() -> int:
        client.get(url)  # reads the communities (again) after a change
        with CaptureQueriesContext(connection) as captured:
            html = client.get(url).content.decode()
        assert not any('FROM "members_community"' in q["sql"] for q in captured.captured_queries)
        return len(captured.captured_queries), html

    few, _html = statements()
    for n in range(40):  # past LINKS_MAX: the filter becomes one <select>
        CommunityFactory(name=f"新社区{n}")
    many, html = statements()
    assert few == many
    assert "新社区39</option>" in html  # a community added a moment ago is offered at once


def test_the_community_chosen_is_selected_among_the_kept_options(street_staff, community_x):
    for n in range(40):
        CommunityFactory(name=f"新社区{n}")
    client = client_for(street_staff)
    url = reverse("admin:demands_need_changelist")
    client.get(url)
    html = client.get(url, {"community__id__exact": str(community_x.pk)}).content.decode()
    assert f'<option value="{community_x.pk}" selected>' in html
    assert '<option value="" selected>全部</option>' not in html
    plain = client.get(url).content.decode()
    assert '<option value="" selected>全部</option>' in plain and " selected>新社区" not in plain


def test_a_kept_header_counts_my_unread_notifications_on_every_page(street_staff):
    client = client_for(street_staff)
    url = reverse("admin:demands_need_changelist")
    assert "通知 (0)" in _page(client, url, "zh-hans")
    Notification.objects.create(recipient=street_staff, subject="新的派单", body="")
    assert "通知 (1)" in _page(client, url, "zh-hans")


@pytest.mark.django_db
def test_a_scope_with_no_rows_offers_nothing_and_costs_no_query():
    """District staff run no community's work: their filter's queryset is `pk__in` an empty set, which has
    no SQL (EmptyResultSet) and so no key; it offers nothing rather than failing the whole list."""
    from members.models import Community

    CommunityFactory()
    with CaptureQueriesContext(connection) as captured:
        choices = frame.scoped_choices(Community.objects.filter(pk__in=frozenset()), links_max=30)
    assert (choices.count, choices.pairs, choices.options) == (0, (), "")
    assert len(captured) == 0
