"""项目认领 and 活动记录 of the quarterly workbook: one row per claim (and one per unclaimed project), the
activities of the quarter, and one query per sheet however many rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from alliance.periods import Quarter
from alliance.reports import ReportContext
from projects import selectors
from projects.models import ProjectClaim, ServiceProject
from projects.report_sheets import ACTIVITIES, CLAIMS

from ..alliance.report_factories import at, stamp
from ..factories import CommunityFactory, MemberUnitFactory, StreetFactory
from .factories import ActivityFactory, ClaimFactory, ProjectFactory

pytestmark = pytest.mark.django_db

Q1 = Quarter(2026, 1)


@pytest.fixture
def street():
    return StreetFactory(name="柳巷街道")


def project(street, title: str, **fields) -> ServiceProject:
    fields.setdefault("community", CommunityFactory(street=street))
    return ProjectFactory(street=street, title=title, **fields)


def claim(project: ServiceProject, unit_name: str, made, **fields) -> ProjectClaim:
    unit = MemberUnitFactory(name=unit_name, community__street=project.street)
    return stamp(ClaimFactory(project=project, unit=unit, **fields), created_at=made)


def test_the_claim_table_has_a_row_per_claim_and_one_per_unclaimed_project(street):
    claimed = project(street, "claimed", places=5)
    claim(claimed, "approved unit", at(2026, 1, 5), decided_at=at(2026, 1, 8))
    claim(claimed, "rejected unit", at(2026, 1, 6), status=ProjectClaim.Status.REJECTED, decided_at=at(2026, 1, 9))
    claim(claimed, "claimed after", at(2026, 4, 1, 0, 0), status=ProjectClaim.Status.PENDING)
    project(street, "unclaimed")
    project(street, "street-wide", community=None)
    project(street, "draft", status=ServiceProject.Status.DRAFT)
    project(street, "over before", starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
    project(street, "starts after", starts_on=date(2026, 4, 1))
    ProjectFactory(street=StreetFactory(name="桥西街道"), title="another street")

    with translation.override("en"):
        rows = {
            (row[1], row[3] if row[1] == "street-wide" else "", *row[6:])
            for row in CLAIMS.rows(ReportContext(street.pk, Q1))
        }
    assert rows == {
        ("claimed", "", "approved unit", "每月组织一次义诊", "Approved", at(2026, 1, 5), at(2026, 1, 8), False),
        ("claimed", "", "rejected unit", "每月组织一次义诊", "Rejected", at(2026, 1, 6), None, False),
        ("unclaimed", "", None, None, None, None, None, None),
        ("street-wide", "Street-wide", None, None, None, None, None, None),
    }


def test_claims_approved_and_fulfilled_in_the_quarter(street):
    running = project(street, "running", places=5, status=ServiceProject.Status.RUNNING)
    claim(running, "approved in Q1", at(2026, 1, 5), decided_at=at(2026, 3, 31, 23, 30))
    claim(running, "approved in Q2", at(2026, 1, 5), decided_at=at(2026, 4, 1, 0, 30))
    ended = project(
        street, "ended", starts_on=date(2025, 10, 1), ends_on=date(2026, 3, 31), status=ServiceProject.Status.FINISHED
    )
    claim(ended, "fulfilled", at(2025, 10, 2), status=ProjectClaim.Status.COMPLETED, decided_at=at(2025, 10, 3))

    assert selectors.report_claim_figures(street_id=street.pk, quarter=Q1) == {
        "approved": 1,
        "completed": 1,
        "projects": 2,
    }
    assert selectors.report_claim_figures(street_id=street.pk, quarter=Q1.next())["approved"] == 1


def test_the_activity_records_hold_the_quarters_activities_and_their_hours(street):
    approved = claim(project(street, "义诊"), "unit", at(2026, 1, 5))
    ActivityFactory(claim=approved, date=date(2026, 1, 1), title="first day", hours=Decimal("1.5"))
    ActivityFactory(claim=approved, date=date(2026, 3, 31), title="last day", hours=Decimal("2.0"))
    ActivityFactory(claim=approved, date=date(2026, 4, 1), title="next quarter")
    ActivityFactory(claim=approved, date=date(2025, 12, 31), title="last quarter")

    rows = list(ACTIVITIES.rows(ReportContext(street.pk, Q1)))
    assert [(row[0], row[1], row[2], row[3], row[8]) for row in rows] == [
        (date(2026, 1, 1), "义诊", "unit", "first day", Decimal("1.5")),
        (date(2026, 3, 31), "义诊", "unit", "last day", Decimal("2.0")),
    ]
    assert selectors.report_activity_figures(street_id=street.pk, quarter=Q1) == {
        "activities": 2,
        "services": 40,
        "beneficiaries": 240,
        "hours": Decimal("3.5"),
    }


@pytest.mark.parametrize("sheet", [CLAIMS, ACTIVITIES], ids=lambda s: s.key)
def test_a_sheet_is_one_query_however_many_rows(street, sheet, django_assert_num_queries):
    context = ReportContext(street.pk, Q1)

    def add(n: int) -> None:
        shared = project(street, "shared", places=n)
        for i in range(n):
            made = claim(shared, f"unit {i}", at(2026, 1, 5), decided_at=at(2026, 1, 6))
            ActivityFactory(claim=made, date=date(2026, 2, 1))

    add(3)
    with django_assert_num_queries(1):  # the rows: projects LEFT JOIN claims, units (or activities, claims, units)
        assert len(list(sheet.rows(context))) == 3
    add(27)
    with django_assert_num_queries(1):
        assert len(list(sheet.rows(context))) == 30
