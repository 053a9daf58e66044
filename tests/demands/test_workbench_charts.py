"""The needs' charts of the staff workbench: by status, by category and submitted vs completed per month,
counted exactly over what the staff member may see, for the community and quarter chosen (Asia/Shanghai
boundaries), one query each."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from alliance.periods import ZONE, Quarter
from alliance.registry import ChartFilter, chart_months
from demands import selectors
from demands.models import Need

from ..factories import CategoryFactory, MemberUnitFactory
from .factories import NeedFactory

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=ZONE)
S = Need.Status


@pytest.fixture
def june_2026(time_machine):
    time_machine.move_to(NOW)


@pytest.fixture
def health(db):
    return CategoryFactory(name="医疗健康", code="health", sort_order=1)


@pytest.fixture
def legal(db):
    return CategoryFactory(name="法律服务", code="legal", sort_order=2)


def need(community, category, *, submitted: datetime, status: str = S.SUBMITTED, completed: datetime | None = None):
    made = NeedFactory(
        community=community,
        category=category,
        status=status,
        completed_at=completed,
        unit=MemberUnitFactory(community=community) if completed else None,
    )
    Need.objects.filter(pk=made.pk).update(submitted_at=submitted)
    return made


@pytest.fixture
def needs(june_2026, community_x, community_y, health, legal):
    """x: 2 health submitted (one in Q1, one in Q2), 1 legal completed in Q2; y: 1 health rejected, 1 legal
    closed; all in the last 12 months."""
    need(community_x, health, submitted=datetime(2026, 3, 31, 23, 30, tzinfo=ZONE))  # Q1 in Beijing (UTC: 15:30)
    need(community_x, health, submitted=datetime(2026, 4, 1, 0, 10, tzinfo=ZONE))  # Q2 (UTC: still 31 March)
    need(
        community_x,
        legal,
        submitted=datetime(2026, 5, 2, 9, tzinfo=ZONE),
        status=S.COMPLETED,
        completed=datetime(2026, 5, 31, 23, 30, tzinfo=ZONE),  # May in Beijing, UTC 15:30 the same day
    )
    need(community_y, health, submitted=datetime(2026, 5, 3, 9, tzinfo=ZONE), status=S.REJECTED)
    need(
        community_y,
        legal,
        submitted=datetime(2025, 12, 20, 9, tzinfo=ZONE),
        status=S.CLOSED,
        completed=datetime(2026, 6, 1, 0, 30, tzinfo=ZONE),  # June in Beijing, UTC still 31 May
    )


def test_street_staff_see_every_need_by_status_and_category(needs, street_staff, django_assert_num_queries):
    # user's group names (street staff?), the street scope (the streets they are assigned to, read once, then
    # cached: added by street scoping), then the grouped count
    with django_assert_num_queries(3):
        by_status = selectors.chart_needs_by_status(user=street_staff)
    assert by_status == {S.SUBMITTED: 2, S.COMPLETED: 1, S.REJECTED: 1, S.CLOSED: 1}
    with django_assert_num_queries(1):
        assert selectors.chart_needs_by_category(user=street_staff) == [("医疗健康", 3), ("法律服务", 2)]


def test_community_staff_count_only_their_communitys_needs(needs, community_x_staff, community_y_staff):
    assert selectors.chart_needs_by_status(user=community_x_staff) == {S.SUBMITTED: 2, S.COMPLETED: 1}
    assert selectors.chart_needs_by_category(user=community_x_staff) == [("医疗健康", 2), ("法律服务", 1)]
    assert selectors.chart_needs_by_status(user=community_y_staff) == {S.REJECTED: 1, S.CLOSED: 1}


def test_a_liaison_charts_no_need_of_a_community(needs, liaison_a):
    assert selectors.chart_needs_by_status(user=liaison_a) == {}
    assert selectors.chart_needs_by_category(user=liaison_a) == []


def test_the_community_and_quarter_chosen_narrow_the_counts(needs, street_staff, community_x, community_y):
    assert selectors.chart_needs_by_status(user=street_staff, community_id=community_y.pk) == {
        S.REJECTED: 1,
        S.CLOSED: 1,
    }
    q2 = Quarter(2026, 2)
    # Submitted in Q2 (Asia/Shanghai): the one of 1 April 00:10, the completed one and the rejected one.
    assert selectors.chart_needs_by_status(user=street_staff, quarter=q2) == {
        S.SUBMITTED: 1,
        S.COMPLETED: 1,
        S.REJECTED: 1,
    }
    assert selectors.chart_needs_by_category(
        user=street_staff, community_id=community_x.pk, quarter=Quarter(2026, 1)
    ) == [("医疗健康", 1)]


def test_per_month_counts_submitted_and_completed_by_the_beijing_month(needs, street_staff, django_assert_num_queries):
    months = chart_months(ChartFilter())
    assert months[0] == date(2025, 7, 1) and months[-1] == date(2026, 6, 1)
    # Group names, the street scope (read once, then cached: added by street scoping), then one row of
    # conditional counts.
    with django_assert_num_queries(3):
        per_month = selectors.chart_needs_per_month(user=street_staff, months=months)
    submitted = {month: n for month, n in per_month["submitted"].items() if n}
    completed = {month: n for month, n in per_month["completed"].items() if n}
    assert submitted == {date(2025, 12, 1): 1, date(2026, 3, 1): 1, date(2026, 4, 1): 1, date(2026, 5, 1): 2}
    assert completed == {date(2026, 5, 1): 1, date(2026, 6, 1): 1}
    assert list(per_month["submitted"]) == months  # every month present, 0 where nothing happened


def test_per_month_follows_the_quarter_and_the_scope(needs, community_x_staff, street_staff, community_y):
    months = chart_months(ChartFilter(quarter=Quarter(2026, 1)))
    assert months[0] == date(2025, 4, 1) and months[-1] == date(2026, 3, 1)
    per_month = selectors.chart_needs_per_month(user=street_staff, months=months)
    assert {m: n for m, n in per_month["submitted"].items() if n} == {date(2025, 12, 1): 1, date(2026, 3, 1): 1}
    assert not any(per_month["completed"].values())

    this_year = chart_months(ChartFilter())
    mine = selectors.chart_needs_per_month(user=community_x_staff, months=this_year)
    assert sum(mine["submitted"].values()) == 3 and sum(mine["completed"].values()) == 1
    theirs = selectors.chart_needs_per_month(user=street_staff, months=this_year, community_id=community_y.pk)
    assert sum(theirs["submitted"].values()) == 2 and sum(theirs["completed"].values()) == 1
