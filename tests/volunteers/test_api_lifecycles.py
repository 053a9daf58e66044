"""Issue 13: the volunteers' workflows driven end to end through the API alone — registration (双报到),
posts, micro-wishes and service hours — as the right roles, each step tried as a wrong role (exact status
and message, nothing changed), from the wrong state (409) and with bad input (400)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from alliance import public_figures
from demands.models import Need
from volunteers.models import PartyMember, PostClaim, ServiceLog, VolunteerPost

from ..api import api_client as _api
from ..demands.factories import NeedFactory
from ..factories import UserFactory
from .factories import PartyMemberFactory, ServiceLogFactory

NOT_ALLOWED = "您没有执行该操作的权限。"
REQUIRED = "该字段是必填项。"


def _stats() -> dict:
    public_figures.refresh()  # the beat entry that follows every service's `changed()`
    return APIClient().get("/api/v1/public/stats/").json()


def _refused(response, code: int, detail) -> None:
    assert (response.status_code, response.json()) == (code, detail)


def _hidden(response) -> None:
    """Not seen: 404 (its wording is the API's generic one, translated with every API error)."""
    assert response.status_code == 404


# --- Registration (双报到) -------------------------------------------------------------------------


def test_a_registration_is_made_verified_corrected_and_moved_through_the_api(cast, community_x, community_y, unit_a):
    member = _api(cast["member"])
    staff = _api(cast["community_x_staff"])
    members_before = _stats()["members"]

    body = {"name": "李明", "phone": "13912345678", "work_unit": unit_a.pk, "residence_community": community_x.pk}
    response = member.post("/api/v1/members/", body, format="json")
    assert response.status_code == 201
    registration = response.json()
    assert (registration["status"], registration["phone"], registration["residence_community"]) == (
        "pending",
        "13912345678",
        community_x.pk,
    )
    pk = registration["id"]
    url = f"/api/v1/members/{pk}/"
    _refused(member.post("/api/v1/members/", body, format="json"), 409, {"detail": "该手机号码已在本社区报到。"})
    _refused(
        member.post(
            "/api/v1/members/", {**body, "phone": "1234", "residence_community": community_y.pk}, format="json"
        ),
        400,
        {"phone": ["请输入11位中国大陆手机号码，例如 13812345678。"]},
    )
    assert PartyMember.objects.filter(phone="1234").exists() is False

    # Verifying: the community's staff; the member, their work unit's liaison (who sees it) may not.
    _refused(member.post(f"{url}verify/"), 403, {"detail": NOT_ALLOWED})
    _refused(_api(cast["liaison_a"]).post(f"{url}verify/"), 403, {"detail": NOT_ALLOWED})
    _hidden(_api(cast["community_y_staff"]).post(f"{url}verify/"))
    _refused(staff.post(f"{url}reject/", {}, format="json"), 400, {"reason": [REQUIRED]})
    assert PartyMember.objects.get(pk=pk).status == PartyMember.Status.PENDING
    response = staff.post(f"{url}verify/")
    assert (response.status_code, response.json()["status"]) == (200, "verified")
    _refused(staff.post(f"{url}verify/"), 409, {"detail": "只有在“待核验”状态下才能核验，当前状态为“已核验”。"})
    _refused(
        staff.post(f"{url}reject/", {"reason": "不是本社区居民"}, format="json"),
        409,
        {"detail": "只有在“待核验”状态下才能驳回，当前状态为“已核验”。"},
    )
    assert _stats()["members"] == members_before + 1
    verified = _api(cast["street_staff"]).get(f"/api/v1/members/?status=verified&community={community_x.pk}")
    assert pk in [row["id"] for row in verified.json()["results"]]

    # Correcting: staff, as the admin's change form; not the member.
    _refused(member.patch(url, {"skills": "维修"}, format="json"), 403, {"detail": NOT_ALLOWED})
    _refused(staff.patch(url, {"name": ""}, format="json"), 400, {"name": ["该字段不能为空。"]})
    response = staff.patch(url, {"skills": "维修", "party_branch": "第二党支部"}, format="json")
    assert (response.status_code, response.json()["skills"], response.json()["party_branch"]) == (
        200,
        "维修",
        "第二党支部",
    )

    # Moving house: the member themself; the work unit's liaison may not.
    _refused(
        _api(cast["liaison_a"]).post(f"{url}move/", {"community": community_y.pk}, format="json"),
        403,
        {"detail": "只有党员本人或其所在社区工作人员可以执行此操作。"},
    )
    _refused(
        member.post(f"{url}move/", {"community": community_x.pk}, format="json"),
        400,
        {"detail": "该党员已在此社区报到。"},
    )
    _refused(
        member.post(f"{url}move/", {"community": 999999}, format="json"),
        400,
        {"community": ["无效主键 “999999” － 对象不存在。"]},
    )
    response = member.post(f"{url}move/", {"community": community_y.pk}, format="json")
    assert response.status_code == 201
    moved = response.json()
    assert (moved["status"], moved["residence_community"], moved["skills"]) == ("pending", community_y.pk, "维修")
    assert PartyMember.objects.get(pk=pk).status == PartyMember.Status.ENDED
    assert _stats()["members"] == members_before
    _refused(
        staff.patch(url, {"skills": "法律"}, format="json"),
        409,
        {"detail": "只有有效的报到才能修改，该报到当前状态为“已迁出”。"},
    )


def test_staff_register_on_behalf_only_where_they_work_and_reject_with_a_reason(cast, community_x, community_y):
    staff = _api(cast["community_x_staff"])
    body = {
        "name": "王芳",
        "phone": "13712340000",
        "work_unit_name": "太原市税务局",
        "residence_community": community_y.pk,
    }
    _refused(staff.post("/api/v1/members/", body, format="json"), 403, {"detail": "只能在您负责的社区为党员办理报到。"})
    _refused(
        staff.post(
            "/api/v1/members/", {**body, "work_unit_name": "", "residence_community": community_x.pk}, format="json"
        ),
        400,
        {"detail": "请选择工作单位；如单位尚未加入党建联盟，请填写单位名称。"},
    )
    assert not PartyMember.objects.filter(phone="13712340000").exists()
    _refused(APIClient().post("/api/v1/members/", body, format="json"), 403, {"detail": "身份认证信息未提供。"})

    response = staff.post("/api/v1/members/", {**body, "residence_community": community_x.pk}, format="json")
    assert (response.status_code, response.json()["status"], response.json()["work_unit"]) == (
        201,
        "pending",
        "太原市税务局",
    )
    url = f"/api/v1/members/{response.json()['id']}/"
    _refused(staff.post(f"{url}reject/", {"reason": ""}, format="json"), 400, {"reason": ["该字段不能为空。"]})
    response = staff.post(f"{url}reject/", {"reason": "不是本社区居民"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "rejected")
    _refused(staff.post(f"{url}verify/"), 409, {"detail": "只有在“待核验”状态下才能核验，当前状态为“未通过”。"})


# --- Posts ----------------------------------------------------------------------------------------


def test_a_post_is_opened_claimed_left_edited_and_closed_through_the_api(cast, community_x, community_y):
    staff = _api(cast["community_x_staff"])
    member = _api(cast["member"])
    PartyMemberFactory(residence_community=community_x, user=cast["member"])
    body = {"community": community_x.pk, "title": "文明劝导岗", "schedule": "每周六上午", "places": 1}

    _refused(_api(cast["liaison_a"]).post("/api/v1/posts/", body, format="json"), 403, {"detail": NOT_ALLOWED})
    _refused(member.post("/api/v1/posts/", body, format="json"), 403, {"detail": NOT_ALLOWED})
    _refused(
        _api(cast["community_y_staff"]).post("/api/v1/posts/", body, format="json"),
        403,
        {"detail": "只能管理您负责社区的志愿服务岗位和志愿服务队。"},
    )
    _refused(
        staff.post("/api/v1/posts/", {**body, "places": 0}, format="json"),
        400,
        {"places": ["请确保该值大于或者等于 1。"]},
    )
    assert not VolunteerPost.objects.exists()
    response = staff.post("/api/v1/posts/", body, format="json")
    assert response.status_code == 201
    post = response.json()
    assert (post["status"], post["places"], post["places_left"]) == ("open", 1, 1)
    url = f"/api/v1/posts/{post['id']}/"

    # Claimed by the member (the only place), then the member gives it back.
    assert member.post(f"{url}claims/").status_code == 201
    other = UserFactory(username="other_member")
    PartyMemberFactory(residence_community=community_x, user=other)
    _refused(_api(other).post(f"{url}claims/"), 409, {"detail": "该岗位名额已满。"})
    _refused(_api(other).post(f"{url}leave/"), 409, {"detail": "您没有认领该岗位。"})
    _refused(staff.patch(url, {"places": 0}, format="json"), 400, {"places": ["请确保该值大于或者等于 1。"]})
    response = staff.patch(url, {"places": 2, "schedule": "每周日上午"}, format="json")
    assert (response.status_code, response.json()["places_left"], response.json()["schedule"]) == (200, 1, "每周日上午")
    assert _api(other).post(f"{url}claims/").status_code == 201
    _refused(
        staff.patch(url, {"places": 1}, format="json"), 400, {"detail": "已有 2 个名额被占用，岗位名额不能少于此数。"}
    )
    _refused(_api(cast["community_y_staff"]).patch(url, {"places": 5}, format="json"), 403, {"detail": NOT_ALLOWED})
    response = member.post(f"{url}leave/")
    assert (response.status_code, response.json()["status"]) == (200, "left")
    assert PostClaim.objects.filter(post_id=post["id"], status="active").count() == 1
    assert member.get(url).json()["places_left"] == 1
    _refused(member.post(f"{url}leave/"), 409, {"detail": "您没有认领该岗位。"})

    # Closing: the post's staff; nobody claims a closed post.
    for who in ("member", "liaison_a", "community_y_staff"):
        _refused(
            _api(cast[who]).post(f"{url}close/"), 403, {"detail": "只能管理您负责社区的志愿服务岗位和志愿服务队。"}
        )
    response = staff.post(f"{url}close/")
    assert (response.status_code, response.json()["status"]) == (200, "closed")
    _refused(staff.post(f"{url}close/"), 409, {"detail": "只有招募中的岗位可以关闭；该岗位当前为已停止招募。"})
    _refused(member.post(f"{url}claims/"), 409, {"detail": "该岗位已关闭。"})
    assert [
        row["id"] for row in member.get(f"/api/v1/posts/?status=open&community={community_x.pk}").json()["results"]
    ] == []


# --- Micro-wishes ---------------------------------------------------------------------------------


def test_a_micro_wish_is_taken_on_and_completed_through_the_api(cast, community_x, community_y):
    PartyMemberFactory(residence_community=community_x, user=cast["member"])
    wish = NeedFactory(kind=Need.Kind.MICRO_WISH, community=community_x, contact_phone="13500001111")
    elsewhere = NeedFactory(kind=Need.Kind.MICRO_WISH, community=community_y)
    member = _api(cast["member"])
    completed_before = _stats()["needs_completed"]

    rows = member.get("/api/v1/wishes/").json()["results"]
    assert [(r["id"], r["status"], r["contact_phone"], r["taken_on_by_me"]) for r in rows] == [
        (wish.pk, "submitted", None, False)
    ]
    url = f"/api/v1/wishes/{wish.pk}/"
    # Not a member of the wish's community, or staff (who follow it as a need): not seen here.
    for who in ("community_x_staff", "liaison_a"):
        _hidden(_api(cast[who]).post(f"{url}take-on/"))
    _hidden(member.post(f"/api/v1/wishes/{elsewhere.pk}/take-on/"))
    pending = UserFactory(username="pending_member")
    PartyMemberFactory(residence_community=community_x, user=pending, status=PartyMember.Status.PENDING)
    _refused(
        _api(pending).post(f"{url}take-on/"),
        403,
        {"detail": "只有在微心愿所在社区报到并通过核验的党员才能认领微心愿。"},
    )
    assert Need.objects.get(pk=wish.pk).status == Need.Status.SUBMITTED

    response = member.post(f"{url}take-on/")
    assert response.status_code == 200
    taken = response.json()
    assert (taken["status"], taken["taken_on_by_me"], taken["contact_phone"]) == ("accepted", True, "13500001111")

    other = UserFactory(username="other_member")
    PartyMemberFactory(residence_community=community_x, user=other)
    assert _api(other).get("/api/v1/wishes/").json()["results"] == []
    _refused(
        _api(other).post(f"{url}take-on/"),
        409,
        {"detail": "只有在“已提交”状态下才能认领微心愿，当前状态为“已接单”。"},
    )
    # Another member of the community does not see who took it on, as in the portal (the needs' rules).
    _hidden(_api(other).post(f"{url}complete/", {"result": "已送达"}, format="json"))
    _refused(member.post(f"{url}complete/", {}, format="json"), 400, {"result": [REQUIRED]})
    response = member.post(f"{url}complete/", {"result": "已送去助听器并教会使用"}, format="json")
    assert (response.status_code, response.json()["status"], response.json()["result"]) == (
        200,
        "completed",
        "已送去助听器并教会使用",
    )
    _refused(
        member.post(f"{url}complete/", {"result": "再次"}, format="json"),
        409,
        {"detail": "只有在“已接单”状态下才能完成微心愿，当前状态为“已完成”。"},
    )
    assert _stats()["needs_completed"] == completed_before + 1
    assert [r["id"] for r in member.get("/api/v1/wishes/?status=completed").json()["results"]] == [wish.pk]


# --- Service hours --------------------------------------------------------------------------------


def test_hours_are_logged_corrected_rejected_or_verified_through_the_api(cast, community_x):
    registration = PartyMemberFactory(residence_community=community_x, user=cast["member"])
    member = _api(cast["member"])
    staff = _api(cast["community_x_staff"])
    hours_before = _stats()["service_hours"]
    body = {"member": registration.pk, "date": "2026-06-01", "hours": "2.5", "description": "助老陪诊"}

    first = member.post("/api/v1/service-logs/", body, format="json").json()
    second = member.post("/api/v1/service-logs/", {**body, "description": "重复登记"}, format="json").json()
    assert (first["verified"], first["rejected"]) == (False, False)
    one, two = f"/api/v1/service-logs/{first['id']}/", f"/api/v1/service-logs/{second['id']}/"

    # Corrected by the member while waiting; not seen by other communities' staff or units.
    _refused(member.patch(one, {"hours": "30"}, format="json"), 400, {"hours": ["确保该值小于或等于24。"]})
    for who in ("community_y_staff", "liaison_a"):
        _hidden(_api(cast[who]).patch(one, {"hours": "3.0"}, format="json"))
    response = member.patch(one, {"hours": "3.0"}, format="json")
    assert (response.status_code, response.json()["hours"]) == (200, "3.0")

    # The member's community staff verify one and reject the other; the member may do neither.
    _refused(member.post(f"{one}verify/"), 403, {"detail": NOT_ALLOWED})
    _refused(member.post(f"{two}reject/", {"reason": "重复"}, format="json"), 403, {"detail": NOT_ALLOWED})
    _hidden(_api(cast["community_y_staff"]).post(f"{one}verify/"))
    _refused(staff.post(f"{two}reject/", {}, format="json"), 400, {"reason": [REQUIRED]})
    assert ServiceLog.objects.get(pk=second["id"]).rejected_at is None
    assert staff.post(f"{one}verify/").json()["verified"] is True
    response = staff.post(f"{two}reject/", {"reason": "同一天重复登记"}, format="json")
    assert (response.status_code, response.json()["rejected"], response.json()["reject_reason"]) == (
        200,
        True,
        "同一天重复登记",
    )
    _refused(staff.post(f"{two}verify/"), 409, {"detail": "该服务时长已被驳回，不能再审核通过。"})
    _refused(staff.post(f"{two}reject/", {"reason": "x"}, format="json"), 409, {"detail": "该服务时长已被驳回。"})
    _refused(staff.post(f"{one}reject/", {"reason": "x"}, format="json"), 409, {"detail": "该服务时长已核验。"})
    for url in (one, two):
        _refused(member.patch(url, {"hours": "1.0"}, format="json"), 409, {"detail": "只有待审核的服务时长可以修改。"})

    # Only the verified hours count; the rejected ones are listed apart.
    assert _stats()["service_hours"] == hours_before + 3.0
    assert [r["id"] for r in staff.get("/api/v1/service-logs/?rejected=true").json()["results"]] == [second["id"]]
    assert [r["id"] for r in staff.get("/api/v1/service-logs/?rejected=false").json()["results"]] == [first["id"]]


def test_the_wishes_list_costs_the_same_however_many_rows(cast, community_x, django_assert_num_queries):
    PartyMemberFactory(residence_community=community_x, user=cast["member"])
    client = _api(cast["member"])

    def grow(n: int) -> None:
        for _ in range(n):
            NeedFactory(kind=Need.Kind.MICRO_WISH, community=community_x)

    grow(1)
    client.get("/api/v1/wishes/")
    # count + page (the caller's communities are a subquery of each)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/wishes/").json()["results"]) == 1
    grow(10)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/wishes/").json()["results"]) == 11


@pytest.mark.parametrize("who", ["community_x_staff", "street_staff"])
def test_staff_verify_hours_of_their_members(cast, community_x, who):
    log = ServiceLogFactory(
        member=PartyMemberFactory(residence_community=community_x), verified=False, hours=Decimal("1.5")
    )
    response = _api(cast[who]).post(f"/api/v1/service-logs/{log.pk}/verify/")
    assert (response.status_code, response.json()["verified"]) == (200, True)
