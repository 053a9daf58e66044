from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ..api import api_client as _api
from ..conftest import client_for
from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize(
    ("url", "who", "expected"),
    [
        # (the user's groups from the cache) count + page (units joined to community and sector)
        ("/api/v1/units/", "street_staff", 2),
        # (the user's groups from the cache) the communities they administer + the units they are liaison of (guardian) + count + page
        ("/api/v1/units/", "community_x_staff", 4),
        ("/api/v1/units/", "liaison_a", 3),  # (the user's groups from the cache) their units (guardian) + count + page
        ("/api/v1/communities/", None, 2),  # count + page joined to street
        ("/api/v1/categories/", None, 2),
        ("/api/v1/streets/", "street_staff", 2),  # count + page with annotated counts
    ],
)
def test_list_endpoints_query_count_does_not_grow_with_rows(url, who, expected, cast, community_x):
    user = cast[who] if who else None
    client = _api(user)

    def grow(n):
        MemberUnitFactory.create_batch(n, community=community_x)
        CategoryFactory.create_batch(n)
        CommunityFactory.create_batch(n)

    grow(2)
    client.get(url)  # warm the process-wide caches (content types) that a running server has warm
    if user is not None:
        # a fresh user object each time, as each request has; permission caches live on it
        client.force_authenticate(type(user).objects.get(pk=user.pk))
    few = _count(client, url)
    grow(30)
    if user is not None:
        client.force_authenticate(type(user).objects.get(pk=user.pk))
    many = _count(client, url)
    assert few == many == expected


def test_token_auth_then_the_caller_describes_itself(liaison_a, unit_a):
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "liaison_a", "password": "pw-for-tests-2026"})
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/").json()
    assert me["username"] == "liaison_a"
    assert me["is_staff"] is False
    assert "liaison" in me["roles"]
    assert me["units"] == [{"id": unit_a.pk, "name": unit_a.name, "role": "liaison"}]
    assert me["communities"] == []
    assert set(me) >= {"member", "calendar_url"}


def test_wrong_password_gets_400_with_a_message(liaison_a):
    response = APIClient().post("/api/v1/auth/token/", {"username": "liaison_a", "password": "nope"})
    assert response.status_code == 400
    assert response.json()["non_field_errors"]


def test_me_for_community_staff_lists_their_communities(community_x_staff, community_x):
    me = _api(community_x_staff).get("/api/v1/me/").json()
    assert me["roles"] == ["community_staff"]
    assert me["communities"] == [{"id": community_x.pk, "name": community_x.name}]


def test_me_needs_sign_in():
    # No credentials at all: DRF answers 403 (session authentication comes first, and sends no challenge).
    assert APIClient().get("/api/v1/me/").status_code == 403


def test_filters_and_search(street_staff, community_x, community_y):
    MemberUnitFactory(name="山西饭店", community=community_x, unit_type="state_enterprise", level="province")
    MemberUnitFactory(name="柳巷小学", community=community_y, unit_type="school", level="district")
    client = _api(street_staff)

    def names(query):
        return {row["name"] for row in client.get(f"/api/v1/units/?{query}").json()["results"]}

    assert names(f"community={community_x.pk}") == {"山西饭店"}
    assert names("type=school") == {"柳巷小学"}
    assert names("level=province") == {"山西饭店"}
    assert names("search=小学") == {"柳巷小学"}
    assert names("status=applied") == set()


def test_bad_filter_values_answer_400_not_500(street_staff):
    client = _api(street_staff)
    # Filter values that are not choices are field errors; a page that does not exist is 404; a page size
    # or ordering the API does not know is ignored.
    answers = {
        "community=abc": 400,
        "type=spaceship": 400,
        "status=%00": 400,
        "page=-1": 404,
        "page_size=abc": 200,
        "ordering=password": 200,
    }
    for query, status in answers.items():
        response = client.get(f"/api/v1/units/?{query}")
        assert response.status_code == status, (query, response.status_code)


def test_page_size_is_capped_at_200(street_staff, community_x):
    MemberUnitFactory.create_batch(205, community=community_x)
    body = _api(street_staff).get("/api/v1/units/?page_size=1000").json()
    assert body["count"] == 205 and len(body["results"]) == 200


def test_invalid_unit_data_gets_field_errors(street_staff, community_x):
    response = _api(street_staff).post(
        "/api/v1/units/",
        {"name": "", "credit_code": "123", "unit_type": "x", "level": "city", "community": community_x.pk},
        format="json",
    )
    assert response.status_code == 400
    assert {"name", "credit_code", "unit_type", "liaison_phone"} <= set(response.json())


def test_public_reference_data_needs_no_sign_in(community_x):
    CategoryFactory(name="医疗健康")
    assert APIClient().get("/api/v1/communities/").json()["results"][0]["name"] == community_x.name
    assert any(row["name"] == "医疗健康" for row in APIClient().get("/api/v1/categories/").json()["results"])
    assert APIClient().post("/api/v1/categories/", {"name": "x"}).status_code == 405


def test_openapi_schema_and_docs_are_served(db):
    schema = APIClient().get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/v1/units/", "/api/v1/communities/", "/api/v1/categories/", "/api/v1/me/", "/api/v1/auth/token/"):
        assert path in text
    # The docs page works on a network with no internet: every script, style sheet and image it loads is
    # served by the platform itself (checked on the addresses, not on the text: a CSRF token or a hash
    # may well contain "cdn").
    docs = APIClient().get("/api/docs/").content.decode()
    loaded = re.findall(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", docs)
    assert loaded, "the docs page loads its scripts"
    assert [url for url in loaded if urlsplit(url).netloc or urlsplit(url).scheme] == []


@pytest.mark.parametrize(
    "url", ["/api/v1/", "/api/v1/units/", "/api/v1/communities/", "/api/v1/streets/", "/api/v1/me/"]
)
def test_browsable_api_pages_render_for_staff(url, street_staff, unit_a):
    response = client_for(street_staff).get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]


def test_the_openapi_schema_builds_without_warnings(db, tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    text = (tmp_path / "schema.yml").read_text()
    for path in ("/api/v1/needs/{id}/dispatch/", "/api/v1/public/needs/{tracking_code}/", "/api/v1/public/stats/"):
        assert path in text
