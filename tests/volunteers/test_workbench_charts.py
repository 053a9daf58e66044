"""The workbench's service-hours chart: verified hours by the member's residence community, over the logs
the staff member may see, for the community and quarter chosen, in one query."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from alliance.periods import Quarter
from volunteers import selectors

from ..factories import CommunityFactory
from .factories import PartyMemberFactory, ServiceLogFactory


@pytest.fixture
def logs(db, community_x, community_y):
    """x: 2.0 h in Q1 and 1.5 h in Q2 verified, 5.0 h unverified; y: 3.0 h verified in Q2."""
    in_x = PartyMemberFactory(residence_community=community_x)
    in_y = PartyMemberFactory(residence_community=community_y)
    ServiceLogFactory(member=in_x, hours=Decimal("2.0"), date=date(2026, 3, 31))
    ServiceLogFactory(member=in_x, hours=Decimal("1.5"), date=date(2026, 4, 1))
    ServiceLogFactory(member=in_x, hours=Decimal("5.0"), date=date(2026, 4, 2), verified=False)
    ServiceLogFactory(member=in_y, hours=Decimal("3.0"), date=date(2026, 5, 2))


def test_street_staff_see_verified_hours_of_each_community(logs, street_staff, django_assert_num_queries):
    CommunityFactory(name="没有时长的社区")
    # group names (street staff?), the street scope (the streets they are assigned to, read once, then
    # cached: added by street scoping), then the grouped sum
    with django_assert_num_queries(3):
        rows = selectors.chart_hours_by_community(user=street_staff)
    assert rows == [("桥头街社区", Decimal("3.5")), ("柳北社区", Decimal("3.0"))]


def test_community_staff_see_their_communitys_hours_only(logs, community_x_staff, community_y_staff):
    assert selectors.chart_hours_by_community(user=community_x_staff) == [("桥头街社区", Decimal("3.5"))]
    assert selectors.chart_hours_by_community(user=community_y_staff) == [("柳北社区", Decimal("3.0"))]


def test_the_community_and_quarter_chosen(logs, street_staff, community_y):
    assert selectors.chart_hours_by_community(user=street_staff, quarter=Quarter(2026, 1)) == [
        ("桥头街社区", Decimal("2.0"))
    ]
    assert selectors.chart_hours_by_community(user=street_staff, quarter=Quarter(2026, 2)) == [
        ("桥头街社区", Decimal("1.5")),
        ("柳北社区", Decimal("3.0")),
    ]
    assert selectors.chart_hours_by_community(user=street_staff, community_id=community_y.pk) == [
        ("柳北社区", Decimal("3.0"))
    ]


def test_over_several_streets_each_bar_names_its_street(db, root):
    """District staff see two streets, each with a 桥头街社区: the bars say whose, not the same name twice."""
    from members import services as member_services
    from members.models import District, Street

    from ..factories import UserFactory

    district = District.objects.create(name="迎泽区")
    hours = {"柳巷街道": Decimal("2.0"), "迎泽街道": Decimal("4.5")}
    for name, served in hours.items():
        street = Street.objects.create(name=name, district=district)
        community = CommunityFactory(street=street, name="桥头街社区")
        ServiceLogFactory(member=PartyMemberFactory(residence_community=community), hours=served, date=date(2026, 5, 2))
    officer = UserFactory(username="district_officer")
    member_services.district_staff_add(user=officer, district=district, actor=root)
    rows = selectors.chart_hours_by_community(user=officer)
    assert rows == [("柳巷街道 · 桥头街社区", Decimal("2.0")), ("迎泽街道 · 桥头街社区", Decimal("4.5"))]
