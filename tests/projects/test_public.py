"""The public home: the demonstration projects and the figures the seeds quote (activities held,
services given, residents benefited) — totals equal to the sums of the activity rows, and no personal data."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from projects.models import ProjectClaim, ServiceProject

from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory
from .factories import ActivityFactory, ClaimFactory, ProjectFactory

HOME = "/"
STATS = "/api/v1/public/stats/"
P = ServiceProject.Status
C = ProjectClaim.Status


@pytest.fixture
def alliance(db, community_x, liaison_a, unit_a):
    """The seeds' shape in small: demonstration projects bundling units, one ordinary project, one draft."""
    health = CategoryFactory(code="health", name="医疗健康")
    care = CategoryFactory(code="care", name="关心关爱")
    units = [unit_a, *(MemberUnitFactory(liaison_name=f"联络员{i}号", community=community_x) for i in range(3))]
    units[1].liaison_phone = "13912348888"
    units[1].save()
    health_x = ProjectFactory(
        title="健康服务在身边",
        community=community_x,
        category=health,
        places=5,
        status=P.RUNNING,
        is_demonstration=True,
        plaque_awarded_on=date(2026, 3, 5),
    )
    care_street = ProjectFactory(
        title="与爱童行",
        community=None,
        street=community_x.street,
        category=care,
        places=5,
        status=P.RUNNING,
        is_demonstration=True,
        plaque_awarded_on=date(2026, 3, 5),
    )
    ordinary = ProjectFactory(title="社区读书角", community=CommunityFactory(), category=care)
    draft = ProjectFactory(title="夏季防溺水宣传", category=care, status=P.DRAFT, is_demonstration=True)
    claims = {
        "health_x": [ClaimFactory(project=health_x, unit=u) for u in units[:3]],
        "care_street": [ClaimFactory(project=care_street, unit=u) for u in units[2:]],
        "ordinary": [ClaimFactory(project=ordinary, unit=units[0])],
    }
    ClaimFactory(project=health_x, unit=units[3], status=C.PENDING)  # not yet one of its units
    activities = []
    for n, claim in enumerate([*claims["health_x"], *claims["care_street"], *claims["ordinary"]]):
        for k in range(n % 3 + 1):
            activities.append(ActivityFactory(claim=claim, services=3 + n + k, beneficiaries=40 + 7 * n + k))
    return {"projects": [health_x, care_street, ordinary, draft], "claims": claims, "activities": activities}


def _figure(body: str, key: str) -> int:
    match = re.search(rf'data-key="{key}"><span class="value">(\d+)</span>', body)
    assert match, f"figure {key} is not on the page"
    return int(match.group(1))


def test_the_public_figures_are_the_sums_of_the_activity_rows(alliance):
    activities = alliance["activities"]
    stats = Client().get(STATS).json()
    assert stats["activities"] == len(activities)
    assert stats["services"] == sum(a.services for a in activities)
    assert stats["beneficiaries"] == sum(a.beneficiaries for a in activities)
    assert stats["projects"] == 3  # drafts are not public
    assert stats["claims"] == 6  # approved claims; the pending one is not counted yet

    body = Client().get(HOME).content.decode()
    for key in ("activities", "services", "beneficiaries"):
        assert _figure(body, key) == stats[key]


def test_the_home_page_shows_the_demonstration_projects_with_their_figures(alliance):
    health_x, care_street, ordinary, draft = alliance["projects"]
    response = Client().get(HOME)
    assert response.status_code == 200
    body = response.content.decode()
    assert health_x.title in body and care_street.title in body
    assert ordinary.title not in body  # not a demonstration project
    assert draft.title not in body  # not published
    assert "2026-03-05" in body and "医疗健康" in body and health_x.community.name in body

    for project, key in ((health_x, "health_x"), (care_street, "care_street")):
        claims = alliance["claims"][key]
        rows = [a for a in alliance["activities"] if a.claim in claims]
        item = re.search(rf'data-project="{project.pk}">(.*?)</li>', body, re.S).group(1)
        assert re.search(rf'data-figure="units">{len(claims)}<', item)
        assert re.search(rf'data-figure="activities">{len(rows)}<', item)
        assert re.search(rf'data-figure="beneficiaries">{sum(a.beneficiaries for a in rows)}<', item)


def test_the_home_page_shows_no_personal_data(alliance, liaison_a, unit_a):
    body = Client().get(HOME).content.decode()
    units = {claim.unit for claims in alliance["claims"].values() for claim in claims}
    for unit in units:
        assert unit.liaison_name not in body
        assert unit.liaison_phone not in body
    assert "13912348888" not in body
    assert liaison_a.username not in body and liaison_a.first_name not in body


def test_the_home_page_is_in_english_when_asked(alliance):
    body = Client(HTTP_ACCEPT_LANGUAGE="en").get(HOME).content.decode()
    assert "Demonstration projects" in body and "Street-wide" in body


def test_the_home_page_query_count_does_not_grow_with_demonstration_projects(alliance, community_x):
    client = Client()
    client.get(HOME)
    with CaptureQueriesContext(connection) as few:
        client.get(HOME)
    for _ in range(3):
        project = ProjectFactory(community=community_x, status=P.RUNNING, is_demonstration=True)
        ActivityFactory(claim=ClaimFactory(project=project))
    with CaptureQueriesContext(connection) as many:
        client.get(HOME)
    # the figures of each app, the showcase, one query for the demonstration projects with their counts
    assert len(many) == len(few)
