"""What schemathesis found where the API's answers broke its own schema, each pinned by a plain test."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from demands.models import Need
from projects.models import ProjectClaim

from ..api import api_client as _api
from ..demands.factories import NeedFactory
from ..projects.factories import ClaimFactory, ProjectFactory
from ..volunteers.factories import PartyMemberFactory


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("Need", "unit_name"),  # a need not yet dispatched
        ("NeedDetail", "unit_name"),
        ("PublicNeed", "unit"),
        ("Showcase", "unit"),
        ("Unit", "sector_name"),  # a unit in no sector branch
        ("Project", "community_name"),  # a street-wide project
        ("Invitation", "unit_name"),  # a person invited, not a unit
        ("Member", "work_unit_id"),  # a work unit given as free text
    ],
)
def test_names_of_absent_relations_are_documented_as_nullable(schema, component, field):
    assert schema["components"]["schemas"][component]["properties"][field]["nullable"] is True


def test_a_need_not_yet_dispatched_has_a_null_unit_name(street_staff, community_x):
    need = NeedFactory(community=community_x)
    detail = _api(street_staff).get(f"/api/v1/needs/{need.pk}/").json()
    assert detail["unit_name"] is None
    tracked = APIClient().get(f"/api/v1/public/needs/{need.tracking_code}/", {"phone_last4": need.contact_phone[-4:]})
    assert tracked.json()["unit"] is None


def test_a_partial_update_answers_every_field_of_the_object(street_staff, unit_a, community_x):
    # A PATCH used to leave out `sector_name` (no sector) and a need's `overdue`, which the schema requires.
    unit = _api(street_staff).patch(f"/api/v1/units/{unit_a.pk}/", {"address": "桥头街1号"}, format="json")
    assert unit.status_code == 200
    assert unit.json()["sector_name"] is None
    need = NeedFactory(community=community_x)
    answer = _api(street_staff).patch(f"/api/v1/needs/{need.pk}/", {"title": "楼道灯又坏了"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["overdue"] is False
    assert answer.json()["title"] == "楼道灯又坏了"


def test_field_errors_are_lists_of_messages(street_staff, liaison_a, community_x, unit_a):
    need = NeedFactory(community=community_x)
    response = _api(street_staff).post(f"/api/v1/needs/{need.pk}/dispatch/", {"resource": 999999}, format="json")
    assert response.status_code == 400
    assert response.json() == {"resource": ["资源不存在。"]}
    project = ProjectFactory(community=community_x, street=community_x.street)
    response = _api(liaison_a).post(
        f"/api/v1/projects/{project.pk}/claims/", {"commitment": "每月一次义诊", "unit": 999999}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"unit": ["成员单位不存在。"]}


def test_a_refusal_of_the_whole_input_is_a_detail_not_a_bare_list(street_staff):
    response = _api(street_staff).get("/api/v1/streets/", {"search": "柳\x00巷"})
    assert response.status_code == 400
    assert list(response.json()) == ["detail"]
    assert isinstance(response.json()["detail"], str)


def test_suggestions_are_a_plain_list_that_filters_do_not_touch(street_staff, community_x, schema):
    need = NeedFactory(community=community_x)
    response = _api(street_staff).get(f"/api/v1/needs/{need.pk}/suggestions/", {"category": "not-a-number"})
    assert response.status_code == 200
    assert isinstance(response.json(), list)
    documented = schema["paths"]["/api/v1/needs/{id}/suggestions/"]["get"]
    assert documented["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    assert [p["name"] for p in documented["parameters"]] == ["id"]


def test_a_meeting_time_outside_readable_years_is_refused(street_staff):
    # Year 102 came back as "0102-12-11T14:09:39+08:05:43" (local mean time), which is no date-time.
    response = _api(street_staff).post(
        "/api/v1/meetings/",
        {
            "level": "street",
            "kind": "regular",
            "title": "街道联席会议",
            "start": "0102-12-11T14:09:39+08:00",
            "end": "2026-12-11T16:00:00+08:00",
            "place": "党群服务中心",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"start": ["请输入 2000 年至 2100 年之间的时间。"]}


def test_an_activity_for_a_claim_the_caller_cannot_see_is_refused_like_a_missing_one(liaison_a, unit_b, community_y):
    # It answered 404 (a status the operation does not document, and different from a missing claim's 400).
    other = ClaimFactory(
        project=ProjectFactory(community=community_y, street=community_y.street),
        unit=unit_b,
        status=ProjectClaim.Status.APPROVED,
    )
    body = {"date": "2026-05-20", "title": "义诊", "place": "社区", "participants": 1, "services": 1}
    body.update(beneficiaries=1, hours="1.0")
    hidden = _api(liaison_a).post("/api/v1/activities/", {**body, "claim": other.pk}, format="json")
    missing = _api(liaison_a).post("/api/v1/activities/", {**body, "claim": 999999}, format="json")
    assert hidden.status_code == missing.status_code == 400
    assert re.sub(r"\d+", "N", hidden.json()["claim"][0]) == re.sub(r"\d+", "N", missing.json()["claim"][0])
    assert str(other.pk) in hidden.json()["claim"][0]


def test_nothing_changed_by_refused_inputs(street_staff, community_x):
    need = NeedFactory(community=community_x)
    _api(street_staff).post(f"/api/v1/needs/{need.pk}/dispatch/", {"resource": 999999}, format="json")
    need.refresh_from_db()
    assert need.status == Need.Status.SUBMITTED


@pytest.mark.parametrize("url", ["/api/v1/meetings/", "/api/v1/needs/"])
def test_a_time_filter_with_an_offset_postgresql_refuses_is_compared_in_utc(street_staff, url):
    # PostgreSQL takes offsets up to ±15:59: `-20:00` aborted the query (500 on PostgreSQL).
    name = "start_before" if "meetings" in url else "submitted_before"
    response = _api(street_staff).get(url, {name: "2026-01-01T00:00:00-20:00"})
    assert response.status_code == 200


def test_a_time_filter_that_utc_cannot_hold_is_bad_input(street_staff):
    response = _api(street_staff).get("/api/v1/meetings/", {"start_after": "9999-12-31T23:59:59-23:59"})
    assert response.status_code == 400
    assert list(response.json()) == ["start_after"]


def test_an_api_address_no_route_matches_answers_json(street_staff):
    response = _api(street_staff).get("/api/v1/needs/1.5e-3/")  # no route takes this id
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "未找到。"}
    page = APIClient().get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_hours_for_a_member_the_caller_cannot_see_are_refused_like_a_missing_member(community_y_staff, community_x):
    hidden_member = PartyMemberFactory(residence_community=community_x)
    body = {"date": "2026-05-20", "hours": "2.0", "description": "环境整治"}
    hidden = _api(community_y_staff).post("/api/v1/service-logs/", {**body, "member": hidden_member.pk}, format="json")
    missing = _api(community_y_staff).post("/api/v1/service-logs/", {**body, "member": 999999}, format="json")
    assert hidden.status_code == missing.status_code == 400
    assert re.sub(r"\d+", "N", hidden.json()["member"][0]) == re.sub(r"\d+", "N", missing.json()["member"][0])
