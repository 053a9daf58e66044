"""The permission matrix for member units, over portal pages, API endpoints and admin pages.

unit_a lies in community_x (liaison_a's unit), unit_b in community_y (liaison_b's). What a user may not
see answers 404, so that existence does not leak."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from members.models import MemberUnit

from ..conftest import client_for

SEES_A = {"liaison_a", "community_x_staff", "street_staff"}
CHANGES_ALL_OF_A = {"community_x_staff", "street_staff"}  # staff: the whole record
ADMIN_USERS = {"community_x_staff", "community_y_staff", "street_staff"}


def api_client(user) -> APIClient:
    client = APIClient()
    if user.is_authenticated:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    "who",
    ["anonymous", "liaison_a", "liaison_b", "community_x_staff", "community_y_staff", "street_staff", "member"],
)
class TestUnitMatrix:
    def test_portal_unit_page(self, who, cast, unit_a):
        response = client_for(cast[who]).get(reverse("portal:unit_detail", args=[unit_a.pk]))
        if who == "anonymous":
            assert response.status_code == 302 and "/portal/login/" in response["Location"]
        elif who in SEES_A:
            assert response.status_code == 200
            assert unit_a.name in response.content.decode()
        else:
            assert response.status_code == 404

    def test_portal_profile_edit(self, who, cast, unit_a):
        url = reverse("portal:unit_edit", args=[unit_a.pk])
        form = {
            "address": "柳巷1号",
            "description": "",
            "party_org_name": "山西饭店党总支",
            "party_org_kind": "general_branch",
            "secretary_name": "卫旭华",
            "liaison_name": "王芳",
            "liaison_phone": "13812345678",
            "liaison_email": "",
            "party_member_count": "68",
        }
        response = client_for(cast[who]).post(url, form)
        unit_a.refresh_from_db()
        if who == "anonymous":
            assert response.status_code == 302 and "/portal/login/" in response["Location"]
            assert unit_a.address != "柳巷1号"
        elif who in SEES_A:
            assert response.status_code == 302
            assert unit_a.address == "柳巷1号" and unit_a.party_member_count == 68
        else:
            assert response.status_code == 404
            assert unit_a.address != "柳巷1号"

    def test_api_retrieve(self, who, cast, unit_a):
        response = api_client(cast[who]).get(f"/api/v1/units/{unit_a.pk}/")
        if who == "anonymous":
            assert response.status_code == 403  # no credentials: DRF sends no challenge, so 403
        elif who in SEES_A:
            assert response.status_code == 200
            assert response.json()["name"] == unit_a.name
        else:
            assert response.status_code == 404

    def test_api_list_shows_exactly_the_visible_units(self, who, cast, unit_a, unit_b):
        response = api_client(cast[who]).get("/api/v1/units/")
        if who == "anonymous":
            assert response.status_code == 403  # no credentials: DRF sends no challenge, so 403
            return
        names = {row["name"] for row in response.json()["results"]}
        expected = {
            "liaison_a": {unit_a.name},
            "liaison_b": {unit_b.name},
            "community_x_staff": {unit_a.name},
            "community_y_staff": {unit_b.name},
            "street_staff": {unit_a.name, unit_b.name},
            "member": set(),
        }[who]
        assert names == expected

    def test_api_profile_change(self, who, cast, unit_a):
        response = api_client(cast[who]).patch(f"/api/v1/units/{unit_a.pk}/", {"address": "府东街2号"}, format="json")
        unit_a.refresh_from_db()
        if who == "anonymous":
            assert response.status_code == 403  # no credentials: DRF sends no challenge, so 403
        elif who in SEES_A:
            assert response.status_code == 200, response.content
            assert unit_a.address == "府东街2号"
        else:
            assert response.status_code == 404
        if who not in SEES_A:
            assert unit_a.address != "府东街2号"

    def test_api_record_change_is_for_staff_only(self, who, cast, unit_a):
        response = api_client(cast[who]).patch(f"/api/v1/units/{unit_a.pk}/", {"name": "改名"}, format="json")
        unit_a.refresh_from_db()
        if who in CHANGES_ALL_OF_A:
            assert response.status_code == 200
            assert unit_a.name == "改名"
        else:
            assert unit_a.name != "改名"
            if who == "anonymous":
                assert response.status_code == 403  # no credentials: DRF sends no challenge, so 403
            elif who == "liaison_a":
                assert response.status_code == 403  # sees the unit, may change only its profile
            else:
                assert response.status_code == 404

    def test_admin_change_page(self, who, cast, unit_a):
        response = client_for(cast[who]).get(reverse("admin:members_memberunit_change", args=[unit_a.pk]))
        if who in CHANGES_ALL_OF_A:
            assert response.status_code == 200
            assert unit_a.name in response.content.decode()
        elif who in ADMIN_USERS:
            # An object outside the user's queryset answers 404, as a missing id does (ScopedAdminMixin).
            assert response.status_code == 404
            assert unit_a.name not in response.content.decode()
        else:
            assert response.status_code == 302 and "/admin/login/" in response["Location"]

    def test_admin_changelist_lists_only_own_communities(self, who, cast, unit_a, unit_b):
        response = client_for(cast[who]).get(reverse("admin:members_memberunit_changelist"))
        if who not in ADMIN_USERS:
            assert response.status_code == 302
            return
        assert response.status_code == 200
        shown = {u.name for u in response.context["cl"].result_list}
        expected = {
            "community_x_staff": {unit_a.name},
            "community_y_staff": {unit_b.name},
            "street_staff": {unit_a.name, unit_b.name},
        }[who]
        assert shown == expected


def test_staff_cannot_grant_themselves_object_permissions(cast, unit_a, street_staff, community_x_staff):
    for user in (street_staff, community_x_staff):
        client = client_for(user)
        # guardian's object-permission screens are not mounted on any ModelAdmin
        # (the address is taken for Django's old object address and ends at "not found")
        response = client.get(f"/admin/members/memberunit/{unit_a.pk}/permissions/", follow=True)
        assert response.status_code == 404
        # and users, groups and permissions are for superusers only: their lists say so, a page of one
        # account answers 404 like a missing one
        assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
        assert client.get(reverse("admin:auth_user_change", args=[user.pk])).status_code == 404
        assert client.get(reverse("admin:auth_group_changelist")).status_code == 403


def test_community_staff_cannot_move_a_unit_into_another_community(community_x_staff, unit_a, community_y):
    response = api_client(community_x_staff).patch(
        f"/api/v1/units/{unit_a.pk}/", {"community": community_y.pk}, format="json"
    )
    assert response.status_code == 403
    unit_a.refresh_from_db()
    assert unit_a.community_id != community_y.pk


def test_community_staff_record_units_only_in_their_community(community_x_staff, community_x, community_y):
    payload = {
        "name": "新单位",
        "credit_code": "",
        "unit_type": "military",
        "level": "city",
        "liaison_name": "李强",
        "liaison_phone": "13912345678",
    }
    client = api_client(community_x_staff)
    assert client.post("/api/v1/units/", {**payload, "community": community_y.pk}, format="json").status_code == 403
    assert not MemberUnit.objects.filter(name="新单位").exists()
    response = client.post("/api/v1/units/", {**payload, "community": community_x.pk}, format="json")
    assert response.status_code == 201, response.content
    assert MemberUnit.objects.get(name="新单位").status == MemberUnit.Status.ACTIVE


def test_liaisons_cannot_record_units(liaison_a, community_x):
    response = api_client(liaison_a).post(
        "/api/v1/units/",
        {"name": "x", "unit_type": "other", "level": "city", "community": community_x.pk},
        format="json",
    )
    assert response.status_code == 403
