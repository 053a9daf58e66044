"""The units' quarterly assessment (按季度考核): the arithmetic, each indicator from real rows, the scheme's
weights, the adjustment, the workflow with its lock, and every transition for every role of the cast."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from alliance import reports
from alliance.errors import Conflict, InvalidInput, TransitionNotAllowed
from alliance.models import Notification
from alliance.periods import Quarter
from demands.models import Need
from meetings.models import Invitation, JointMeeting, Resolution
from members import assessments
from members.models import Assessment, AssessmentScheme, MemberUnit
from projects.models import ProjectClaim

from ..conftest import client_for
from ..demands.factories import NeedFactory
from ..factories import CommunityFactory, MemberUnitFactory, SectorFactory, StreetFactory
from ..meetings.factories import InvitationFactory, MeetingFactory, ResolutionFactory
from ..projects.factories import ClaimFactory
from ..volunteers.factories import PartyMemberFactory, ServiceLogFactory
from .report_factories import Q2, assessment_of, at, compute, lines_of, set_weights

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def street(unit_a, unit_b):
    # The factory's joined_on is any day of the decade; the units here joined before the quarters counted.
    MemberUnit.objects.update(joined_on=date(2025, 1, 1))
    return unit_a.community.street


@pytest.fixture
def other_street_unit():
    return MemberUnitFactory(community=CommunityFactory(street=StreetFactory(name="桥东街道")))


# --- Arithmetic --------------------------------------------------------------------------------------


def test_points_are_weight_times_the_share_of_full_marks_capped_at_the_weight():
    assert assessments.points_for(D("2"), weight=D("20"), full_marks=D("3")) == D("13.33")
    assert assessments.points_for(D("5"), weight=D("20"), full_marks=D("3")) == D("20.00")  # capped
    assert assessments.points_for(D("0.5"), weight=D("15"), full_marks=D("1")) == D("7.50")
    assert assessments.points_for(None, weight=D("15"), full_marks=D("1")) == D("0.00")
    assert assessments.points_for(D("0"), weight=D("15"), full_marks=D("1")) == D("0.00")


def _line(code, weight, points, applicable=True):
    return assessments.LineResult(
        code, code, 0, D("1") if applicable else None, D(weight), D("1"), D(points), applicable
    )


def test_indicators_that_do_not_apply_give_their_weight_to_the_others():
    lines = [_line("a", "20", "10"), _line("b", "30", "30"), _line("c", "50", "0", applicable=False)]
    # (10 + 30) × 100 / 50
    assert assessments.score_of(lines) == D("80.00")
    assert assessments.score_of([_line("a", "20", "10"), _line("b", "80", "40")]) == D("50.00")
    # nothing applies: nothing to score
    assert assessments.score_of([_line("c", "50", "0", applicable=False)]) == D("0.00")


def test_default_weights_of_the_registered_indicators_add_up_to_100():
    codes = [i.code for i in reports.indicators()]
    assert codes == [
        "claims_fulfilled",
        "needs_on_time",
        "ratings",
        "attendance",
        "resolutions_on_time",
        "service_hours",
    ]
    assert sum(i.default_weight for i in reports.indicators()) == D("100")


# --- Each indicator from real rows: inside the quarter, outside it, another unit, another street -------------


def test_claims_fulfilled_counts_the_units_claims_completed_in_the_quarter(unit_a, unit_b, street, other_street_unit):
    done = ProjectClaim.Status.COMPLETED
    ClaimFactory(unit=unit_a, status=done, decided_at=at(2026, 4, 1, 0, 0))
    ClaimFactory(unit=unit_a, status=done, decided_at=at(2026, 6, 30, 23, 30))
    ClaimFactory(unit=unit_a, status=done, decided_at=at(2026, 3, 31, 23, 30))  # Q1 in Beijing
    ClaimFactory(unit=unit_a, status=done, decided_at=at(2026, 7, 1, 0, 0))  # Q3
    ClaimFactory(unit=unit_a, status=ProjectClaim.Status.APPROVED, decided_at=at(2026, 5, 1))  # not finished
    ClaimFactory(unit=unit_b, status=done, decided_at=at(2026, 5, 1))
    ClaimFactory(unit=other_street_unit, status=done, decided_at=at(2026, 5, 1))

    values = reports.indicator("claims_fulfilled").values(street.pk, Q2)

    assert values == {unit_a.pk: D("2"), unit_b.pk: D("1")}


def test_needs_on_time_is_the_share_completed_within_seven_days_of_dispatch(unit_a, unit_b, street, other_street_unit):
    def need(unit, dispatched, completed, status=Need.Status.COMPLETED, **kw):
        return NeedFactory(
            community=unit.community, unit=unit, status=status, dispatched_at=dispatched, completed_at=completed, **kw
        )

    need(unit_a, at(2026, 4, 1), at(2026, 4, 8))  # exactly 7 days: on time
    need(unit_a, at(2026, 4, 1), at(2026, 4, 9), status=Need.Status.CLOSED)  # late
    need(unit_a, at(2026, 6, 25), at(2026, 6, 30, 23, 0))  # on time, last evening of Q2
    need(unit_a, at(2026, 3, 1), at(2026, 3, 31, 23, 0))  # Q1
    need(unit_a, at(2026, 6, 30), None, status=Need.Status.ACCEPTED)  # not completed
    need(unit_b, at(2026, 5, 1), at(2026, 5, 20))  # late
    need(other_street_unit, at(2026, 5, 1), at(2026, 5, 2))

    values = reports.indicator("needs_on_time").values(street.pk, Q2)

    # unit_a: 2 of 3; a unit with none completed has no rate at all
    assert values == {unit_a.pk: D("0.6667"), unit_b.pk: D("0.0000")}


def test_ratings_average_the_ratings_of_needs_completed_in_the_quarter(unit_a, unit_b, street):
    def need(unit, completed, rating):
        return NeedFactory(
            community=unit.community,
            unit=unit,
            status=Need.Status.CLOSED,
            dispatched_at=completed - timedelta(days=1),
            completed_at=completed,
            rating=rating,
        )

    need(unit_a, at(2026, 4, 10), 5)
    need(unit_a, at(2026, 5, 10), 4)
    need(unit_a, at(2026, 6, 10), 4)
    need(unit_a, at(2026, 6, 11), None)  # not rated: not in the average
    need(unit_a, at(2026, 1, 10), 1)  # Q1
    need(unit_b, at(2026, 5, 10), None)  # completed, nothing rated: no value

    values = reports.indicator("ratings").values(street.pk, Q2)

    assert values == {unit_a.pk: D("4.3333")}


def test_attendance_is_attended_over_invited_for_meetings_held_in_the_quarter(unit_a, unit_b, street):
    held = JointMeeting.Status.HELD
    in_q2 = [MeetingFactory(status=held, start=at(2026, month, 10)) for month in (4, 5, 6)]
    InvitationFactory(meeting=in_q2[0], unit=unit_a, status=Invitation.Status.ATTENDED)
    InvitationFactory(meeting=in_q2[1], unit=unit_a, status=Invitation.Status.ABSENT)
    InvitationFactory(meeting=in_q2[2], unit=unit_a, status=Invitation.Status.ATTENDED)
    InvitationFactory(meeting=MeetingFactory(status=held, start=at(2026, 3, 31, 20)), unit=unit_a)  # Q1
    cancelled = MeetingFactory(status=JointMeeting.Status.CANCELLED, start=at(2026, 5, 20))
    InvitationFactory(meeting=cancelled, unit=unit_a, status=Invitation.Status.DECLINED)
    InvitationFactory(meeting=in_q2[0], unit=unit_b, status=Invitation.Status.CONFIRMED)  # confirmed, never came

    values = reports.indicator("attendance").values(street.pk, Q2)

    assert values == {unit_a.pk: D("0.6667"), unit_b.pk: D("0.0000")}


def test_resolutions_on_time_counts_those_done_by_their_due_day_in_beijing(unit_a, unit_b, street):
    done = Resolution.Status.DONE
    ResolutionFactory(owner=unit_a, due_date=date(2026, 4, 30), status=done, done_at=at(2026, 4, 30, 23, 30))
    ResolutionFactory(owner=unit_a, due_date=date(2026, 5, 31), status=done, done_at=at(2026, 6, 1, 0, 30))  # late
    ResolutionFactory(owner=unit_a, due_date=date(2026, 6, 30), status=Resolution.Status.OPEN)  # not done
    ResolutionFactory(owner=unit_a, due_date=date(2026, 6, 15), status=done, done_at=at(2026, 6, 1))
    ResolutionFactory(owner=unit_a, due_date=date(2026, 7, 1), status=done, done_at=at(2026, 6, 1))  # due in Q3
    ResolutionFactory(owner=unit_b, due_date=date(2026, 3, 31), status=Resolution.Status.OPEN)  # due in Q1

    values = reports.indicator("resolutions_on_time").values(street.pk, Q2)

    assert values == {unit_a.pk: D("0.5000")}


def test_service_hours_sum_the_verified_hours_of_members_working_at_the_unit(unit_a, unit_b, street, other_street_unit):
    member_a = PartyMemberFactory(work_unit=unit_a, residence_community=unit_b.community)
    member_a2 = PartyMemberFactory(work_unit=unit_a, residence_community=unit_a.community)
    ServiceLogFactory(member=member_a, date=date(2026, 4, 1), hours=D("2.5"))
    ServiceLogFactory(member=member_a2, date=date(2026, 6, 30), hours=D("3.0"))
    ServiceLogFactory(member=member_a, date=date(2026, 5, 1), hours=D("8.0"), verified=False)  # not verified
    ServiceLogFactory(member=member_a, date=date(2026, 3, 31), hours=D("4.0"))  # Q1
    ServiceLogFactory(member=PartyMemberFactory(work_unit=unit_b), date=date(2026, 5, 1), hours=D("1.5"))
    ServiceLogFactory(member=PartyMemberFactory(work_unit=other_street_unit), date=date(2026, 5, 1))

    values = reports.indicator("service_hours").values(street.pk, Q2)

    assert values == {unit_a.pk: D("5.5"), unit_b.pk: D("1.5")}


# --- Computing --------------------------------------------------------------------------------------


def _rows_for_unit_a(unit_a):
    """unit_a in Q2: 2 claims fulfilled, needs 1 of 2 on time rated 4 and 5, no meeting, no resolution,
    10 hours."""
    ClaimFactory(unit=unit_a, status=ProjectClaim.Status.COMPLETED, decided_at=at(2026, 5, 1))
    ClaimFactory(unit=unit_a, status=ProjectClaim.Status.COMPLETED, decided_at=at(2026, 5, 2))
    for days, rating in ((3, 4), (9, 5)):
        NeedFactory(
            community=unit_a.community,
            unit=unit_a,
            status=Need.Status.CLOSED,
            dispatched_at=at(2026, 5, 1),
            completed_at=at(2026, 5, 1) + timedelta(days=days),
            rating=rating,
        )
    ServiceLogFactory(member=PartyMemberFactory(work_unit=unit_a), date=date(2026, 5, 5), hours=D("10"))


def test_compute_makes_a_draft_per_active_unit_with_exact_points_and_renormalised_score(unit_a, unit_b, street):
    MemberUnitFactory(community=unit_a.community, status=MemberUnit.Status.APPLIED)  # not a member yet
    MemberUnitFactory(community=unit_a.community, joined_on=date(2026, 7, 2))  # joined after the quarter
    _rows_for_unit_a(unit_a)

    assert compute(street) == 2

    a = assessment_of(unit_a)
    assert a.status == Assessment.Status.DRAFT
    assert lines_of(a) == {
        "claims_fulfilled": (D("2.0000"), D("20.00"), D("13.33"), True),  # 20 × 2/3
        "needs_on_time": (D("0.5000"), D("20.00"), D("10.00"), True),
        "ratings": (D("4.5000"), D("15.00"), D("13.50"), True),  # 15 × 4.5/5
        "attendance": (None, D("15.00"), D("0.00"), False),
        "resolutions_on_time": (None, D("15.00"), D("0.00"), False),
        "service_hours": (D("10.0000"), D("15.00"), D("7.50"), True),  # 15 × 10/20
    }
    # (13.33 + 10 + 13.50 + 7.50) × 100 / 70
    assert a.score == D("63.33") and a.total == D("63.33") and a.adjustment == D("0")
    b = assessment_of(unit_b)
    # missing_is_zero indicators count as 0; the others do not apply; 0 × 100 / 35
    assert lines_of(b)["claims_fulfilled"] == (D("0.0000"), D("20.00"), D("0.00"), True)
    assert lines_of(b)["needs_on_time"] == (None, D("20.00"), D("0.00"), False)
    assert b.score == D("0.00")
    assert Assessment.objects.count() == 2


def test_compute_runs_one_query_per_indicator_whatever_the_number_of_units(
    unit_a, street, django_assert_max_num_queries
):
    compute(street)  # the scheme exists from here on
    MemberUnitFactory.create_batch(20, community=unit_a.community, joined_on=date(2025, 1, 1))
    # scheme (get, its items) + enabled items + 6 indicators + savepoint/transaction + units + existing +
    # bulk insert + locked targets + delete lines + insert lines + update + history insert
    with django_assert_max_num_queries(22):
        assert compute(street) == 22


def test_recomputing_a_draft_updates_it_and_is_idempotent(unit_a, street):
    compute(street)
    assert assessment_of(unit_a).score == D("0.00")
    _rows_for_unit_a(unit_a)
    compute(street)
    compute(street)
    a = assessment_of(unit_a)
    assert a.score == D("63.33")
    assert a.lines.count() == 6
    assert Assessment.objects.filter(unit=unit_a).count() == 1


def test_weights_changed_in_the_scheme_change_the_points_on_recompute(unit_a, street):
    _rows_for_unit_a(unit_a)
    compute(street)
    set_weights(street, 2026, claims_fulfilled=("40", "2"), service_hours=("60", "40"))

    compute(street)

    a = assessment_of(unit_a)
    assert lines_of(a) == {
        "claims_fulfilled": (D("2.0000"), D("40.00"), D("40.00"), True),  # 40 × min(2/2, 1)
        "service_hours": (D("10.0000"), D("60.00"), D("15.00"), True),  # 60 × 10/40
    }
    assert a.score == D("55.00")


def test_a_new_years_scheme_copies_the_last_one(street):
    set_weights(street, 2026, claims_fulfilled="50", ratings="50")
    scheme = assessments.scheme_for(street=street, year=2027)
    items = {i.code: (i.weight, i.enabled) for i in scheme.items.all()}
    assert items["claims_fulfilled"] == (D("50.00"), True)
    assert items["attendance"][1] is False
    assert AssessmentScheme.objects.count() == 2


def test_compute_leaves_submitted_and_approved_assessments_alone(unit_a, unit_b, street, street_staff):
    compute(street)
    submitted = assessments.assessment_submit(assessment=assessment_of(unit_a), actor=street_staff)
    approved = assessments.assessment_submit(assessment=assessment_of(unit_b), actor=street_staff)
    approved = assessments.assessment_approve(assessment=approved, actor=street_staff)
    _rows_for_unit_a(unit_a)
    ClaimFactory(unit=unit_b, status=ProjectClaim.Status.COMPLETED, decided_at=at(2026, 5, 1))

    assert compute(street) == 0

    assert assessment_of(unit_a).score == D("0.00") and assessment_of(unit_a).computed_at == submitted.computed_at
    assert assessment_of(unit_b).score == D("0.00")
    assert lines_of(assessment_of(unit_b))["claims_fulfilled"][0] == D("0.0000")


# --- Adjustment ---------------------------------------------------------------------------------------


def test_an_adjustment_needs_a_reason_and_moves_the_total(unit_a, street, street_staff):
    _rows_for_unit_a(unit_a)
    compute(street)
    a = assessment_of(unit_a)
    with pytest.raises(InvalidInput):
        assessments.assessment_adjust(assessment=a, adjustment=D("5"), comment="  ", actor=street_staff)
    with pytest.raises(InvalidInput):
        assessments.assessment_adjust(assessment=a, adjustment=D("20.01"), comment="太多", actor=street_staff)
    assert assessment_of(unit_a).total == D("63.33")

    a = assessments.assessment_adjust(
        assessment=a, adjustment=D("-3.5"), comment="一次会议未请假缺席", actor=street_staff
    )

    assert (a.score, a.adjustment, a.total) == (D("63.33"), D("-3.50"), D("59.83"))
    assert a.adjustment_comment == "一次会议未请假缺席"
    assert a.history.first().history_user == street_staff
    # a recomputation keeps the adjustment
    compute(street)
    assert assessment_of(unit_a).total == D("59.83")


# --- The workflow and its lock ---------------------------------------------------------------------------


def test_approval_locks_the_assessment_against_every_edit(unit_a, street, street_staff, liaison_a):
    compute(street)
    a = assessments.assessment_submit(assessment=assessment_of(unit_a), actor=street_staff)
    a = assessments.assessment_approve(assessment=a, actor=street_staff)
    assert a.status == Assessment.Status.APPROVED and a.approved_by == street_staff

    with pytest.raises(Conflict):
        assessments.assessment_adjust(assessment=a, adjustment=D("1"), comment="补分", actor=street_staff)
    with pytest.raises(Conflict):
        assessments.assessment_remark(assessment=a, text="我们有异议", actor=liaison_a)
    with pytest.raises(Conflict):
        assessments.assessment_recompute(assessment=a, actor=street_staff)
    for action in (assessments.assessment_submit, assessments.assessment_approve):
        with pytest.raises(TransitionNotAllowed):
            action(assessment=a, actor=street_staff)
    with pytest.raises(TransitionNotAllowed):
        assessments.assessment_return(assessment=a, reason="重新核对", actor=street_staff)
    _rows_for_unit_a(unit_a)
    compute(street)
    a.refresh_from_db()
    assert (a.status, a.total, a.adjustment, a.liaison_remark) == (Assessment.Status.APPROVED, D("0.00"), D("0"), "")
    # the unit's liaison was told
    assert Notification.objects.filter(recipient=liaison_a, kind="assessment_approved").count() == 1


def test_return_for_revision_then_recompute_and_resubmit(unit_a, street, street_staff, community_x_staff):
    compute(street)
    a = assessments.assessment_submit(assessment=assessment_of(unit_a), actor=community_x_staff)
    with pytest.raises(InvalidInput):
        assessments.assessment_return(assessment=a, reason="", actor=street_staff)

    a = assessments.assessment_return(assessment=a, reason="认领项目未计入", actor=street_staff)

    assert a.status == Assessment.Status.RETURNED and a.return_reason == "认领项目未计入"
    assert Notification.objects.filter(recipient=community_x_staff, kind="assessment_returned").count() == 1
    _rows_for_unit_a(unit_a)
    assert compute(street) == 2  # the returned one is recomputed (and unit_b's draft)
    a = assessments.assessment_submit(assessment=assessment_of(unit_a), actor=community_x_staff)
    assert a.status == Assessment.Status.SUBMITTED and a.score == D("63.33")
    a = assessments.assessment_approve(assessment=a, actor=street_staff)
    assert a.status == Assessment.Status.APPROVED


def test_while_submitted_only_the_street_adjusts(unit_a, street, community_x_staff, street_staff):
    compute(street)
    a = assessments.assessment_submit(assessment=assessment_of(unit_a), actor=community_x_staff)
    with pytest.raises(Conflict):
        assessments.assessment_adjust(assessment=a, adjustment=D("3"), comment="补报活动", actor=community_x_staff)
    a = assessments.assessment_adjust(assessment=a, adjustment=D("3"), comment="补报活动", actor=street_staff)
    assert (a.status, a.total) == (Assessment.Status.SUBMITTED, D("3.00"))


def test_the_liaison_leaves_a_remark_before_approval(unit_a, street, liaison_a):
    compute(street)
    a = assessments.assessment_remark(assessment=assessment_of(unit_a), text="  三月份活动漏报  ", actor=liaison_a)
    assert a.liaison_remark == "三月份活动漏报" and a.remarked_at is not None
    with pytest.raises(InvalidInput):
        assessments.assessment_remark(assessment=a, text=" ", actor=liaison_a)


# --- Every transition × every role -----------------------------------------------------------------------

OK, NOT_FOUND, FORBIDDEN = "ok", "404", "403"
ROLES = ["anonymous", "liaison_a", "liaison_b", "community_x_staff", "community_y_staff", "street_staff", "member"]
UNSEEN = {"anonymous": NOT_FOUND, "liaison_b": NOT_FOUND, "community_y_staff": NOT_FOUND, "member": NOT_FOUND}
EXPECTED = {
    # staff who hold the unit's assessment prepare it (adjust, submit); the street decides
    "adjust": {**UNSEEN, "liaison_a": FORBIDDEN, "community_x_staff": OK, "street_staff": OK},
    "submit": {**UNSEEN, "liaison_a": FORBIDDEN, "community_x_staff": OK, "street_staff": OK},
    "approve": {**UNSEEN, "liaison_a": FORBIDDEN, "community_x_staff": FORBIDDEN, "street_staff": OK},
    "return": {**UNSEEN, "liaison_a": FORBIDDEN, "community_x_staff": FORBIDDEN, "street_staff": OK},
    "remark": {**UNSEEN, "liaison_a": OK, "community_x_staff": FORBIDDEN, "street_staff": FORBIDDEN},
}


def _attempt(action: str, assessment: Assessment, actor) -> str:
    calls = {
        "adjust": lambda: assessments.assessment_adjust(
            assessment=assessment, adjustment=D("2"), comment="表现突出", actor=actor
        ),
        "submit": lambda: assessments.assessment_submit(assessment=assessment, actor=actor),
        "approve": lambda: assessments.assessment_approve(assessment=assessment, actor=actor),
        "return": lambda: assessments.assessment_return(assessment=assessment, reason="请核对", actor=actor),
        "remark": lambda: assessments.assessment_remark(assessment=assessment, text="已阅", actor=actor),
    }
    try:
        calls[action]()
    except Http404:
        return NOT_FOUND
    except PermissionDenied:
        return FORBIDDEN
    return OK


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_every_transition_for_every_role(action, role, cast, unit_a, unit_b, street, street_staff):
    compute(street)
    a = assessment_of(unit_a)
    if action in ("approve", "return"):
        a = assessments.assessment_submit(assessment=a, actor=street_staff)
    before = Assessment.objects.get(pk=a.pk)

    outcome = _attempt(action, a, cast[role])

    assert outcome == EXPECTED[action][role]
    after = Assessment.objects.get(pk=a.pk)
    changed = (after.status, after.total, after.liaison_remark) != (before.status, before.total, before.liaison_remark)
    assert changed is (outcome == OK)


@pytest.mark.parametrize("role", ROLES)
def test_only_street_staff_compute_on_demand(role, cast, street):
    try:
        assessments.assessments_compute(street=street, quarter=Q2, actor=cast[role])
        outcome = OK
    except PermissionDenied:
        outcome = FORBIDDEN
    assert outcome == (OK if role == "street_staff" else FORBIDDEN)


@pytest.mark.parametrize(
    ("role", "seen"),
    [
        ("anonymous", set()),
        ("member", set()),
        ("liaison_a", {"a"}),
        ("liaison_b", {"b"}),
        ("community_x_staff", {"a"}),
        ("community_y_staff", {"b"}),
        ("street_staff", {"a", "b"}),
    ],
)
def test_each_role_sees_only_its_own_assessments(role, seen, cast, unit_a, unit_b, street):
    compute(street)
    names = {unit_a.pk: "a", unit_b.pk: "b"}
    visible = assessments.assessments_visible_to(user=cast[role])
    assert {names[a.unit_id] for a in visible} == seen


# --- The 单位考核 sheet ------------------------------------------------------------------------------------


def test_the_sheet_ranks_units_in_the_street_and_in_their_sector_branch(unit_a, unit_b, street, street_staff):
    sector = SectorFactory(street=street, name="企业分会")
    MemberUnit.objects.filter(pk__in=[unit_a.pk, unit_b.pk]).update(sector=sector)
    unit_c = MemberUnitFactory(name="柳巷小学", community=unit_a.community, joined_on=date(2025, 1, 1))
    _rows_for_unit_a(unit_a)
    ClaimFactory(unit=unit_c, status=ProjectClaim.Status.COMPLETED, decided_at=at(2026, 5, 1))
    compute(street)
    assessments.assessment_adjust(
        assessment=assessment_of(unit_b), adjustment=D("5"), comment="加分", actor=street_staff
    )

    with translation.override("en"):
        rows = list(assessments.ASSESSMENT_SHEET.rows(reports.ReportContext(street.pk, Q2)))

    columns = list(assessments.ASSESSMENT_SHEET.columns)
    assert len(columns) == 3 + 2 * 6 + 1 + 7  # the indicators, the year's points (issue 15), the rest
    assert all(len(row) == len(columns) for row in rows)
    by_unit = {row[0]: row for row in rows}
    assert [row[0] for row in rows] == ["山西饭店", "柳巷小学", "太原市第五中学"]
    a, c, b = by_unit["山西饭店"], by_unit["柳巷小学"], by_unit["太原市第五中学"]
    assert a[1:3] == ("企业分会", "桥头街社区")
    assert a[3:5] == (D("2.0000"), D("13.33"))  # claims fulfilled: value, points
    assert a[-7:] == (D("63.33"), D("0.00"), "", D("63.33"), "Draft", 1, 1)
    assert (a[-2], c[-2], b[-2]) == (1, 2, 3)  # rank in the street
    assert (a[-1], c[-1], b[-1]) == (1, None, 2)  # rank in the sector branch; unit_c has none
    assert b[-6:-4] == (D("5.00"), "加分")


def test_quarter_bounds_are_beijing_days(unit_a, street):
    ClaimFactory(unit=unit_a, status=ProjectClaim.Status.COMPLETED, decided_at=at(2026, 3, 31, 23, 59))
    compute(street, Quarter(2026, 1))
    compute(street)
    assert lines_of(assessment_of(unit_a, Quarter(2026, 1)))["claims_fulfilled"][0] == D("1.0000")
    assert lines_of(assessment_of(unit_a))["claims_fulfilled"][0] == D("0.0000")


# --- The admin ----------------------------------------------------------------------------------------


def _change_form_data(client, url, **fields) -> dict:
    """What the change page posts: its fields and its inline's management form, as the browser would."""
    response = client.get(url)
    assert response.status_code == 200
    data = {}
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        for form in formset.formset.forms:
            data[f"{form.prefix}-id"] = form.instance.pk
            data[f"{form.prefix}-{formset.formset.fk.name}"] = form.instance.assessment_id
    adminform = response.context["adminform"].form
    for name, field in adminform.fields.items():
        value = adminform.initial.get(name, field.initial)
        data[name] = "" if value is None else value
    data.update(fields)
    return data


def _change_url(assessment: Assessment) -> str:
    return reverse("admin:members_assessment_change", args=[assessment.pk])


def test_staff_adjust_in_the_admin_through_the_service(unit_a, street, community_x_staff):
    _rows_for_unit_a(unit_a)
    compute(street)
    a = assessment_of(unit_a)
    client = client_for(community_x_staff)

    client.post(_change_url(a), _change_form_data(client, _change_url(a), adjustment="4", adjustment_comment=""))
    a.refresh_from_db()
    assert (a.adjustment, a.total) == (D("0.00"), D("63.33"))  # refused: no reason

    response = client.post(
        _change_url(a), _change_form_data(client, _change_url(a), adjustment="4", adjustment_comment="组织观摩活动")
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.adjustment, a.adjustment_comment, a.total) == (D("4.00"), "组织观摩活动", D("67.33"))
    assert a.history.first().history_user == community_x_staff


def test_the_admin_buttons_follow_the_workflow_and_the_role(unit_a, street, community_x_staff, street_staff):
    compute(street)
    a = assessment_of(unit_a)
    staff_x = client_for(community_x_staff)
    assert [b[0] for b in staff_x.get(_change_url(a)).context["workflow_buttons"]] == ["submit"]

    staff_x.post(_change_url(a), _change_form_data(staff_x, _change_url(a), _workflow_submit="1"))
    a.refresh_from_db()
    assert a.status == Assessment.Status.SUBMITTED
    assert staff_x.get(_change_url(a)).context["workflow_buttons"] == []
    staff_x.post(_change_url(a), _change_form_data(staff_x, _change_url(a), _workflow_approve="1"))
    a.refresh_from_db()
    assert a.status == Assessment.Status.SUBMITTED  # not theirs to approve

    street = client_for(street_staff)
    assert [b[0] for b in street.get(_change_url(a)).context["workflow_buttons"]] == ["approve", "return"]
    street.post(_change_url(a), _change_form_data(street, _change_url(a), _workflow_return="1", reason=""))
    a.refresh_from_db()
    assert a.status == Assessment.Status.SUBMITTED  # a return needs its reason
    street.post(_change_url(a), _change_form_data(street, _change_url(a), _workflow_return="1", reason="请补充说明"))
    a.refresh_from_db()
    assert (a.status, a.return_reason) == (Assessment.Status.RETURNED, "请补充说明")


def test_an_approved_assessment_is_read_only_in_the_admin(unit_a, street, street_staff):
    compute(street)
    a = assessments.assessment_submit(assessment=assessment_of(unit_a), actor=street_staff)
    a = assessments.assessment_approve(assessment=a, actor=street_staff)
    client = client_for(street_staff)
    response = client.get(_change_url(a))
    assert "adjustment" not in response.context["adminform"].form.fields
    client.post(_change_url(a), {"adjustment": "5", "adjustment_comment": "补分"})
    a.refresh_from_db()
    assert (a.adjustment, a.total) == (D("0.00"), D("0.00"))


def test_the_admin_recompute_action_recomputes_drafts_of_the_selected_quarters(unit_a, street, street_staff):
    compute(street)
    _rows_for_unit_a(unit_a)
    response = client_for(street_staff).post(
        reverse("admin:members_assessment_changelist"),
        {"action": "recompute", "_selected_action": [assessment_of(unit_a).pk]},
    )
    assert response.status_code == 302
    assert assessment_of(unit_a).score == D("63.33")


def test_community_staff_may_not_recompute_the_street(unit_a, street, community_x_staff):
    compute(street)
    _rows_for_unit_a(unit_a)
    client_for(community_x_staff).post(
        reverse("admin:members_assessment_changelist"),
        {"action": "recompute", "_selected_action": [assessment_of(unit_a).pk]},
    )
    assert assessment_of(unit_a).score == D("0.00")


def test_the_admin_list_costs_the_same_queries_however_many_units(unit_a, street, street_staff):
    client = client_for(street_staff)
    url = reverse("admin:members_assessment_changelist")
    compute(street)
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    MemberUnitFactory.create_batch(10, community=unit_a.community, joined_on=date(2025, 1, 1))
    compute(street)
    assert count() == few


def test_street_staff_make_and_edit_a_years_scheme_in_the_admin(street, street_staff):
    client = client_for(street_staff)
    response = client.post(reverse("admin:members_assessmentscheme_add"), {"street": street.pk, "year": 2027})
    assert response.status_code == 302
    scheme = AssessmentScheme.objects.get(street=street, year=2027)
    assert scheme.items.count() == 6  # seeded from the registry's defaults
    url = reverse("admin:members_assessmentscheme_change", args=[scheme.pk])
    page = client.get(url)
    assert page.status_code == 200
    formset = page.context["inline_admin_formsets"][0].formset
    data = {formset.management_form.add_prefix(k): v for k, v in formset.management_form.initial.items()}
    for form in formset.forms:
        item = form.instance
        data.update(
            {
                f"{form.prefix}-id": item.pk,
                f"{form.prefix}-scheme": scheme.pk,
                f"{form.prefix}-weight": "30" if item.code == "claims_fulfilled" else str(item.weight),
                f"{form.prefix}-full_marks": str(item.full_marks),
                f"{form.prefix}-enabled": "on",
            }
        )
    assert client.post(url, data).status_code == 302
    assert scheme.items.get(code="claims_fulfilled").weight == D("30.00")


# --- The sheet inside the workbook ------------------------------------------------------------------------


def test_the_workbook_has_the_assessment_sheet_last_with_its_rows(unit_a, unit_b, street):
    _rows_for_unit_a(unit_a)
    compute(street)
    target = io.BytesIO()
    with translation.override("en"):
        reports.render_workbook(reports.ReportContext(street.pk, Q2), target)
    workbook = openpyxl.load_workbook(io.BytesIO(target.getvalue()), read_only=True)
    sheet = workbook[workbook.sheetnames[-1]]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Member unit", "Sector branch", "Community", "Claims fulfilled")
    assert rows[1][0] == "山西饭店" and rows[1][3] == 2 and rows[1][4] == 13.33
    assert len(rows) == 3


# --- Races (real threads, PostgreSQL: SQLite serialises writers) -------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_simultaneous_computations_and_a_submit_leave_one_complete_assessment_per_unit():
    import threading

    from ..factories import street_staff_of

    community = CommunityFactory()
    staff = street_staff_of(community.street, username="street_staff")
    units = MemberUnitFactory.create_batch(5, community=community, joined_on=date(2025, 1, 1))
    street = community.street
    compute(street)
    first = assessment_of(units[0])
    Assessment.objects.filter(unit__in=units[1:]).delete()  # these are made by the racing computations
    ClaimFactory(unit=units[0], status=ProjectClaim.Status.COMPLETED, decided_at=at(2026, 5, 1))

    barrier = threading.Barrier(5)
    errors: list[Exception] = []

    def run(job):
        try:
            barrier.wait()
            job()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    jobs = [lambda: compute(street)] * 4 + [
        lambda: assessments.assessment_submit(assessment=Assessment.objects.get(pk=first.pk), actor=staff)
    ]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Assessment.objects.filter(unit__in=units).count() == 5
    for unit in units:
        assert assessment_of(unit).lines.count() == 6
    first.refresh_from_db()
    assert first.status == Assessment.Status.SUBMITTED
    # Whichever came first, what was submitted is a complete computation: before the claim or after it.
    assert first.score in (D("0.00"), D("19.06"))


def test_street_staff_compute_a_new_quarter_from_the_admin(unit_a, unit_b, street, street_staff, community_x_staff):
    url = reverse("admin:members_assessment_compute")
    assert client_for(community_x_staff).get(url).status_code == 403
    client = client_for(street_staff)
    assert client.get(url).status_code == 200
    response = client.post(url, {"street": street.pk, "year": 2026, "quarter": 2})
    assert response.status_code == 302 and response["Location"].endswith("?year=2026&quarter=2")
    assert Assessment.objects.filter(year=2026, quarter=2).count() == 2
    assert client.post(url, {"street": street.pk, "year": 2026, "quarter": 5}).status_code == 200  # bad input
    assert Assessment.objects.count() == 2
