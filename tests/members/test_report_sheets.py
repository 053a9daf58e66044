"""The member units' lines of 汇总 in the quarterly workbook."""

from __future__ import annotations

from datetime import date

import pytest

from alliance.periods import Quarter
from members import selectors
from members.models import MemberUnit

from ..alliance.report_factories import at, stamp
from ..factories import CommunityFactory, MemberUnitFactory, StreetFactory

pytestmark = pytest.mark.django_db


def test_active_units_are_those_that_had_joined_by_the_quarters_last_day():
    community = CommunityFactory(street=StreetFactory(name="柳巷街道"))
    MemberUnitFactory(community=community, joined_on=date(2025, 5, 1))
    MemberUnitFactory(community=community, joined_on=date(2026, 3, 31))
    MemberUnitFactory(community=community, joined_on=date(2026, 4, 1))
    stamp(MemberUnitFactory(community=community, joined_on=None), created_at=at(2026, 2, 1))
    MemberUnitFactory(community=community, joined_on=date(2025, 5, 1), status=MemberUnit.Status.WITHDRAWN)
    MemberUnitFactory(community=community, joined_on=None, status=MemberUnit.Status.APPLIED)
    MemberUnitFactory(community__street__name="桥西街道", joined_on=date(2025, 5, 1))

    street_id = community.street_id
    assert selectors.report_unit_figures(street_id=street_id, quarter=Quarter(2026, 1)) == {"active": 3, "joined": 1}
    assert selectors.report_unit_figures(street_id=street_id, quarter=Quarter(2025, 4)) == {"active": 1, "joined": 0}
