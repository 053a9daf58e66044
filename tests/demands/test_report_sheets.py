"""需求清单 and 资源清单 of the quarterly workbook: which needs and resources a quarter's list holds, the
on-time column, and one query per sheet however many rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from alliance.periods import Quarter
from alliance.reports import ReportContext
from demands import selectors
from demands.models import Need
from demands.report_sheets import NEEDS, RESOURCES

from ..alliance.report_factories import at, done_need, need, stamp
from ..factories import CommunityFactory, MemberUnitFactory, StreetFactory, UserFactory
from .factories import ResourceFactory

pytestmark = pytest.mark.django_db

Q1 = Quarter(2026, 1)


@pytest.fixture
def place():
    street = StreetFactory(name="柳巷街道")
    community = CommunityFactory(street=street)
    return street, community, MemberUnitFactory(community=community)


def titles(context: ReportContext) -> set[str]:
    with translation.override("en"):
        return {row[5] for row in NEEDS.rows(context)}


def test_the_needs_list_holds_the_needs_in_play_during_the_quarter(place):
    street, community, unit = place
    other = CommunityFactory(street=StreetFactory(name="桥西街道"))
    need(submitted=at(2026, 2, 1), community=community, title="submitted in the quarter")
    need(submitted=at(2025, 12, 1), community=community, title="earlier, still waiting")
    done_need(
        submitted=at(2025, 12, 1),
        dispatched=at(2025, 12, 2),
        completed=at(2026, 1, 3),
        unit=unit,
        community=community,
        title="earlier, completed in the quarter",
    )
    done_need(
        submitted=at(2025, 12, 1),
        dispatched=at(2025, 12, 2),
        completed=at(2025, 12, 28),
        closed_at=at(2026, 1, 4),
        rating=5,
        unit=unit,
        community=community,
        title="completed before, rated in the quarter",
    )
    done_need(
        submitted=at(2025, 12, 1),
        dispatched=at(2025, 12, 2),
        completed=at(2025, 12, 3),
        unit=unit,
        community=community,
        title="completed before",
    )
    need(
        submitted=at(2025, 12, 1),
        status=Need.Status.REJECTED,
        rejected_at=at(2025, 12, 2),
        community=community,
        title="rejected before",
    )
    need(submitted=at(2026, 4, 1), community=community, title="submitted after")
    need(submitted=at(2026, 2, 1), community=other, title="another street")

    assert titles(ReportContext(street.pk, Q1)) == {
        "submitted in the quarter",
        "earlier, still waiting",
        "earlier, completed in the quarter",
        "completed before, rated in the quarter",
    }


def test_on_time_means_completed_within_seven_days_of_dispatch(place):
    street, community, unit = place
    dispatched = at(2026, 2, 1, 9)
    for title, completed in (
        ("7 days", dispatched + timedelta(days=7)),
        ("a minute more", dispatched + timedelta(days=7, minutes=1)),
    ):
        done_need(
            submitted=at(2026, 2, 1),
            dispatched=dispatched,
            completed=completed,
            unit=unit,
            community=community,
            title=title,
        )
    need(
        submitted=at(2026, 2, 1),
        community=community,
        title="micro-wish a member took on",
        kind=Need.Kind.MICRO_WISH,
        status=Need.Status.COMPLETED,
        claimed_by=UserFactory(),
        accepted_at=at(2026, 2, 1),
        completed_at=at(2026, 2, 2),
    )
    need(submitted=at(2026, 2, 1), community=community, title="waiting")

    with translation.override("en"):
        on_time = {row[5]: row[10] for row in NEEDS.rows(ReportContext(street.pk, Q1))}
    assert on_time == {"7 days": True, "a minute more": False, "micro-wish a member took on": None, "waiting": None}
    figures = selectors.report_need_figures(street_id=street.pk, quarter=Q1)
    # The rate is of the needs a unit completed after a dispatch: the micro-wish counts as completed only.
    assert (figures["completed"], figures["completed_on_time"], figures["on_time_rate"]) == (3, 1, Decimal("0.5"))


def test_the_resource_list_holds_what_was_offered_by_the_quarters_end_and_marks_the_new(place):
    street, _community, unit = place
    stamp(ResourceFactory(unit=unit, title="old"), created_at=at(2025, 11, 1))
    stamp(ResourceFactory(unit=unit, title="new"), created_at=at(2026, 3, 31, 23, 59))
    stamp(ResourceFactory(unit=unit, title="later"), created_at=at(2026, 4, 1, 0, 0))
    stamp(
        ResourceFactory(unit=MemberUnitFactory(community__street__name="桥西街道"), title="elsewhere"),
        created_at=at(2026, 2, 1),
    )

    with translation.override("en"):
        rows = {row[5]: row[11] for row in RESOURCES.rows(ReportContext(street.pk, Q1))}
    assert rows == {"old": False, "new": True}
    assert selectors.report_resource_figures(street_id=street.pk, quarter=Q1) == {"available": 2, "added": 1}


@pytest.mark.parametrize("sheet", [NEEDS, RESOURCES], ids=lambda s: s.key)
def test_a_sheet_is_one_query_however_many_rows(place, sheet, django_assert_num_queries):
    street, community, unit = place
    context = ReportContext(street.pk, Q1)

    def add(n: int) -> None:
        for _i in range(n):
            done_need(
                submitted=at(2026, 2, 1),
                dispatched=at(2026, 2, 2),
                completed=at(2026, 2, 3),
                unit=unit,
                community=community,
            )
            stamp(ResourceFactory(unit=unit), created_at=at(2026, 2, 1))

    add(3)
    with django_assert_num_queries(1):  # the rows, joined to community, category and unit
        assert len(list(sheet.rows(context))) == 3
    add(27)
    with django_assert_num_queries(1):
        assert len(list(sheet.rows(context))) == 30
