"""`GET /api/v1/assessments/?year=Y&quarter=Q` (SPEC "Fixed interfaces") and the assessment's actions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from members import assessments
from members.models import Assessment, MemberUnit
from projects.models import ProjectClaim

from ..api import api_client as _api
from ..factories import MemberUnitFactory
from ..projects.factories import ClaimFactory
from .report_factories import Q2, assessment_of, at, compute

pytestmark = pytest.mark.django_db
URL = "/api/v1/assessments/"


@pytest.fixture
def street(unit_a, unit_b):
    MemberUnit.objects.update(joined_on=date(2025, 1, 1))
    return unit_a.community.street


@pytest.fixture
def computed(street, unit_a):
    ClaimFactory(unit=unit_a, status=ProjectClaim.Status.COMPLETED, decided_at=at(2026, 5, 1))
    compute(street)
    return assessment_of(unit_a)


def test_the_list_answers_in_the_fixed_shape(computed, street_staff, unit_a):
    assessments.assessment_adjust(
        assessment=computed, adjustment=Decimal("2.5"), comment="主动承接急难任务", actor=street_staff
    )
    with translation.override("en"):
        response = _api(street_staff).get(URL, {"year": 2026, "quarter": 2})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"} and body["count"] == 2
    mine = next(r for r in body["results"] if r["unit"] == unit_a.pk)
    assert set(mine) == {
        "id",
        "unit",
        "year",
        "quarter",
        "indicators",
        "adjustment",
        "adjustment_comment",
        "total",
        "status",
    }
    assert mine["id"] == computed.pk and (mine["year"], mine["quarter"]) == (2026, 2)
    assert mine["indicators"][0] == {
        "code": "claims_fulfilled",
        "label": "履约认领",
        "value": "1.0000",
        "weight": "20.00",
        "points": "6.67",
    }
    assert mine["indicators"][1] == {
        "code": "needs_on_time",
        "label": "按时完成需求",
        "value": None,
        "weight": "20.00",
        "points": "0.00",
    }
    assert [i["code"] for i in mine["indicators"]] == [
        "claims_fulfilled",
        "needs_on_time",
        "ratings",
        "attendance",
        "resolutions_on_time",
        "service_hours",
    ]
    # 6.67 × 100 / 35 (claims 20 + hours 15 apply) = 19.06; + 2.50
    assert (mine["adjustment"], mine["adjustment_comment"], mine["total"]) == ("2.50", "主动承接急难任务", "21.56")
    assert mine["status"] == "draft"


def test_other_quarters_are_not_listed(computed, street, street_staff):
    compute(street, Q2.previous())
    response = _api(street_staff).get(URL, {"year": 2026, "quarter": 2})
    assert response.json()["count"] == 2
    assert _api(street_staff).get(URL, {"year": 2026}).json()["count"] == 4
    assert _api(street_staff).get(URL, {"year": 2025}).json()["count"] == 0


@pytest.mark.parametrize(
    "query",
    [{"year": "abc", "quarter": 2}, {"year": 2026, "quarter": 5}, {"year": 2026, "quarter": "0"}, {"year": "20026"}],
)
def test_a_bad_year_or_quarter_is_a_400_with_a_message(query, street_staff, computed):
    response = _api(street_staff).get(URL, query)
    assert response.status_code == 400
    assert set(response.json()) <= {"year", "quarter"} and response.json()


@pytest.mark.parametrize(
    ("role", "units"),
    [
        ("liaison_a", {"a"}),
        ("liaison_b", {"b"}),
        ("community_x_staff", {"a"}),
        ("community_y_staff", {"b"}),
        ("street_staff", {"a", "b"}),
        ("member", set()),
    ],
)
def test_each_caller_lists_only_the_assessments_of_their_scope(role, units, cast, computed, unit_a, unit_b):
    names = {unit_a.pk: "a", unit_b.pk: "b"}
    response = _api(cast[role]).get(URL, {"year": 2026, "quarter": 2})
    assert response.status_code == 200
    assert {names[r["unit"]] for r in response.json()["results"]} == units


def test_anonymous_callers_are_refused(computed):
    assert _api().get(URL, {"year": 2026, "quarter": 2}).status_code == 403


def test_another_units_assessment_is_404_for_a_liaison(computed, liaison_a, liaison_b):
    assert _api(liaison_a).get(f"{URL}{computed.pk}/").status_code == 200
    assert _api(liaison_b).get(f"{URL}{computed.pk}/").status_code == 404


def _count(client, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # (the user's groups from the cache) count + page (unit, community, sector joined) + the page's lines
        ("street_staff", 3),
        # (the user's groups from the cache) communities administered (guardian) + units of liaison (guardian) + count + page + lines
        ("community_x_staff", 5),
        ("liaison_a", 4),  # (the user's groups from the cache) units of liaison (guardian) + count + page + lines
    ],
)
def test_the_list_costs_the_same_queries_however_many_units(who, expected, cast, street, unit_a):
    client = _api(cast[who])
    compute(street)
    client.get(URL, {"year": 2026, "quarter": 2})  # warm the content-type cache a running server has warm
    client.force_authenticate(type(cast[who]).objects.get(pk=cast[who].pk))
    few = _count(client, {"year": 2026, "quarter": 2})
    MemberUnitFactory.create_batch(15, community=unit_a.community, joined_on=date(2025, 1, 1))
    compute(street)
    client.force_authenticate(type(cast[who]).objects.get(pk=cast[who].pk))
    many = _count(client, {"year": 2026, "quarter": 2})
    assert few == many == expected


# --- Actions ------------------------------------------------------------------------------------------


def _post(user, assessment, action, data=None):
    return _api(user).post(f"{URL}{assessment.pk}/{action}/", data or {}, format="json")


def test_staff_adjust_submit_and_the_street_approves_then_it_is_locked(
    computed, community_x_staff, street_staff, liaison_a
):
    response = _post(community_x_staff, computed, "adjust", {"adjustment": "-1.5", "comment": "会议缺席"})
    assert response.status_code == 200 and response.json()["total"] == "17.56"
    assert _post(community_x_staff, computed, "adjust", {"adjustment": "3"}).status_code == 400  # no reason
    assert _post(community_x_staff, computed, "adjust", {"adjustment": "25", "comment": "x"}).status_code == 400
    assert _post(liaison_a, computed, "remark", {"text": "漏计一次活动"}).status_code == 200
    assert _post(community_x_staff, computed, "submit").json()["status"] == "submitted"
    assert _post(community_x_staff, computed, "approve").status_code == 403
    assert _post(street_staff, computed, "approve").json()["status"] == "approved"

    assert _post(street_staff, computed, "adjust", {"adjustment": "1", "comment": "补"}).status_code == 409
    assert _post(liaison_a, computed, "remark", {"text": "再补充"}).status_code == 409
    assert _post(street_staff, computed, "submit").status_code == 409
    assert _post(street_staff, computed, "return", {"reason": "重核"}).status_code == 409
    computed.refresh_from_db()
    assert (computed.status, computed.total, computed.liaison_remark) == (
        Assessment.Status.APPROVED,
        Decimal("17.56"),
        "漏计一次活动",
    )


def test_return_needs_a_reason_and_sends_it_back(computed, street_staff):
    _post(street_staff, computed, "submit")
    assert _post(street_staff, computed, "return").status_code == 400
    response = _post(street_staff, computed, "return", {"reason": "请补充说明"})
    assert response.status_code == 200 and response.json()["status"] == "returned"
    assert _post(street_staff, computed, "submit").json()["status"] == "submitted"


@pytest.mark.parametrize(
    ("role", "expected"),
    [("liaison_b", 404), ("community_y_staff", 404), ("member", 404), ("liaison_a", 403), ("anonymous", 403)],
)
def test_others_cannot_submit(role, expected, cast, computed):
    assert _post(cast[role], computed, "submit").status_code == expected
    assert assessment_of(computed.unit).status == Assessment.Status.DRAFT
