"""Fixtures of the points ledger's tests (test_points*.py): a street's rule, two members, a ledger."""

from __future__ import annotations

import pytest

from members.models import MemberUnit
from volunteers import points
from volunteers.models import PointsEntry

from ..factories import SectorFactory
from .factories import PartyMemberFactory
from .points_world import completed_wish, review, verified_log


@pytest.fixture
def street(community_x):
    return community_x.street


@pytest.fixture
def rule(street, street_staff):
    """2 points an hour, 5 a wish, 10 a review at 4 or better (the defaults but for the hours)."""
    return points.points_rule_update(
        rule=points.rule_for(street_id=street.pk, year=2026), actor=street_staff, data={"per_hour": 2}
    )


@pytest.fixture
def member_x(community_x, unit_a, member):
    return PartyMemberFactory(name="张伟", residence_community=community_x, work_unit=unit_a, user=member)


@pytest.fixture
def member_y(community_y, unit_b):
    return PartyMemberFactory(name="李娜", residence_community=community_y, work_unit=unit_b)


@pytest.fixture
def entry(rule, member_x, community_x_staff):
    verified_log(member_x, community_x_staff, hours="2.5")
    return PointsEntry.objects.get()


@pytest.fixture
def ledger(
    rule, member, member_x, member_y, unit_a, unit_b, community_x, community_x_staff, community_y_staff, street_staff
):
    """member_x 5 + 5 − 2 = 8, member_y 6, unit_a 10, unit_b 20 (two quarters); one sector for both units."""
    sector = SectorFactory(street=community_x.street, name="企业分会")
    MemberUnit.objects.filter(pk__in=[unit_a.pk, unit_b.pk]).update(sector=sector)
    log_x = verified_log(member_x, community_x_staff, hours="2.5")
    completed_wish(member, community_x)
    points.points_correct(
        entry=PointsEntry.objects.get(source_kind="service_log", source_id=log_x.pk),
        points=-2,
        reason="多记",
        actor=community_x_staff,
    )
    verified_log(member_y, community_y_staff, hours="3")
    review(unit_a, street_staff, score=4)
    review(unit_b, street_staff, score=5, quarter=1)
    review(unit_b, street_staff, score=4, quarter=2)
    return {"member_x": member_x, "member_y": member_y, "unit_a": unit_a, "unit_b": unit_b}
