from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from ..api import api_client as _api
from ..factories import UserFactory
from .factories import PartyMemberFactory, PostFactory, ServiceLogFactory


def test_phones_in_full_only_for_the_member_and_their_community_staff(cast, community_x, member, unit_a):
    registration = PartyMemberFactory(
        residence_community=community_x, user=member, phone="13612345678", work_unit=unit_a
    )
    for who, phone in (
        ("member", "13612345678"),
        ("community_x_staff", "13612345678"),
        ("street_staff", "13612345678"),
        ("liaison_a", "136****5678"),
    ):
        rows = _api(cast[who]).get("/api/v1/members/").json()["results"]
        row = next(r for r in rows if r["id"] == registration.pk)
        assert row["phone"] == phone, who
        assert {"id", "name", "phone", "work_unit", "residence_community", "status"} <= set(row)
    assert _api(cast["community_y_staff"]).get(f"/api/v1/members/{registration.pk}/").status_code == 404
    assert _api(cast["liaison_b"]).get(f"/api/v1/members/{registration.pk}/").status_code == 404


def test_member_filters(street_staff, community_x, community_y):
    a = PartyMemberFactory(residence_community=community_x)
    PartyMemberFactory(residence_community=community_y, status="pending")
    client = _api(street_staff)
    assert [r["id"] for r in client.get(f"/api/v1/members/?community={community_x.pk}").json()["results"]] == [a.pk]
    assert len(client.get("/api/v1/members/?status=pending").json()["results"]) == 1
    assert [r["id"] for r in client.get(f"/api/v1/members/?work_unit={a.work_unit_id}").json()["results"]] == [a.pk]


def test_post_claims_over_the_api(community_x, member):
    PartyMemberFactory(residence_community=community_x, user=member)
    post = PostFactory(community=community_x, places=1)
    client = _api(member)
    response = client.post(f"/api/v1/posts/{post.pk}/claims/")
    assert response.status_code == 201
    assert client.post(f"/api/v1/posts/{post.pk}/claims/").status_code == 409  # already held
    other = UserFactory(username="o")
    PartyMemberFactory(residence_community=community_x, user=other)
    response = _api(other).post(f"/api/v1/posts/{post.pk}/claims/")
    assert response.status_code == 409 and response.json()["detail"]  # full
    row = client.get(f"/api/v1/posts/{post.pk}/").json()
    assert row["places"] == 1 and row["places_left"] == 0


def test_service_logs_over_the_api(cast, community_x, member):
    registration = PartyMemberFactory(residence_community=community_x, user=member)
    body = {"member": registration.pk, "date": "2026-06-01", "hours": "2.5", "description": "助老陪诊"}
    response = _api(member).post("/api/v1/service-logs/", body, format="json")
    assert response.status_code == 201 and response.json()["verified"] is False
    log_id = response.json()["id"]
    assert _api(member).post(f"/api/v1/service-logs/{log_id}/verify/").status_code == 403
    assert _api(cast["community_x_staff"]).post(f"/api/v1/service-logs/{log_id}/verify/").json()["verified"] is True
    assert _api(member).post("/api/v1/service-logs/", {**body, "hours": "30"}, format="json").status_code == 400


def test_list_endpoints_query_count_does_not_grow_with_rows(community_x_staff, community_x):
    client = _api(community_x_staff)

    def count(url) -> int:
        client.force_authenticate(type(community_x_staff).objects.get(pk=community_x_staff.pk))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def grow(n):
        for _ in range(n):
            ServiceLogFactory(member=PartyMemberFactory(residence_community=community_x), hours=Decimal("1"))
            PostFactory(community=community_x)

    grow(1)
    for url in ("/api/v1/members/", "/api/v1/posts/", "/api/v1/service-logs/"):
        client.get(url)
    few = {url: count(url) for url in ("/api/v1/members/", "/api/v1/posts/", "/api/v1/service-logs/")}
    grow(10)
    many = {url: count(url) for url in few}
    assert few == many
    # communities administered (guardian) + units of liaison (guardian) + count + page (the groups from the cache)
    assert few["/api/v1/members/"] == 4
