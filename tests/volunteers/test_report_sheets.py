"""在职党员与服务时长 of the quarterly workbook: which registrations are rows, the verified hours of the
quarter (so the rows add up to the street's total), and one query however many rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from alliance.periods import Quarter
from alliance.reports import ReportContext
from volunteers import selectors
from volunteers.models import PartyMember
from volunteers.report_sheets import MEMBERS

from ..factories import CommunityFactory, MemberUnitFactory, StreetFactory
from .factories import PartyMemberFactory, ServiceLogFactory

pytestmark = pytest.mark.django_db

Q1 = Quarter(2026, 1)


@pytest.fixture
def community():
    return CommunityFactory(street=StreetFactory(name="柳巷街道"), name="桥头街社区")


def member(name: str, community, **fields) -> PartyMember:
    fields.setdefault("work_unit", MemberUnitFactory(name="山西饭店", community=community))
    fields.setdefault("registered_on", date(2025, 6, 1))
    return PartyMemberFactory(name=name, residence_community=community, **fields)


def test_a_row_per_verified_registration_and_per_one_with_hours_in_the_quarter(community):
    served = member("served", community)
    ServiceLogFactory(member=served, date=date(2026, 1, 1), hours=Decimal("2.0"))
    ServiceLogFactory(member=served, date=date(2026, 3, 31), hours=Decimal("1.5"))
    ServiceLogFactory(member=served, date=date(2026, 2, 1), hours=Decimal("8.0"), verified=False)
    ServiceLogFactory(member=served, date=date(2026, 4, 1), hours=Decimal("3.0"))
    ServiceLogFactory(member=served, date=date(2025, 12, 31), hours=Decimal("3.0"))
    member("idle", community)
    free_text = member("free text", community, work_unit=None, work_unit_name="市第一医院")
    ServiceLogFactory(member=free_text, date=date(2026, 2, 2), hours=Decimal("4.0"))
    moved = member("moved away", community, status=PartyMember.Status.ENDED)
    ServiceLogFactory(member=moved, date=date(2026, 1, 20), hours=Decimal("1.0"))
    member("moved away, no hours", community, status=PartyMember.Status.ENDED)
    member("pending", community, status=PartyMember.Status.PENDING)
    member("rejected", community, status=PartyMember.Status.REJECTED)
    member("registered after", community, registered_on=date(2026, 4, 1))
    elsewhere = member("elsewhere", CommunityFactory(street=StreetFactory(name="桥西街道")))
    ServiceLogFactory(member=elsewhere, date=date(2026, 2, 2), hours=Decimal("6.0"))

    rows = {row[0]: (row[2], row[6], row[7]) for row in MEMBERS.rows(ReportContext(community.street_id, Q1))}
    assert rows == {
        "served": ("山西饭店", Decimal("3.5"), 2),
        "idle": ("山西饭店", Decimal("0"), 0),
        "free text": ("市第一医院", Decimal("4.0"), 1),
        "moved away": ("山西饭店", Decimal("1.0"), 1),
    }
    figures = selectors.report_member_figures(street_id=community.street_id, quarter=Q1)
    assert figures == {"verified": 3, "serving": 3, "hours": Decimal("8.5")}
    assert sum(hours for _unit, hours, _logs in rows.values()) == figures["hours"]


def test_the_sheet_is_one_query_however_many_rows(community, django_assert_num_queries):
    context = ReportContext(community.street_id, Q1)

    def add(n: int) -> None:
        for i in range(n):
            someone = member(f"member {i}", community)
            ServiceLogFactory(member=someone, date=date(2026, 2, 1))
            ServiceLogFactory(member=someone, date=date(2026, 2, 2))

    add(3)
    with django_assert_num_queries(1):  # the registrations, their work unit, community and summed hours
        assert len(list(MEMBERS.rows(context))) == 3
    add(27)
    with django_assert_num_queries(1):
        assert len(list(MEMBERS.rows(context))) == 30
