"""Totals of activities equal the sums of their rows, per project, unit, community, category and quarter."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from projects import selectors
from projects.models import ServiceActivity

from ..factories import CategoryFactory, CommunityFactory, MemberUnitFactory, StreetFactory
from .factories import ActivityFactory, ClaimFactory, ProjectFactory


def _world():
    street = StreetFactory()
    health, publicity = CategoryFactory(code="health"), CategoryFactory(code="publicity")
    here, there = CommunityFactory(street=street), CommunityFactory(street=street)
    units = [MemberUnitFactory(community=here), MemberUnitFactory(community=there)]
    projects = [
        ProjectFactory(street=street, community=here, category=health, places=5),
        ProjectFactory(street=street, community=None, category=publicity, places=5),  # street-wide
    ]
    rows = [
        (projects[0], units[0], date(2026, 2, 3), 10, 100, 4, "2.5"),
        (projects[0], units[1], date(2026, 5, 9), 7, 80, 2, "3.0"),
        (projects[1], units[0], date(2026, 8, 1), 20, 300, 6, "5.5"),
        (projects[1], units[1], date(2026, 8, 30), 5, 40, 1, "1.0"),
        (projects[1], units[1], date(2025, 11, 30), 3, 12, 2, "2.0"),
    ]
    claims = {}
    for project, unit, day, services, beneficiaries, participants, hours in rows:
        claim = claims.get((project.pk, unit.pk)) or ClaimFactory(project=project, unit=unit)
        claims[(project.pk, unit.pk)] = claim
        ActivityFactory(
            claim=claim,
            date=day,
            services=services,
            beneficiaries=beneficiaries,
            participants=participants,
            hours=Decimal(hours),
        )
    return projects, units


def _expected(key_of) -> dict:
    sums: dict = defaultdict(
        lambda: {"activities": 0, "services": 0, "beneficiaries": 0, "participants": 0, "hours": Decimal(0)}
    )
    for activity in ServiceActivity.objects.select_related("claim__project", "claim__unit"):
        total = sums[key_of(activity)]
        total["activities"] += 1
        total["services"] += activity.services
        total["beneficiaries"] += activity.beneficiaries
        total["participants"] += activity.participants
        total["hours"] += activity.hours
    return dict(sums)


def _computed(by: str) -> dict:
    return {
        row["group_key"]: {k: row[k] for k in ("activities", "services", "beneficiaries", "participants", "hours")}
        for row in selectors.activity_totals(by=by)
    }


def test_totals_per_project_unit_community_category_and_quarter_equal_the_sums(db):
    _world()
    keys = {
        "project": lambda a: a.claim.project_id,
        "unit": lambda a: a.claim.unit_id,
        # a street-wide project's activities count for the claiming unit's community
        "community": lambda a: a.claim.project.community_id or a.claim.unit.community_id,
        "category": lambda a: a.claim.project.category_id,
        "quarter": lambda a: a.date.year * 10 + (a.date.month - 1) // 3 + 1,
    }
    for by, key_of in keys.items():
        assert _computed(by) == _expected(key_of), by
    assert set(_computed("quarter")) == {20254, 20261, 20262, 20263}


def test_public_figures_are_the_sums(db):
    from rest_framework.test import APIClient

    _world()
    stats = APIClient().get("/api/v1/public/stats/").json()
    assert stats["activities"] == 5
    assert stats["services"] == 10 + 7 + 20 + 5 + 3
    assert stats["beneficiaries"] == 100 + 80 + 300 + 40 + 12
    assert stats["projects"] == 2 and stats["claims"] == 4
