"""A unit's life through the API (issue 13): its application (made on the public portal form, the only
place a unit applies) approved or rejected by its community's staff, its profile kept by its liaison,
its withdrawal recorded — each step refused to the wrong role, 409 from the wrong status, 400 for bad
input with nothing changed."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from alliance import public_figures
from members.models import MemberUnit, UnitMembership

from ..api import api_client as _api

NOT_ALLOWED = "您没有执行该操作的权限。"
STAFF_ONLY = "只有街道或社区工作人员可以执行此操作。"
APPLICATION = {
    "name": "柳巷书香文化公司",
    "credit_code": "91350100M000100Y43",
    "unit_type": "private_enterprise",
    "level": "district",
    "address": "柳巷88号",
    "party_org_name": "柳巷书香文化公司党支部",
    "party_org_kind": "branch",
    "secretary_name": "赵敏",
    "liaison_name": "孙丽",
    "liaison_phone": "13712345678",
    "liaison_email": "sunli@example.org",
    "party_member_count": "5",
    "agree": "on",
}


def _apply(community, **changes) -> MemberUnit:
    response = Client().post(reverse("portal:unit_apply"), {**APPLICATION, "community": community.pk, **changes})
    assert response.status_code == 302
    return MemberUnit.objects.get(name=changes.get("name", APPLICATION["name"]))


def _units_figure() -> int:
    public_figures.refresh()  # what the beat does after a service marked the figures changed
    return APIClient().get("/api/v1/public/stats/").json()["units"]


def test_an_application_is_approved_kept_and_withdrawn_through_the_api(cast, community_x, unit_a):
    staff, liaison_a = _api(cast["community_x_staff"]), _api(cast["liaison_a"])
    units_before = _units_figure()
    unit = _apply(community_x)
    url = f"/api/v1/units/{unit.pk}/"

    # Not the other community's staff's, nor any liaison's or member's: not found.
    for role in ("liaison_a", "liaison_b", "community_y_staff", "member"):
        assert _api(cast[role]).post(url + "approve/").status_code == 404, role
    applied = staff.get("/api/v1/units/", {"status": "applied"}).json()["results"]
    assert [row["id"] for row in applied] == [unit.pk]
    response = staff.post(url + "reject/", {"reason": "  "}, format="json")
    assert (response.status_code, response.json()) == (400, {"reason": ["该字段不能为空。"]})
    response = staff.post(url + "withdraw/")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "只有在“已加入”状态下才能撤回，当前状态为“待审核”。"},
    )
    assert MemberUnit.objects.get(pk=unit.pk).status == MemberUnit.Status.APPLIED

    approved = staff.post(url + "approve/")
    assert approved.status_code == 200, approved.content
    assert (approved.json()["status"], approved.json()["joined_on"]) == ("active", str(timezone.localdate()))
    assert _units_figure() == units_before + 1
    response = staff.post(url + "reject/", {"reason": "重复申请"}, format="json")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "只有在“待审核”状态下才能驳回，当前状态为“已加入”。"},
    )
    # Its liaison signs in with the account approval made (user name: the liaison's phone).
    liaison = get_user_model().objects.get(username=APPLICATION["liaison_phone"])
    assert UnitMembership.objects.filter(unit=unit, user=liaison).exists()
    own = _api(liaison)

    # The portal's profile form: the liaison changes the profile, not the street's record of the unit.
    changed = own.patch(url, {"secretary_name": "李明", "party_member_count": 7}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["secretary_name"], changed.json()["party_member_count"]) == ("李明", 7)
    response = own.patch(url, {"name": "改名公司", "secretary_name": "王强"}, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": "您无权修改以下字段：name"})
    response = own.patch(url, {"liaison_phone": "12345"}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"liaison_phone"}
    assert MemberUnit.objects.filter(pk=unit.pk, name=APPLICATION["name"], secretary_name="李明").exists()
    # Another unit's liaison does not find it; the other community's staff neither.
    assert liaison_a.patch(url, {"secretary_name": "x"}, format="json").status_code == 404
    assert _api(cast["community_y_staff"]).patch(url, {"secretary_name": "x"}, format="json").status_code == 404
    # Staff change the record too.
    assert staff.patch(url, {"level": "city"}, format="json").json()["level"] == "city"

    # Leaving the alliance is recorded by staff; the liaison is told no.
    response = own.post(url + "withdraw/", {"reason": "迁出本街道"}, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": STAFF_ONLY})
    assert liaison_a.post(url + "withdraw/", {"reason": "迁出本街道"}, format="json").status_code == 404
    assert MemberUnit.objects.get(pk=unit.pk).status == MemberUnit.Status.ACTIVE
    withdrawn = staff.post(url + "withdraw/", {"reason": "迁出本街道"}, format="json")
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    assert _units_figure() == units_before
    # Its accounts lose access to it (a fresh sign-in: the scope is kept per user object, per request).
    assert _api(get_user_model().objects.get(pk=liaison.pk)).get(url).status_code == 404
    response = staff.post(url + "withdraw/")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "只有在“已加入”状态下才能撤回，当前状态为“已退出”。"},
    )


def test_a_rejected_application_tells_the_reason_and_makes_no_account(cast, community_x, unit_a):
    unit = _apply(community_x)
    url = f"/api/v1/units/{unit.pk}/reject/"
    # An active unit's own liaison is refused the staff's decision (unit_a is liaison_a's).
    response = _api(cast["liaison_a"]).post(f"/api/v1/units/{unit_a.pk}/approve/")
    assert (response.status_code, response.json()) == (403, {"detail": STAFF_ONLY})
    response = _api(cast["liaison_a"]).post(f"/api/v1/units/{unit_a.pk}/reject/", {"reason": "x"}, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": STAFF_ONLY})
    response = _api(cast["street_staff"]).post(url, {}, format="json")
    assert (response.status_code, response.json()) == (400, {"reason": ["该字段是必填项。"]})
    rejected = _api(cast["street_staff"]).post(url, {"reason": "信用代码与执照不符"}, format="json")
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    unit.refresh_from_db()
    assert unit.review_note == "信用代码与执照不符"
    assert not get_user_model().objects.filter(username=APPLICATION["liaison_phone"]).exists()
    response = _api(cast["street_staff"]).post(f"/api/v1/units/{unit.pk}/approve/")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "只有在“待审核”状态下才能批准，当前状态为“申请未通过”。"},
    )
