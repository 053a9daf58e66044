"""The points ledger (积分, issue 15): awards once per source, corrections as new entries, an append-only
table (refused by the model and by the database), visibility per role, balances and rankings, the
backfill, and the 年度积分 columns of the quarterly workbook."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http import Http404

from alliance.errors import Conflict, InvalidInput
from alliance.periods import ZONE, Quarter
from alliance.reports import ReportContext
from demands.models import Need
from members import assessments
from members import services as member_services
from members.models import MemberUnit
from projects import services as project_services
from volunteers import points, selectors, services
from volunteers.models import LedgerChanged, PointsEntry, PointsRule
from volunteers.report_sheets import MEMBERS

from ..demands.factories import NeedFactory
from ..factories import StreetFactory, UserFactory
from ..projects.factories import ClaimFactory, ReviewFactory
from .factories import PartyMemberFactory, ServiceLogFactory
from .points_world import completed_wish, review, verified_log

Q2 = Quarter(2026, 2)


# --- Awards -------------------------------------------------------------------------------------------


def test_verifying_hours_awards_the_member_points_once(rule, member_x, community_x_staff):
    log = verified_log(member_x, community_x_staff, hours="2.5")

    entry = PointsEntry.objects.get()
    assert (entry.member_id, entry.unit_id, entry.points) == (member_x.pk, None, 5)
    assert (entry.source, entry.year, entry.quarter) == (f"service_log:{log.pk}", 2026, 2)
    assert entry.approved_by_id == community_x_staff.pk
    assert entry.reason == "2026-05-10 服务 2.5 小时（已核实）"

    # Awarding again — by hand, or by the backfill — writes nothing.
    assert points.points_award(source=log) is None
    assert points.points_backfill(year=2026) == 0
    assert PointsEntry.objects.count() == 1


def test_unverified_or_rejected_hours_earn_nothing(rule, member_x, community_x_staff):
    pending = ServiceLogFactory(member=member_x, date=date(2026, 5, 10), verified=False)
    rejected = services.log_reject(
        log=ServiceLogFactory(member=member_x, date=date(2026, 5, 11), verified=False),
        actor=community_x_staff,
        reason="重复登记",
    )
    assert points.points_award(source=pending) is None
    assert points.points_award(source=rejected) is None
    assert points.points_backfill(year=2026) == 0
    assert not PointsEntry.objects.exists()


def test_a_fulfilled_micro_wish_earns_the_member_who_took_it_on_points(rule, member_x, member, community_x):
    need = completed_wish(member, community_x)
    entry = PointsEntry.objects.get()
    assert (entry.member_id, entry.points, entry.source) == (member_x.pk, 5, f"micro_wish:{need.pk}")
    assert entry.reason == "完成微心愿：帮独居老人买药"
    assert points.points_award(source=need) is None
    assert PointsEntry.objects.count() == 1


def test_a_commitment_review_at_the_rules_score_earns_the_unit_points_once(rule, unit_a, street_staff):
    good = review(unit_a, street_staff, score=4)
    review(unit_a, street_staff, score=3)  # below the rule's 4: nothing

    entry = PointsEntry.objects.get()
    assert (entry.unit_id, entry.member_id, entry.points) == (unit_a.pk, None, 10)
    assert (entry.source, entry.year, entry.quarter) == (f"review:{good.pk}", 2026, 2)
    # Saving the quarter's score again replaces it; the review has earned its points already.
    project_services.review_save(claim=good.claim, actor=street_staff, year=2026, quarter=2, score=5)
    assert PointsEntry.objects.count() == 1


def test_a_years_rule_starts_from_the_previous_years(street, rule):
    assert PointsRule.objects.filter(street=street).count() == 1
    next_year = points.rule_for(street_id=street.pk, year=2027)
    assert (next_year.per_hour, next_year.per_wish, next_year.per_review, next_year.review_min_score) == (2, 5, 10, 4)
    assert points.rule_for(street_id=street.pk, year=2027).pk == next_year.pk


def test_only_the_streets_staff_change_its_rule(street, rule, community_x_staff, street_staff, root):
    with pytest.raises((PermissionDenied, Http404)):
        points.points_rule_update(rule=rule, actor=community_x_staff, data={"per_hour": 9})
    other = UserFactory(username="other_street")
    member_services.street_staff_add(user=other, street=StreetFactory(name="桥东街道"), actor=root)
    with pytest.raises((PermissionDenied, Http404)):
        points.points_rule_update(rule=rule, actor=other, data={"per_hour": 9})
    with pytest.raises(PermissionDenied):  # a rule's street and year are not changed
        points.points_rule_update(rule=rule, actor=street_staff, data={"street": street})
    rule.refresh_from_db()
    assert rule.per_hour == 2


# --- Corrections and the append-only ledger ---------------------------------------------------------


def test_a_correction_is_a_new_entry_linked_to_the_one_it_corrects(entry, member_x, community_x_staff):
    correction = points.points_correct(entry=entry, points=-2, reason="多记了半小时", actor=community_x_staff)

    assert PointsEntry.objects.count() == 2
    entry.refresh_from_db()
    assert (entry.points, entry.reason) == (5, "2026-05-10 服务 2.5 小时（已核实）")  # as it was
    assert (correction.member_id, correction.points, correction.corrects_id) == (member_x.pk, -2, entry.pk)
    assert (correction.source, correction.year) == (f"correction:{entry.pk}", 2026)
    assert correction.approved_by_id == community_x_staff.pk
    assert selectors.points_balance(year=2026, member=member_x) == 3
    # A second correction of the same entry is another entry (corrections are outside the once-per-source rule).
    points.points_correct(entry=entry, points=1, reason="补记", actor=community_x_staff)
    assert selectors.points_balance(year=2026, member=member_x) == 4


def test_corrections_are_for_the_entrys_staff_with_a_reason(entry, cast):
    with pytest.raises(Http404):  # they do not see it
        points.points_correct(entry=entry, points=-1, reason="x", actor=cast["community_y_staff"])
    with pytest.raises(Http404):
        points.points_correct(entry=entry, points=-1, reason="x", actor=cast["liaison_a"])
    with pytest.raises(PermissionDenied):  # the member sees their own entry, but corrects nothing
        points.points_correct(entry=entry, points=-1, reason="x", actor=cast["member"])
    staff = cast["street_staff"]
    for bad_points, reason in ((-1, "  "), (0, "x"), (True, "x"), (10**6, "x"), ("3", "x")):
        with pytest.raises(InvalidInput):
            points.points_correct(entry=entry, points=bad_points, reason=reason, actor=staff)
    correction = points.points_correct(entry=entry, points=-1, reason="x", actor=staff)
    with pytest.raises(Conflict):
        points.points_correct(entry=correction, points=-1, reason="x", actor=staff)
    assert PointsEntry.objects.count() == 2


def test_the_model_refuses_to_change_or_delete_an_entry(entry):
    entry.points = 50
    with pytest.raises(LedgerChanged):
        entry.save()
    with pytest.raises(LedgerChanged):
        entry.delete()
    with pytest.raises(LedgerChanged):
        PointsEntry.objects.filter(pk=entry.pk).update(points=50)
    with pytest.raises(LedgerChanged):
        PointsEntry.objects.filter(pk=entry.pk).delete()
    assert PointsEntry.objects.values_list("points", flat=True).get() == 5


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE volunteers_pointsentry SET points = 50",
        "UPDATE volunteers_pointsentry SET reason = 'x', approved_by_id = NULL",
        "DELETE FROM volunteers_pointsentry",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_entry(entry, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert list(PointsEntry.objects.values_list("points", "reason")) == [(5, "2026-05-10 服务 2.5 小时（已核实）")]


def test_the_database_refuses_a_second_award_for_the_same_source(entry):
    duplicate = PointsEntry(
        member_id=entry.member_id,
        community_id=entry.community_id,
        points=99,
        reason="again",
        source_kind=entry.source_kind,
        source_id=entry.source_id,
        year=2026,
        quarter=2,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    neither = PointsEntry(community_id=entry.community_id, points=1, reason="x", source_kind="review", source_id=1)
    neither.year, neither.quarter = 2026, 2
    with pytest.raises(IntegrityError), transaction.atomic():
        neither.save()  # neither a member nor a unit
    assert PointsEntry.objects.count() == 1


# --- Who sees what, balances and rankings ---------------------------------------------------------------


def _beneficiaries(entries) -> set[str]:
    names = set()
    for e in entries:
        names.add(e.member.name if e.member_id else e.unit.name)
    return names


@pytest.mark.parametrize(
    ("role", "seen"),
    [
        ("anonymous", set()),
        ("member", {"张伟"}),
        ("liaison_a", {"山西饭店"}),
        ("liaison_b", {"太原市第五中学"}),
        ("community_x_staff", {"张伟", "山西饭店"}),
        ("community_y_staff", {"李娜", "太原市第五中学"}),
        ("street_staff", {"张伟", "李娜", "山西饭店", "太原市第五中学"}),
    ],
)
def test_each_role_sees_its_own_entries(ledger, cast, role, seen):
    entries = selectors.points_visible_to(user=cast[role], year=2026).select_related("member", "unit")
    assert _beneficiaries(entries) == seen
    assert not selectors.points_visible_to(user=cast[role], year=2025).exists()


def test_another_streets_staff_see_nothing(ledger, root):
    other = UserFactory(username="other_street")
    member_services.street_staff_add(user=other, street=StreetFactory(name="桥东街道"), actor=root)
    assert not selectors.points_visible_to(user=other, year=2026).exists()
    assert list(selectors.points_balances(user=other, year=2026)) == []


def test_balances_sum_corrections_and_rank_members_and_units_apart(ledger, street_staff):
    rows = [
        (r["member_id"], r["unit_id"], r["name"], r["balance"], r["rank"])
        for r in selectors.points_balances(user=street_staff, year=2026)
    ]
    x, y, a, b = ledger["member_x"], ledger["member_y"], ledger["unit_a"], ledger["unit_b"]
    assert rows == [
        (x.pk, None, "张伟", 8, 1),
        (y.pk, None, "李娜", 6, 2),
        (None, b.pk, "太原市第五中学", 20, 1),
        (None, a.pk, "山西饭店", 10, 2),
    ]


def test_rankings_per_community_unit_and_sector_branch(ledger, street_staff, community_x, community_y):
    def table(by):
        return [
            (r["name"], r["total"], r["rank"]) for r in selectors.points_ranking(user=street_staff, year=2026, by=by)
        ]

    assert table("community") == [("柳北社区", 26, 1), ("桥头街社区", 18, 2)]
    assert table("unit") == [("太原市第五中学", 20, 1), ("山西饭店", 10, 2)]
    assert table("sector") == [("企业分会", 30, 1)]


def test_balances_cost_one_query_however_many_rows(
    rule, community_x, community_x_staff, street_staff, django_assert_num_queries
):
    def grow(n):
        for _ in range(n):
            verified_log(PartyMemberFactory(residence_community=community_x), community_x_staff, hours="1")

    grow(2)
    list(selectors.points_balances(user=street_staff, year=2026))  # warm: the staff's scope is cached
    with django_assert_num_queries(1):
        assert len(list(selectors.points_balances(user=street_staff, year=2026))) == 2
    grow(5)
    with django_assert_num_queries(1):
        assert len(list(selectors.points_balances(user=street_staff, year=2026))) == 7
    with django_assert_num_queries(1):
        assert len(list(selectors.points_ranking(user=street_staff, year=2026, by="community"))) == 1


# --- Backfill ------------------------------------------------------------------------------------------


def test_the_backfill_awards_past_sources_once(street, member, member_x, unit_a, community_x):
    log = ServiceLogFactory(member=member_x, date=date(2026, 3, 2), hours=Decimal("1.5"))  # verified, no award
    ServiceLogFactory(member=member_x, date=date(2025, 12, 30), hours=Decimal("4"))  # another year
    ServiceLogFactory(member=member_x, date=date(2026, 3, 3), verified=False)
    wish = NeedFactory(
        kind=Need.Kind.MICRO_WISH,
        community=community_x,
        status=Need.Status.COMPLETED,
        claimed_by=member,
        completed_at=datetime(2026, 4, 1, 9, tzinfo=ZONE),
    )
    review = ReviewFactory(claim=ClaimFactory(unit=unit_a), year=2026, quarter=1, score=5)
    ReviewFactory(claim=ClaimFactory(unit=unit_a), year=2026, quarter=1, score=2)  # below the score
    assert not PointsEntry.objects.exists()

    out = StringIO()
    call_command("points_backfill", "--year", "2026", stdout=out)
    assert "3" in out.getvalue()
    assert sorted(PointsEntry.objects.values_list("source_kind", "source_id", "points", "quarter")) == [
        ("micro_wish", wish.pk, 5, 2),
        ("review", review.pk, 10, 1),
        ("service_log", log.pk, 2, 1),  # 1.5 h at the default 1 point an hour, rounded half up
    ]
    assert PointsRule.objects.filter(street=street, year=2026).exists()  # made on first use

    call_command("points_backfill", "--year", "2026", stdout=StringIO())
    assert points.points_backfill(year=2026) == 0
    assert PointsEntry.objects.count() == 3


@pytest.mark.parametrize("year", ["twenty", "1800", ""])
def test_the_backfill_refuses_a_bad_year(year):
    with pytest.raises(CommandError):
        call_command("points_backfill", "--year", year, stdout=StringIO())


# --- The quarterly workbook ---------------------------------------------------------------------------


def test_the_member_sheet_shows_the_years_points_to_the_quarters_end(rule, member_x, community_x_staff, street):
    verified_log(member_x, community_x_staff, hours="2.5", day=date(2026, 5, 10))  # Q2: 5
    verified_log(member_x, community_x_staff, hours="1", day=date(2026, 8, 10))  # Q3: 2
    other = PartyMemberFactory(
        name="王强", residence_community=member_x.residence_community, registered_on=date(2026, 1, 5)
    )

    def points_column(quarter):
        return {row[0]: row[-1] for row in MEMBERS.rows(ReportContext(street.pk, quarter))}

    assert points_column(Q2) == {"张伟": 5, "王强": 0}
    assert points_column(Quarter(2026, 3)) == {"张伟": 7, "王强": 0}
    assert other.pk


def test_the_unit_assessment_sheet_shows_the_years_points(rule, unit_a, unit_b, street, street_staff):
    # Both units were members all the quarter (the factory draws a joining date anywhere this decade).
    MemberUnit.objects.filter(pk__in=[unit_a.pk, unit_b.pk]).update(joined_on=date(2025, 1, 1))
    review(unit_a, street_staff, score=5, quarter=1)
    review(unit_a, street_staff, score=4, quarter=2)
    assessments.assessments_compute(street=street, quarter=Q2)

    columns = [str(c.label) for c in assessments.ASSESSMENT_SHEET.columns]
    position = columns.index("年度积分")
    assert columns[position + 1] == "得分" or position == len(columns) - 8
    rows = {row[0]: row[position] for row in assessments.ASSESSMENT_SHEET.rows(ReportContext(street.pk, Q2))}
    assert rows == {"山西饭店": 20, "太原市第五中学": 0}
    q1 = {
        row[0]: row[position] for row in assessments.ASSESSMENT_SHEET.rows(ReportContext(street.pk, Quarter(2026, 1)))
    }
    assert q1 in ({}, {"山西饭店": 10, "太原市第五中学": 0})  # Q1 has assessments only once computed
