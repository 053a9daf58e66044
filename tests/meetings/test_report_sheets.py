"""联席会议与出勤 and 议定事项 of the quarterly workbook: which meetings are the street's, a row per invitation,
when a resolution was done on time or overdue at the quarter's end, and one query per sheet."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from alliance.periods import Quarter
from alliance.reports import ReportContext
from meetings import selectors
from meetings.models import Invitation, JointMeeting, Level, Resolution
from meetings.report_sheets import ATTENDANCE, RESOLUTIONS

from ..alliance.report_factories import at, stamp
from ..factories import CommunityFactory, MemberUnitFactory, SectorFactory, StreetFactory, UserFactory
from .factories import InvitationFactory, MeetingFactory, ResolutionFactory

pytestmark = pytest.mark.django_db

Q1 = Quarter(2026, 1)
HELD = JointMeeting.Status.HELD


@pytest.fixture
def street():
    return StreetFactory(name="柳巷街道")


@pytest.fixture
def unit(street):
    return MemberUnitFactory(name="山西饭店", community=CommunityFactory(street=street))


@pytest.fixture
def outsider():
    return MemberUnitFactory(name="外街单位", community=CommunityFactory(street=StreetFactory(name="桥西街道")))


def meeting(title: str, start=None, **fields) -> JointMeeting:
    return MeetingFactory(title=title, start=start or at(2026, 2, 10, 9), **fields)


def test_the_streets_meetings_are_its_communities_its_sector_branches_and_those_inviting_its_units(
    street, unit, outsider
):
    InvitationFactory(meeting=meeting("street meeting", level=Level.STREET), unit=unit)
    meeting("community meeting", level=Level.COMMUNITY, community=unit.community)
    meeting("sector meeting", level=Level.SECTOR, sector=SectorFactory(street=street))
    InvitationFactory(meeting=meeting("another street's meeting", level=Level.STREET), unit=outsider)
    meeting("another street's community", level=Level.COMMUNITY, community=outsider.community)
    meeting("next quarter", level=Level.COMMUNITY, community=unit.community, start=at(2026, 4, 1, 0, 0))
    meeting(
        "last minute of the quarter", level=Level.COMMUNITY, community=unit.community, start=at(2026, 3, 31, 23, 59)
    )

    titles = {row[3] for row in ATTENDANCE.rows(ReportContext(street.pk, Q1))}
    assert titles == {"street meeting", "community meeting", "sector meeting", "last minute of the quarter"}


def test_a_row_per_invitation_with_the_meetings_attendance_rate_once_held(street, unit):
    held = meeting("held", level=Level.COMMUNITY, community=unit.community, status=HELD)
    InvitationFactory(meeting=held, unit=unit, status=Invitation.Status.ATTENDED)
    InvitationFactory(
        meeting=held, unit=None, person=UserFactory(last_name="周", first_name="会计"), status=Invitation.Status.ABSENT
    )
    InvitationFactory(meeting=held, unit=None, person=UserFactory(username="clerk2"), status=Invitation.Status.ATTENDED)
    planned = meeting("planned", level=Level.COMMUNITY, community=unit.community, start=at(2026, 3, 1, 9))
    InvitationFactory(meeting=planned, unit=unit, status=Invitation.Status.CONFIRMED)
    meeting("nobody invited", level=Level.COMMUNITY, community=unit.community, start=at(2026, 3, 2, 9))

    with translation.override("en"):
        rows = [row[3:] for row in ATTENDANCE.rows(ReportContext(street.pk, Q1))]
    two_thirds = Decimal(2) / Decimal(3)
    assert rows == [
        ("held", "Held", "山西饭店", None, "Attended", two_thirds),
        ("held", "Held", None, "周会计", "Absent", two_thirds),
        ("held", "Held", None, "clerk2", "Attended", two_thirds),  # no name on the account: its username
        ("planned", "Planned", "山西饭店", None, "Confirmed", None),
        ("nobody invited", "Planned", None, None, None, None),
    ]
    # The street's figure counts the units' invitations only.
    assert selectors.report_meeting_figures(street_id=street.pk, quarter=Q1) == {
        "held": 1,
        "attendance_rate": Decimal("1.0000"),
    }


def test_done_on_time_is_by_the_end_of_the_due_day_and_overdue_is_as_the_quarter_ended(street, unit):
    source = meeting("source", level=Level.COMMUNITY, community=unit.community)

    def resolution(text: str, due: date, done=None, made=None) -> Resolution:
        status = Resolution.Status.DONE if done else Resolution.Status.OPEN
        made_at = made or at(2026, 2, 10)
        return stamp(
            ResolutionFactory(meeting=source, owner=unit, text=text, due_date=due, status=status, done_at=done),
            created_at=made_at,
        )

    resolution("23:30 on its day", date(2026, 3, 1), done=at(2026, 3, 1, 23, 30))
    resolution("00:30 the day after", date(2026, 3, 1), done=at(2026, 3, 2, 0, 30))
    resolution("open, due in the quarter", date(2026, 3, 31))
    resolution("done after the quarter", date(2026, 3, 15), done=at(2026, 4, 2))
    resolution("due after the quarter", date(2026, 5, 1))
    resolution("made and due before", date(2025, 12, 31), made=at(2025, 12, 1))

    rows = {row[2]: row[7:9] for row in RESOLUTIONS.rows(ReportContext(street.pk, Q1))}
    assert rows == {
        "23:30 on its day": (True, False),
        "00:30 the day after": (False, False),
        "open, due in the quarter": (None, True),
        "done after the quarter": (False, True),
        "due after the quarter": (None, False),
    }
    assert selectors.report_resolution_figures(street_id=street.pk, quarter=Q1) == {"due": 4, "on_time": 1}


@pytest.mark.parametrize("sheet", [ATTENDANCE, RESOLUTIONS], ids=lambda s: s.key)
def test_a_sheet_is_one_query_however_many_rows(street, sheet, django_assert_num_queries):
    community = CommunityFactory(street=street)
    context = ReportContext(street.pk, Q1)

    def add(n: int) -> None:
        held = meeting("held", level=Level.COMMUNITY, community=community, status=HELD)
        for _i in range(n):
            unit = MemberUnitFactory(community=community)
            InvitationFactory(meeting=held, unit=unit, status=Invitation.Status.ATTENDED)
            ResolutionFactory(meeting=held, owner=unit, due_date=date(2026, 3, 1))

    add(3)
    with django_assert_num_queries(1):  # the rows, with the meeting's invitation counts as subqueries
        assert len(list(sheet.rows(context))) == 3
    add(27)
    with django_assert_num_queries(1):
        assert len(list(sheet.rows(context))) == 30
