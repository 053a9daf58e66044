"""The quarterly workbook (季度报表) as the street office and the district open it: which sheets, in which
order, what each holds for one street's quarter, and what the outward edition must never carry."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import Workbook, load_workbook

from alliance.reports import Edition, ReportContext, render_workbook, summary_figures
from demands import selectors as demand_selectors
from demands.models import Need
from meetings import selectors as meeting_selectors
from meetings.models import JointMeeting, Level
from projects import selectors as project_selectors
from volunteers import selectors as volunteer_selectors
from volunteers.models import ServiceLog

from ..demands.factories import ResourceFactory
from ..factories import MemberUnitFactory
from ..meetings.factories import InvitationFactory, MeetingFactory, ResolutionFactory
from ..projects.factories import ActivityFactory, ClaimFactory, ProjectFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory
from .report_factories import at, build_world, need, stamp

pytestmark = pytest.mark.django_db

# The sheets this part of the workbook contributes, in SPEC's order, by their English msgids. In Chinese
# (locale/zh_Hans/LC_MESSAGES/django.po): 汇总, 需求清单, 资源清单, 项目认领, 活动记录, 联席会议与出勤, 议定事项,
# 在职党员与服务时长 — 单位考核 (members.assessments) comes after them.
SHEETS = [
    "Summary",
    "Needs list",
    "Resource list",
    "Project claims",
    "Activity records",
    "Joint meetings and attendance",
    "Resolutions",
    "Party members and service hours",
]
MOBILE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture
def world():
    return build_world()


def render(street_id: int, quarter, edition: str = Edition.INTERNAL, language: str = "zh-hans") -> Workbook:
    buffer = io.BytesIO()
    with translation.override(language):
        render_workbook(ReportContext(street_id, quarter, edition), buffer, title="2026年第1季度报表")
    return load_workbook(io.BytesIO(buffer.getvalue()))


def rows(workbook: Workbook, index: int) -> list[tuple]:
    """The data rows (below the header) of the index-th sheet."""
    return list(workbook.worksheets[index].iter_rows(min_row=2, values_only=True))


def header(workbook: Workbook, index: int) -> list[str]:
    return [cell.value for cell in workbook.worksheets[index][1]]


def every_text(workbook: Workbook) -> list[str]:
    """Every cell of every sheet, and every document property, as text."""
    texts = [str(value) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for value in row]
    properties = workbook.properties
    texts += [str(getattr(properties, name)) for name in properties.__elements__ + properties.__attrs__]
    return texts


def test_sheets_come_in_spec_order_under_the_summary_with_the_header_frozen(world):
    workbook = render(world.street.pk, world.quarter, language="en")

    assert workbook.sheetnames[0] == "Summary"
    # 单位考核, from another part of the platform, may follow; ours keep SPEC's order among themselves.
    assert [name for name in workbook.sheetnames if name in SHEETS] == SHEETS
    assert all(workbook[name].freeze_panes == "A2" for name in SHEETS)
    assert header(workbook, 1)[:3] == ["ID", "submitted at", "community"]


def test_every_summary_figure_is_the_selectors_value_this_quarter_and_the_last(world):
    workbook = render(world.street.pk, world.quarter)
    lines = rows(workbook, 0)
    previous = world.quarter.previous()

    with translation.override("zh-hans"):
        figures = [
            (str(f.label), f.value(world.street.pk, world.quarter), f.value(world.street.pk, previous))
            for f in summary_figures()
        ]
    assert [line[0] for line in lines] == [label for label, _now, _before in figures]
    for (label, now, before), line in zip(figures, lines, strict=True):
        assert line[1] == (None if now is None else pytest.approx(float(now))), label
        assert line[2] == (None if before is None else pytest.approx(float(before))), label

    # The same figures, worked out by hand from the world (this quarter, the one before).
    by_key = {f.key: line[1:3] for f, line in zip(summary_figures(), lines, strict=True)}
    assert by_key["needs_submitted"] == (6, 2)
    assert by_key["needs_completed"] == (3, 1)
    assert by_key["needs_completed_on_time"] == (2, 1)
    assert by_key["needs_on_time_rate"] == (pytest.approx(0.6667), 1)
    assert by_key["needs_average_rating"] == (pytest.approx(3.67), 3)
    assert by_key["resources_available"] == (2, 1)
    assert by_key["projects_under_way"] == (3, 2)
    assert by_key["claims_approved"] == (1, 1)
    assert by_key["claims_fulfilled"] == (1, 0)
    assert by_key["activities"] == (2, 1)
    assert by_key["activity_hours"] == (6.5, 1)
    assert by_key["meetings_held"] == (2, 1)
    assert by_key["meeting_attendance_rate"] == (pytest.approx(0.6667), 0)
    assert by_key["resolutions_due"] == (3, 1)
    assert by_key["resolutions_done_on_time"] == (1, 0)
    assert by_key["party_members_verified"] == (3, 2)
    assert by_key["service_hours"] == (8.5, 5)
    assert by_key["units_active"] == (3, 2)
    assert by_key["units_joined"] == (1, 0)

    # Each line in its own number format: counts whole, rates as percentages, averages with decimals.
    formats = {
        f.key: workbook.worksheets[0].cell(row=i, column=2).number_format
        for i, f in enumerate(summary_figures(), start=2)
    }
    assert formats["needs_submitted"] == "0"
    assert formats["needs_on_time_rate"] == "0.0%"
    assert formats["needs_average_rating"] == "0.00"


def test_a_need_completed_late_on_31_march_beijing_time_is_q1_and_just_after_midnight_is_q2(world):
    street, q1 = world.street.pk, world.quarter
    # n_march: 23:30 on 31 March (15:30 UTC); n_april: 00:30 on 1 April (16:30 UTC on 31 March).
    assert demand_selectors.report_need_figures(street_id=street, quarter=q1)["completed"] == 3
    assert demand_selectors.report_need_figures(street_id=street, quarter=q1.next())["completed"] == 1

    needs = {row[0]: row for row in rows(render(street, q1), 1)}
    assert needs[world.objects["n_march"].pk][9] == datetime(2026, 3, 31, 23, 30)
    assert needs[world.objects["n_april"].pk][9] == datetime(2026, 4, 1, 0, 30)


def test_every_sheet_has_the_selectors_rows_and_totals(world):
    street, quarter = world.street.pk, world.quarter
    workbook = render(street, quarter)
    o = world.objects

    needs = rows(workbook, 1)
    assert len(needs) == demand_selectors.report_needs(street_id=street, quarter=quarter).count() == 7
    assert {row[0] for row in needs} == {
        o[k].pk for k in ("n_closed", "n_march", "n_april", "n_waiting", "n_formula", "n_late", "n_rejected")
    }
    with translation.override("zh-hans"):
        completed, yes, no = str(Need.Status.COMPLETED.label), translation.gettext("Yes"), translation.gettext("No")
    late = next(row for row in needs if row[0] == o["n_late"].pk)
    assert late[6] == completed
    assert late[10:13] == (no, 2, "郑大哥")  # completed 15 days after dispatch

    resources = rows(workbook, 2)
    assert len(resources) == demand_selectors.report_resources(street_id=street, quarter=quarter).count() == 3

    claims = rows(workbook, 3)
    expected_claims = project_selectors.report_project_claims(street_id=street, quarter=quarter).values_list(
        "id", "claim__id"
    )
    assert len(claims) == len(list(expected_claims)) == 4
    unclaimed = next(row for row in claims if row[0] == o["p_unclaimed"].pk)
    assert unclaimed[6:] == (None,) * 6

    activities = rows(workbook, 4)
    activity_figures = project_selectors.report_activity_figures(street_id=street, quarter=quarter)
    assert len(activities) == activity_figures["activities"] == 2
    assert sum(Decimal(str(row[8])) for row in activities) == activity_figures["hours"] == Decimal("6.5")

    meetings = rows(workbook, 5)
    expected_invitations = meeting_selectors.report_meeting_invitations(street_id=street, quarter=quarter)
    assert len(meetings) == len(list(expected_invitations.values_list("id", "invitations__id"))) == 6
    assert [row[8] for row in meetings if row[3] == "第一季度联席会议"] == [pytest.approx(2 / 3)] * 3

    resolutions = rows(workbook, 6)
    assert len(resolutions) == meeting_selectors.report_resolutions(street_id=street, quarter=quarter).count() == 4
    # (owner, due date): (done on time, overdue at the quarter's end)
    assert {(row[3], row[4].date()): row[7:9] for row in resolutions} == {
        ("山西饭店", date(2026, 3, 20)): (yes, no),  # done at 23:00 on its due day
        ("太原市第五中学", date(2026, 3, 31)): (None, yes),
        ("山西饭店", date(2026, 1, 15)): (no, no),  # done late, but done before the quarter ended
        ("太原市第五中学", date(2026, 5, 1)): (None, no),  # made in the quarter, due after it
    }

    members = rows(workbook, 7)
    member_figures = volunteer_selectors.report_member_figures(street_id=street, quarter=quarter)
    assert len(members) == volunteer_selectors.report_member_hours(street_id=street, quarter=quarter).count() == 4
    assert sum(Decimal(str(row[6])) for row in members) == member_figures["hours"] == Decimal("8.5")
    assert (
        sum(row[7] for row in members)
        == ServiceLog.objects.filter(
            verified=True,
            date__range=(quarter.first_day, quarter.last_day),
            member__residence_community__street=world.street,
        ).count()
        == 4
    )
    assert {row[0]: (row[2], row[6]) for row in members} == {
        "吴晓明": ("山西饭店", 3.5),
        "郑小红": ("市第一医院", 4),  # the free-text work unit of a unit that has not joined
        "冯静": ("太原市第五中学", 1),  # moved away since: the hours still count
        "陈立": ("太原市第五中学", 0),
    }

    # Nothing of the other street, nor of the quarters either side.
    texts = every_text(workbook)
    for outsider in ("陈外街", "外街单位", "外街项目", "蒋外", "冯先生", "周大娘"):
        assert not any(outsider in text for text in texts), outsider


def test_text_that_looks_like_a_formula_is_written_as_text(world):
    workbook = render(world.street.pk, world.quarter)
    texts = every_text(workbook)

    assert '\'=HYPERLINK("http://x.example","点我")' in texts
    assert "'+每月一次义诊" in texts
    assert "'@小区广场" in texts
    assert "'-明确责任人" in texts
    cells = [value for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for value in row]
    # (Numbers may be negative: a fall against the previous quarter.)
    assert not any(isinstance(value, str) and value.startswith(("=", "+", "-", "@")) for value in cells)
    # Masked in the outward edition, a name starting with "-" stays text too.
    assert "'-*" in every_text(render(world.street.pk, world.quarter, Edition.OUTWARD))


def test_the_outward_edition_carries_no_phone_and_no_full_name(world):
    internal = every_text(render(world.street.pk, world.quarter))
    outward_workbook = render(world.street.pk, world.quarter, Edition.OUTWARD)
    outward = every_text(outward_workbook)

    # The internal edition has them all, so the scan below cannot pass for want of data.
    assert all(any(phone in text for text in internal) for phone in world.phones)
    assert all(any(name in text for text in internal) for name in world.names)

    assert [text for text in outward if MOBILE.search(text)] == []
    assert [name for name in world.names if any(name in text for text in outward)] == []
    # Contact columns are left out, names masked to the family name.
    with translation.override("zh-hans"):
        assert translation.gettext("contact phone") not in header(outward_workbook, 1)
        assert translation.gettext("address") not in header(outward_workbook, 1)
        assert translation.gettext("mobile phone") not in header(outward_workbook, 7)
    assert {row[0] for row in rows(outward_workbook, 7)} == {"吴**", "郑**", "冯*", "陈*"}
    assert "周**" in [row[6] for row in rows(outward_workbook, 5)]


def test_another_streets_workbook_holds_only_its_own(world):
    workbook = render(world.other_street.pk, world.quarter)

    assert [row[-3] for row in rows(workbook, 1)] == ["陈外街"]
    assert [row[0] for row in rows(workbook, 7)] == ["蒋外"]
    assert not any("赵大爷" in text or "吴晓明" in text for text in every_text(workbook))


def more_rows(world, n: int) -> None:
    """`n` more rows on every sheet of the world's quarter."""
    o = world.objects
    project = ProjectFactory(street=world.street, community=o["cx"], starts_on=date(2026, 1, 1), places=n)
    meeting = MeetingFactory(
        level=Level.COMMUNITY, community=o["cx"], start=at(2026, 2, 20, 9), status=JointMeeting.Status.HELD
    )
    for _i in range(n):
        unit = MemberUnitFactory(community=o["cx"], joined_on=date(2025, 1, 1))
        need(submitted=at(2026, 2, 3), community=o["cx"])
        stamp(ResourceFactory(unit=unit), created_at=at(2026, 2, 3))
        claim = stamp(ClaimFactory(project=project, unit=unit), created_at=at(2026, 2, 3))
        ActivityFactory(claim=claim, date=date(2026, 3, 1))
        InvitationFactory(meeting=meeting, unit=unit)
        ResolutionFactory(meeting=meeting, owner=unit, due_date=date(2026, 3, 15))
        member = PartyMemberFactory(residence_community=o["cy"], work_unit=unit, registered_on=date(2026, 1, 1))
        ServiceLogFactory(member=member, date=date(2026, 3, 1))


def test_the_number_of_queries_does_not_grow_with_the_rows(world):
    def render_counting() -> tuple[int, int]:
        buffer = io.BytesIO()
        with CaptureQueriesContext(connection) as queries, translation.override("zh-hans"):
            result = render_workbook(ReportContext(world.street.pk, world.quarter), buffer)
        return len(queries), result.rows

    queries_before, rows_before = render_counting()
    more_rows(world, 12)
    queries_after, rows_after = render_counting()

    assert rows_after == rows_before + 12 * 7  # 12 more on each of the seven data sheets
    assert queries_after == queries_before


def test_a_phone_typed_into_free_text_is_masked_in_the_outward_edition(world):
    need(submitted=at(2026, 2, 3), community=world.objects["cx"], title="楼道灯坏了，请打13912345678找我")
    internal = every_text(render(world.street.pk, world.quarter))
    outward = every_text(render(world.street.pk, world.quarter, Edition.OUTWARD))
    assert "楼道灯坏了，请打13912345678找我" in internal
    assert "楼道灯坏了，请打139****5678找我" in outward
    assert [text for text in outward if MOBILE.search(text)] == []
