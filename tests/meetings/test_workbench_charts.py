"""The workbench's attendance chart: the member units' attendance rate at held meetings per quarter of the
meeting's start (Asia/Shanghai), over the meetings the staff member may see, in one query."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from alliance.periods import ZONE, Quarter
from alliance.registry import ChartFilter, chart_quarters
from meetings import selectors
from meetings.models import Invitation, JointMeeting, Level

from ..factories import MemberUnitFactory, UserFactory
from .factories import InvitationFactory, MeetingFactory

Answer = Invitation.Status
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=ZONE)


@pytest.fixture
def june_2026(time_machine):
    time_machine.move_to(NOW)


def held(community, start: datetime, *answers: str, status: str = JointMeeting.Status.HELD) -> JointMeeting:
    meeting = MeetingFactory(level=Level.COMMUNITY, community=community, start=start, status=status)
    for answer in answers:
        InvitationFactory(meeting=meeting, unit=MemberUnitFactory(community=community), status=answer)
    return meeting


@pytest.fixture
def meetings(june_2026, community_x, community_y):
    """x: Q1 (31 March 23:00 Beijing = 15:00 UTC) 3 of 4 units came; Q2 1 of 2, plus a person who came (not a
    unit: not counted), a planned and a cancelled meeting (not held: not counted); y: Q2 2 of 2."""
    held(
        community_x,
        datetime(2026, 3, 31, 23, 0, tzinfo=ZONE),
        Answer.ATTENDED,
        Answer.ATTENDED,
        Answer.ATTENDED,
        Answer.ABSENT,
    )
    q2 = held(community_x, datetime(2026, 4, 20, 14, 30, tzinfo=ZONE), Answer.ATTENDED, Answer.ABSENT)
    InvitationFactory(meeting=q2, unit=None, person=UserFactory(), status=Answer.ATTENDED)
    held(community_x, NOW + timedelta(days=3), Answer.CONFIRMED, status=JointMeeting.Status.PLANNED)
    held(community_x, NOW - timedelta(days=3), Answer.ABSENT, status=JointMeeting.Status.CANCELLED)
    held(community_y, datetime(2026, 5, 6, 9, 0, tzinfo=ZONE), Answer.ATTENDED, Answer.ATTENDED)


def test_street_staff_see_each_quarters_rate_and_no_rate_without_invitations(
    meetings, street_staff, django_assert_num_queries
):
    quarters = chart_quarters(ChartFilter())
    assert quarters == [Quarter(2025, 3), Quarter(2025, 4), Quarter(2026, 1), Quarter(2026, 2)]
    # group names (street staff?), the street scope (the streets they are assigned to, read once, then
    # cached: added by street scoping), then the grouped counts
    with django_assert_num_queries(3):
        rates = selectors.chart_attendance_per_quarter(user=street_staff, quarters=quarters)
    assert rates == {
        Quarter(2025, 3): None,
        Quarter(2025, 4): None,
        Quarter(2026, 1): Decimal("0.7500"),
        Quarter(2026, 2): Decimal("0.7500"),  # 1 of 2 in x, 2 of 2 in y
    }


def test_community_staff_rate_their_communitys_meetings(meetings, community_x_staff, community_y_staff):
    quarters = [Quarter(2026, 1), Quarter(2026, 2)]
    assert selectors.chart_attendance_per_quarter(user=community_x_staff, quarters=quarters) == {
        Quarter(2026, 1): Decimal("0.7500"),
        Quarter(2026, 2): Decimal("0.5000"),
    }
    assert selectors.chart_attendance_per_quarter(user=community_y_staff, quarters=quarters) == {
        Quarter(2026, 1): None,
        Quarter(2026, 2): Decimal("1.0000"),
    }


def test_the_community_and_quarter_chosen(meetings, street_staff, community_y):
    quarters = chart_quarters(ChartFilter(quarter=Quarter(2026, 1)))
    assert quarters == [Quarter(2025, 2), Quarter(2025, 3), Quarter(2025, 4), Quarter(2026, 1)]
    rates = selectors.chart_attendance_per_quarter(user=street_staff, quarters=quarters)
    assert rates[Quarter(2026, 1)] == Decimal("0.7500") and Quarter(2026, 2) not in rates
    only_y = selectors.chart_attendance_per_quarter(
        user=street_staff, quarters=[Quarter(2026, 1), Quarter(2026, 2)], community_id=community_y.pk
    )
    assert only_y == {Quarter(2026, 1): None, Quarter(2026, 2): Decimal("1.0000")}
