"""Needs and resources through the API alone (issue 13): a unit's liaison files the unit's own need, which
the community's staff dispatch and another unit serves to completion; a unit's resource published,
changed, withdrawn and restored — each step refused to the wrong role, 409 from the wrong status, 400 for
bad input with nothing changed."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from alliance import public_figures
from demands.models import Need, Resource

from ..api import api_client as _api
from ..factories import CategoryFactory

NOT_ALLOWED = "您没有执行该操作的权限。"
REQUIRED = ["该字段是必填项。"]


def _stats() -> dict:
    public_figures.refresh()  # what the beat does after a service marked the figures changed
    return APIClient().get("/api/v1/public/stats/").json()


def _showcase() -> list:
    public_figures.refresh()
    return APIClient().get("/api/v1/public/showcase/").json()["results"]


@pytest.fixture
def category():
    return CategoryFactory(name="助老服务")


def test_a_liaison_files_the_units_own_need_and_it_is_served_to_the_end(cast, category, community_x, unit_a, unit_b):
    liaison_a, liaison_b = _api(cast["liaison_a"]), _api(cast["liaison_b"])
    staff = _api(cast["community_x_staff"])
    before = _stats()
    body = {"category": category.pk, "title": "职工子女暑期托管", "description": "暑期需要志愿者协助托管20名职工子女。"}

    # Not a unit's liaison, not staff: refused before anything is read.
    response = _api(cast["member"]).post("/api/v1/needs/", body, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": NOT_ALLOWED})
    # Bad input: field errors, nothing stored.
    response = liaison_a.post("/api/v1/needs/", {"title": "x"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "category": REQUIRED,
        "title": ["请确保这个字段至少包含 2 个字符。"],
        "description": REQUIRED,
    }
    response = liaison_a.post("/api/v1/needs/", {**body, "from_unit": 999999}, format="json")
    assert (response.status_code, response.json()) == (400, {"from_unit": ["成员单位不存在。"]})
    # Another unit is not theirs to file for: not even found.
    assert liaison_a.post("/api/v1/needs/", {**body, "from_unit": unit_b.pk}, format="json").status_code == 404
    assert not Need.objects.exists()

    filed = liaison_a.post("/api/v1/needs/", body, format="json")
    assert filed.status_code == 201, filed.content
    need = Need.objects.get()
    assert (filed.json()["id"], filed.json()["kind"], filed.json()["status"]) == (need.pk, "unit", "submitted")
    assert (filed.json()["community"], filed.json()["channel"], filed.json()["tracking_code"]) == (
        community_x.pk,
        "api",
        need.tracking_code,
    )
    # Written in the liaison's name; the contact is the unit's liaison on record.
    assert need.history.get().history_user == cast["liaison_a"]
    assert (need.contact_name, need.contact_phone) == (unit_a.liaison_name, unit_a.liaison_phone)
    assert _stats()["needs"] == before["needs"] + 1

    # The community's staff find it among the unit needs, with the contact in full.
    rows = staff.get("/api/v1/needs/", {"kind": "unit"}).json()["results"]
    assert [(row["id"], row["contact_phone"]) for row in rows] == [(need.pk, unit_a.liaison_phone)]
    url = f"/api/v1/needs/{need.pk}/"
    assert (
        _api(cast["community_y_staff"]).post(url + "dispatch/", {"unit": unit_b.pk}, format="json").status_code == 404
    )
    dispatched = staff.post(url + "dispatch/", {"unit": unit_b.pk}, format="json")
    assert (dispatched.status_code, dispatched.json()["status"]) == (200, "dispatched")
    response = liaison_b.post(url + "complete/", {"result": "已安排"}, format="json")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "只有在“已接单”状态下才能完成，当前状态为“已派单”。"},
    )
    assert liaison_b.post(url + "accept/").json()["status"] == "accepted"
    completed = liaison_b.post(url + "complete/", {"result": "安排志愿者8人次托管"}, format="json")
    assert (completed.status_code, completed.json()["status"]) == (200, "completed")
    assert _stats()["needs_completed"] == before["needs_completed"] + 1

    # 晒单, and taken off again (the admin's showcase / unshowcase actions): staff's, not the unit's.
    assert staff.post(url + "showcase/").json()["showcased_at"] is not None
    assert [row["title"] for row in _showcase()] == ["职工子女暑期托管"]
    response = liaison_b.post(url + "unshowcase/")
    assert (response.status_code, response.json()) == (403, {"detail": NOT_ALLOWED})
    assert _api(cast["community_y_staff"]).post(url + "unshowcase/").status_code == 404
    taken_off = staff.post(url + "unshowcase/")
    assert (taken_off.status_code, taken_off.json()["showcased_at"]) == (200, None)
    assert _showcase() == []


def test_a_liaison_of_several_units_names_the_one_that_files(cast, category, community_y, unit_a, root):
    from members import services as member_services

    from ..factories import MemberUnitFactory

    second = MemberUnitFactory(community=community_y)
    member_services.unit_membership_add(unit=second, user=cast["liaison_a"], actor=root)
    body = {"category": category.pk, "title": "会议室借用", "description": "需要借用一间会议室开展党日活动。"}
    client = _api(cast["liaison_a"])
    response = client.post("/api/v1/needs/", body, format="json")
    assert (response.status_code, response.json()) == (400, {"from_unit": ["请指明由您的哪个单位提交该需求。"]})
    assert not Need.objects.exists()
    filed = client.post(
        "/api/v1/needs/", {**body, "from_unit": second.pk, "contact_phone": "13912345678"}, format="json"
    )
    assert filed.status_code == 201, filed.content
    assert Need.objects.filter(community=community_y, kind="unit", contact_phone="13912345678").count() == 1


def test_a_resource_is_published_changed_withdrawn_and_restored_through_the_api(cast, category, unit_a):
    liaison = _api(cast["liaison_a"])
    before = _stats()["resources"]
    body = {"unit": unit_a.pk, "category": category.pk, "kind": "venue", "title": "职工活动室", "is_free": True}
    created = liaison.post("/api/v1/resources/", body, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    url = f"/api/v1/resources/{pk}/"
    assert _stats()["resources"] == before + 1

    # The portal's edit form: its unit's liaison; not another unit's, not the other community's staff.
    changed = liaison.patch(url, {"availability": "周六 9:00-17:00", "capacity": 40}, format="json")
    assert (changed.status_code, changed.json()["capacity"]) == (200, 40)
    for role in ("liaison_b", "community_y_staff", "member"):
        response = _api(cast[role]).patch(url, {"capacity": 1}, format="json")
        assert (response.status_code, response.json()) == (403, {"detail": NOT_ALLOWED}), role
    response = liaison.patch(url, {"capacity": -1}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["capacity"]
    assert Resource.objects.get(pk=pk).capacity == 40

    response = liaison.post(url + "restore/")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "只有在“已下架”状态下才能恢复，当前状态为“可提供”。"},
    )
    response = _api(cast["community_y_staff"]).post(url + "withdraw/")
    assert (response.status_code, response.json()) == (403, {"detail": NOT_ALLOWED})
    withdrawn = liaison.post(url + "withdraw/")
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    assert _stats()["resources"] == before
    assert [row["id"] for row in liaison.get("/api/v1/resources/", {"status": "withdrawn"}).json()["results"]] == [pk]

    # Withdrawn, it is its unit's and its community's and street's staff's to see: another unit's liaison
    # and another community's staff do not find it.
    assert _api(cast["liaison_b"]).post(url + "restore/").status_code == 404
    assert _api(cast["community_y_staff"]).post(url + "restore/").status_code == 404
    restored = liaison.post(url + "restore/")
    assert (restored.status_code, restored.json()["status"]) == (200, "active")
    assert _stats()["resources"] == before + 1
