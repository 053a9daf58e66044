from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import ProjectClaim, ServiceProject

from ..api import api_client as _api
from ..factories import CategoryFactory
from .factories import ActivityFactory, ClaimFactory, ProjectFactory


@pytest.fixture
def project(community_x):
    return ProjectFactory(community=community_x, street=community_x.street, places=2)


def test_claim_over_the_api_and_the_409s(cast, project, unit_a, unit_b):
    client = _api(cast["liaison_a"])
    response = client.post(f"/api/v1/projects/{project.pk}/claims/", {"commitment": "每月一次义诊"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending" and response.json()["unit"] == unit_a.pk
    again = client.post(f"/api/v1/projects/{project.pk}/claims/", {"commitment": "再次"}, format="json")
    assert again.status_code == 409
    other = _api(cast["liaison_b"]).post(f"/api/v1/projects/{project.pk}/claims/", {"commitment": "x"}, format="json")
    assert other.status_code == 201
    full = ProjectFactory(community=project.community, places=1)
    ClaimFactory(project=full, status=ProjectClaim.Status.PENDING)
    response = client.post(f"/api/v1/projects/{full.pk}/claims/", {"commitment": "x"}, format="json")
    assert response.status_code == 409 and response.json()["detail"]
    closed = ProjectFactory(community=project.community, status=ServiceProject.Status.RUNNING)
    assert client.post(f"/api/v1/projects/{closed.pk}/claims/", {"commitment": "x"}, format="json").status_code == 409
    # a liaison cannot claim for another unit
    response = client.post(f"/api/v1/projects/{full.pk}/claims/", {"commitment": "x", "unit": unit_b.pk}, format="json")
    assert response.status_code == 403


def test_project_fields_and_filters(cast, project, community_x):
    demo = ProjectFactory(community=community_x, is_demonstration=True, places=1)
    ClaimFactory(project=demo, status=ProjectClaim.Status.APPROVED)
    ProjectFactory(community=community_x, status=ServiceProject.Status.DRAFT)
    client = _api(cast["liaison_a"])
    rows = client.get("/api/v1/projects/").json()["results"]
    assert {r["id"] for r in rows} == {project.pk, demo.pk}  # drafts are staff's
    row = next(r for r in rows if r["id"] == demo.pk)
    assert {"id", "title", "category", "community", "places", "places_left", "is_demonstration", "status"} <= set(row)
    assert row["places_left"] == 0
    assert {r["id"] for r in client.get("/api/v1/projects/?demonstration=true").json()["results"]} == {demo.pk}
    assert {r["id"] for r in client.get("/api/v1/projects/?has_places=true").json()["results"]} == {project.pk}
    assert client.get("/api/v1/projects/?status=bogus").status_code == 400


def test_claim_decisions_over_the_api(cast, project, unit_a):
    claim = ClaimFactory(project=project, unit=unit_a, status=ProjectClaim.Status.PENDING)
    assert _api(cast["liaison_a"]).post(f"/api/v1/claims/{claim.pk}/approve/").status_code == 403
    assert _api(cast["community_y_staff"]).post(f"/api/v1/claims/{claim.pk}/approve/").status_code == 404
    assert (
        _api(cast["community_x_staff"]).post(f"/api/v1/claims/{claim.pk}/reject/", {}, format="json").status_code == 400
    )
    response = _api(cast["community_x_staff"]).post(f"/api/v1/claims/{claim.pk}/approve/")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert _api(cast["liaison_a"]).post(f"/api/v1/claims/{claim.pk}/withdraw/").status_code == 409


def test_activities_and_reviews_over_the_api(cast, project, unit_a, unit_b):
    mine = ClaimFactory(project=project, unit=unit_a, status=ProjectClaim.Status.APPROVED)
    theirs = ClaimFactory(project=project, unit=unit_b, status=ProjectClaim.Status.APPROVED)
    body = {"date": "2026-06-01", "title": "义诊进社区", "services": 12, "beneficiaries": 90, "hours": "3.5"}
    client = _api(cast["liaison_a"])
    assert client.post("/api/v1/activities/", {**body, "claim": mine.pk}, format="json").status_code == 201
    # Another unit's claim is refused like a claim that does not exist (400 on the field): existence does not leak.
    assert client.post("/api/v1/activities/", {**body, "claim": theirs.pk}, format="json").status_code == 400
    assert [a["claim"] for a in client.get("/api/v1/activities/").json()["results"]] == [mine.pk]
    review = {"claim": mine.pk, "year": 2026, "quarter": 2, "score": 5, "comment": "按期落实"}
    assert client.post("/api/v1/reviews/", review, format="json").status_code == 403
    assert _api(cast["community_x_staff"]).post("/api/v1/reviews/", review, format="json").status_code == 201
    assert (
        _api(cast["community_x_staff"]).post("/api/v1/reviews/", {**review, "score": 9}, format="json").status_code
        == 400
    )


@pytest.mark.parametrize(
    ("url", "who", "expected"),
    [
        # (the user's groups from the cache) count + page (projects joined to category, community, street)
        ("/api/v1/projects/", "liaison_a", 2),
        # (the user's groups from the cache) units of liaison (guardian) + count + page (claims joined to project, category, community, unit)
        ("/api/v1/claims/", "liaison_a", 3),
        ("/api/v1/activities/", "liaison_a", 3),
        ("/api/v1/claims/", "street_staff", 2),
    ],
)
def test_list_endpoints_query_count_does_not_grow_with_rows(url, who, expected, cast, project, unit_a):
    user = cast[who]
    client = _api(user)

    def count() -> int:
        client.force_authenticate(type(user).objects.get(pk=user.pk))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def grow(n):
        for _ in range(n):
            p = ProjectFactory(community=project.community, places=3)
            ActivityFactory(claim=ClaimFactory(project=p, unit=unit_a))

    grow(1)
    client.get(url)
    few = count()
    grow(12)
    assert few == count() == expected


def test_a_project_that_ends_before_it_starts_is_refused_with_the_constraints_message(cast, community_x):
    data = {
        "title": "独居老人关爱",
        "category": CategoryFactory().pk,
        "description": "结对走访独居老人。",
        "street": community_x.street_id,
        "community": community_x.pk,
        "starts_on": "2026-07-01",
        "ends_on": "2026-06-30",
        "places": 2,
    }
    response = _api(cast["street_staff"]).post("/api/v1/projects/", data, format="json")
    assert (response.status_code, response.json()) == (400, {"__all__": ["项目的结束日期不能早于开始日期。"]})
    assert not ServiceProject.objects.exists()
