"""The workbench's claims chart: standing claims (pending, approved, completed) by their project's category,
over what the staff member may see, for the community and quarter chosen, in one query."""

from __future__ import annotations

from datetime import datetime

import pytest

from alliance.periods import ZONE, Quarter
from projects import selectors
from projects.models import ProjectClaim

from ..factories import CategoryFactory, MemberUnitFactory
from .factories import ClaimFactory, ProjectFactory

C = ProjectClaim.Status


@pytest.fixture
def claims(db, community_x, community_y):
    """Health: x's project claimed by 2 of x's units (approved, pending) and 1 of y's (completed), plus a
    rejected and a withdrawn claim; legal: y's project claimed by 1 of y's units, made in Q1 (Beijing)."""
    health = CategoryFactory(name="医疗健康", code="health", sort_order=1)
    legal = CategoryFactory(name="法律服务", code="legal", sort_order=2)
    in_x = ProjectFactory(category=health, community=community_x, street=community_x.street, places=10)
    in_y = ProjectFactory(category=legal, community=community_y, street=community_y.street, places=10)
    for status in (C.APPROVED, C.PENDING, C.REJECTED, C.WITHDRAWN):
        ClaimFactory(project=in_x, unit=MemberUnitFactory(community=community_x), status=status)
    ClaimFactory(project=in_x, unit=MemberUnitFactory(community=community_y), status=C.COMPLETED)
    early = ClaimFactory(project=in_y, unit=MemberUnitFactory(community=community_y))
    ProjectClaim.objects.filter(pk=early.pk).update(created_at=datetime(2026, 3, 31, 23, 30, tzinfo=ZONE))
    ProjectClaim.objects.exclude(pk=early.pk).update(created_at=datetime(2026, 4, 1, 0, 10, tzinfo=ZONE))


def test_street_staff_count_standing_claims_by_category(claims, street_staff, django_assert_num_queries):
    # group names (street staff?), the street scope (the streets they are assigned to, read once, then
    # cached: added by street scoping), then the grouped count
    with django_assert_num_queries(3):
        rows = selectors.chart_claims_by_category(user=street_staff)
    assert rows == [("医疗健康", 3), ("法律服务", 1)]


def test_community_staff_count_claims_on_their_projects_or_by_their_units(claims, community_x_staff, community_y_staff):
    assert selectors.chart_claims_by_category(user=community_x_staff) == [("医疗健康", 3)]
    # y's staff: their unit's claim on x's project, and the claim on their own project.
    assert selectors.chart_claims_by_category(user=community_y_staff) == [("医疗健康", 1), ("法律服务", 1)]


def test_the_community_and_quarter_chosen_narrow_the_claims(claims, street_staff, community_x, community_y):
    assert selectors.chart_claims_by_category(user=street_staff, community_id=community_x.pk) == [("医疗健康", 3)]
    assert selectors.chart_claims_by_category(user=street_staff, community_id=community_y.pk) == [
        ("医疗健康", 1),
        ("法律服务", 1),
    ]
    assert selectors.chart_claims_by_category(user=street_staff, quarter=Quarter(2026, 1)) == [("法律服务", 1)]
    assert selectors.chart_claims_by_category(user=street_staff, quarter=Quarter(2026, 2)) == [("医疗健康", 3)]
