"""A project's whole life through the API alone (issue 13): created a draft, opened, claimed, started,
marked a demonstration project, finished — by its community's staff, each step refused to the wrong role
with the answer the admin's action gives, 409 from the wrong status, 400 for bad input with nothing changed."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alliance import public_figures
from projects.models import ProjectClaim, ServiceProject

from ..api import api_client as _api
from ..factories import CategoryFactory

NOT_ALLOWED = "您没有执行该操作的权限。"


def _stats() -> dict:
    public_figures.refresh()  # what the beat does after a service marked the figures changed
    return APIClient().get("/api/v1/public/stats/").json()


@pytest.fixture
def body(community_x) -> dict:
    today = timezone.localdate()
    return {
        "title": "社区义诊进楼院",
        "category": CategoryFactory().pk,
        "description": "每月一次，为楼院老人量血压。",
        "street": community_x.street_id,
        "community": community_x.pk,
        "starts_on": str(today.replace(month=1, day=1)),
        "ends_on": str(today.replace(month=12, day=31)),
        "places": 2,
    }


def test_a_project_lives_its_whole_life_through_the_api(cast, body, unit_a, unit_b):
    staff, liaison = _api(cast["community_x_staff"]), _api(cast["liaison_a"])
    other_staff, member = _api(cast["community_y_staff"]), _api(cast["member"])
    before = _stats()

    created = staff.post("/api/v1/projects/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "draft"
    pk = created.json()["id"]
    url = f"/api/v1/projects/{pk}/"

    # A draft is its staff's alone: nobody else finds it, so nobody else can open or claim it.
    for client in (liaison, other_staff, member):
        # The status only: the 404's wording is the generic handler's (translated there, issue 13).
        assert client.post(url + "open/").status_code == 404
    claimed = liaison.post(url + "claims/", {"commitment": "每月一次义诊"}, format="json")
    assert claimed.status_code == 404
    # Only a draft opens; a draft does not start or finish.
    response = staff.post(url + "start/")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "只有在“开放认领”状态下才能启动，当前状态为“草稿”。"},
    )
    assert _stats()["projects"] == before["projects"]

    opened = staff.post(url + "open/")
    assert opened.status_code == 200, opened.content
    assert (opened.json()["status"], opened.json()["places_left"]) == ("open", 2)
    assert _stats()["projects"] == before["projects"] + 1
    assert [row["id"] for row in liaison.get("/api/v1/projects/", {"status": "open"}).json()["results"]] == [pk]
    response = staff.post(url + "open/")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "只有在“草稿”状态下才能开放认领，当前状态为“开放认领”。"},
    )
    # Published, everyone finds it; only its community's staff (and the street's) move it.
    for client in (liaison, other_staff, member):
        response = client.post(url + "start/")
        assert (response.status_code, response.json()) == (403, {"detail": NOT_ALLOWED})

    claim = liaison.post(url + "claims/", {"commitment": "每月一次义诊"}, format="json").json()
    assert staff.post(f"/api/v1/claims/{claim['id']}/approve/").json()["status"] == "approved"

    # The edit form's fields, through project_update: not the liaison's; not below the places taken.
    response = liaison.patch(url, {"places": 5}, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": NOT_ALLOWED})
    response = staff.patch(url, {"places": 0}, format="json")
    assert (response.status_code, response.json()) == (400, {"places": ["请确保该值大于或者等于 1。"]})
    assert ServiceProject.objects.get(pk=pk).places == 2
    changed = staff.patch(url, {"places": 3, "title": "社区义诊进楼院（第二期）"}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["places"], changed.json()["places_left"]) == (3, 2)
    assert changed.json()["status"] == "open"
    # The status is the actions' alone.
    staff.patch(url, {"status": "finished"}, format="json")
    assert ServiceProject.objects.get(pk=pk).status == ServiceProject.Status.OPEN

    started = staff.post(url + "start/")
    assert (started.status_code, started.json()["status"]) == (200, "running")
    response = liaison.post(url + "claims/", {"commitment": "再认领"}, format="json")
    assert (response.status_code, response.json()) == (409, {"detail": "该项目未开放认领。"})

    # 示范项目: the admin's action, with the plaque date (today when not given).
    response = liaison.post(url + "demonstration/", {"is_demonstration": True}, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": NOT_ALLOWED})
    for bad, errors in (
        ({}, {"is_demonstration": ["该字段是必填项。"]}),
        (
            {"is_demonstration": False, "plaque_awarded_on": "2026-06-30"},
            {"plaque_awarded_on": ["只有示范项目才能授牌。"]},
        ),
    ):
        response = staff.post(url + "demonstration/", bad, format="json")
        assert (response.status_code, response.json()) == (400, errors)
    response = staff.post(
        url + "demonstration/", {"is_demonstration": True, "plaque_awarded_on": "30/06"}, format="json"
    )
    assert (response.status_code, list(response.json())) == (400, ["plaque_awarded_on"])
    assert ServiceProject.objects.filter(pk=pk, is_demonstration=False, plaque_awarded_on=None).exists()
    marked = staff.post(url + "demonstration/", {"is_demonstration": True}, format="json")
    assert marked.status_code == 200, marked.content
    assert (marked.json()["is_demonstration"], marked.json()["plaque_awarded_on"]) == (
        True,
        str(timezone.localdate()),
    )
    demonstrations = liaison.get("/api/v1/projects/", {"demonstration": "true"}).json()["results"]
    assert [row["id"] for row in demonstrations] == [pk]

    response = other_staff.post(url + "finish/")
    assert (response.status_code, response.json()) == (403, {"detail": NOT_ALLOWED})
    finished = staff.post(url + "finish/")
    assert finished.status_code == 200, finished.content
    assert (finished.json()["status"], finished.json()["places_left"]) == ("finished", 3)
    assert liaison.get(f"/api/v1/claims/{claim['id']}/").json()["status"] == "completed"
    response = staff.post(url + "finish/")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "只有在“开放认领 / 实施中”状态下才能结项，当前状态为“已结束”。"},
    )
    # The mark can be taken away again, plaque date and all.
    unmarked = staff.post(url + "demonstration/", {"is_demonstration": False}, format="json")
    assert (unmarked.json()["is_demonstration"], unmarked.json()["plaque_awarded_on"]) == (False, None)
    assert _stats()["claims"] == before["claims"] + 1


def test_street_staff_move_street_wide_projects_and_community_staff_may_not(cast, body):
    project = _api(cast["street_staff"]).post("/api/v1/projects/", {**body, "community": None}, format="json")
    assert project.status_code == 201, project.content
    url = f"/api/v1/projects/{project.json()['id']}/"
    # A street-wide draft is not the community's: not even found by its staff.
    assert _api(cast["community_x_staff"]).post(url + "open/").status_code == 404
    assert _api(cast["street_staff"]).post(url + "open/").json()["status"] == "open"
    response = _api(cast["community_x_staff"]).post(url + "finish/")
    assert (response.status_code, response.json()) == (403, {"detail": NOT_ALLOWED})
    assert ServiceProject.objects.get(pk=project.json()["id"]).status == ServiceProject.Status.OPEN


def test_finishing_lapses_pending_claims_and_releases_the_places(cast, body, unit_a, unit_b):
    staff = _api(cast["community_x_staff"])
    pk = staff.post("/api/v1/projects/", body, format="json").json()["id"]
    staff.post(f"/api/v1/projects/{pk}/open/")
    for liaison in ("liaison_a", "liaison_b"):
        response = _api(cast[liaison]).post(f"/api/v1/projects/{pk}/claims/", {"commitment": "x"}, format="json")
        assert response.status_code == 201
    assert staff.get(f"/api/v1/projects/{pk}/").json()["places_left"] == 0
    response = staff.patch(f"/api/v1/projects/{pk}/", {"places": 1}, format="json")
    assert (response.status_code, response.json()) == (400, {"detail": "已有 2 个名额被占用，项目名额不能少于此数。"})
    assert ServiceProject.objects.get(pk=pk).places == 2
    assert staff.post(f"/api/v1/projects/{pk}/finish/").json()["places_left"] == 2
    assert set(ProjectClaim.objects.filter(project_id=pk).values_list("status", flat=True)) == {"withdrawn"}  # lapsed


def test_staff_review_a_claim_and_correct_the_score_as_the_admin_does(cast, community_x, unit_a):
    from alliance.periods import Quarter

    from .factories import ClaimFactory, ProjectFactory

    project = ProjectFactory(community=community_x, street=community_x.street)
    claim = ClaimFactory(project=project, unit=unit_a, status=ProjectClaim.Status.APPROVED)
    staff = _api(cast["community_x_staff"])
    quarter = Quarter.current()
    body = {"claim": claim.pk, "year": quarter.year, "quarter": quarter.quarter, "score": 5, "comment": "落实到位"}
    created = staff.post("/api/v1/reviews/", body, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/reviews/{created.json()['id']}/"
    response = _api(cast["liaison_a"]).patch(url, {"score": 1}, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": NOT_ALLOWED})
    assert _api(cast["community_y_staff"]).patch(url, {"score": 1}, format="json").status_code == 404
    response = staff.patch(url, {"score": 9}, format="json")
    assert (response.status_code, response.json()) == (400, {"score": ["确保该值小于或等于5。"]})
    corrected = staff.patch(url, {"score": 4, "comment": "活动记录不全"}, format="json")
    assert corrected.status_code == 200, corrected.content
    assert (corrected.json()["score"], corrected.json()["comment"], corrected.json()["claim"]) == (
        4,
        "活动记录不全",
        claim.pk,
    )
    assert claim.reviews.get().score == 4


def test_an_activity_is_recorded_with_photos_as_on_the_portal_form(cast, community_x, unit_a, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from projects.models import ServiceActivity

    from ..images import photo_bytes
    from .factories import ClaimFactory, ProjectFactory

    settings.MEDIA_ROOT = tmp_path
    project = ProjectFactory(community=community_x, street=community_x.street)
    claim = ClaimFactory(project=project, unit=unit_a, status=ProjectClaim.Status.APPROVED)
    body = {
        "claim": claim.pk,
        "date": str(project.starts_on),
        "title": "义诊进社区",
        "services": 12,
        "beneficiaries": 90,
    }
    client = _api(cast["liaison_a"])

    def photo(name: str, data: bytes) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, data, content_type="image/jpeg")

    refused = client.post(
        "/api/v1/activities/",
        {**body, "photos": [photo("现场.jpg", photo_bytes()), photo("坏.jpg", b"not an image")]},
        format="multipart",
    )
    assert (refused.status_code, list(refused.json())) == (400, ["photos"])
    assert not ServiceActivity.objects.exists()
    recorded = client.post(
        "/api/v1/activities/",
        {**body, "photos": [photo("现场.jpg", photo_bytes((800, 600), gps=True))]},
        format="multipart",
    )
    assert recorded.status_code == 201, recorded.content
    assert "photos" not in recorded.json()
    activity = ServiceActivity.objects.get()
    assert (activity.pk, activity.photos.count()) == (recorded.json()["id"], 1)
