"""The liaison's assessment pages in the portal: their own units' only, each indicator explained, and a
remark until the assessment is approved."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from alliance.periods import Quarter
from members import assessments
from members.models import MemberUnit
from projects.models import ProjectClaim

from ..conftest import client_for
from ..factories import MemberUnitFactory
from ..projects.factories import ClaimFactory
from .report_factories import assessment_of, at, compute

pytestmark = pytest.mark.django_db


@pytest.fixture
def street(unit_a, unit_b):
    MemberUnit.objects.update(joined_on=date(2025, 1, 1))
    return unit_a.community.street


@pytest.fixture
def mine(street, unit_a):
    ClaimFactory(unit=unit_a, status=ProjectClaim.Status.COMPLETED, decided_at=at(2026, 5, 1))
    compute(street)
    return assessment_of(unit_a)


def _get(user, url):
    client = client_for(user)
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def test_the_liaison_lists_only_their_units_assessments(mine, liaison_a, unit_b):
    response = _get(liaison_a, "/portal/assessments/")
    assert response.status_code == 200
    listed = [a.pk for a in response.context["assessments"]]
    assert listed == [mine.pk]
    assert assessment_of(unit_b).pk not in listed


def test_the_list_costs_the_same_queries_however_many_quarters(
    mine, street, liaison_a, unit_a, django_assert_num_queries
):
    client = client_for(liaison_a)
    client.get("/portal/assessments/")
    for quarter in (1, 3, 4):
        compute(street, Quarter(2026, quarter))
    # user (the session and the groups come from the cache once read) + units of liaison (guardian)
    # + the list (unit and community joined) + the portal navigation's unread notifications count
    with django_assert_num_queries(4):
        response = client.get("/portal/assessments/")
    assert len(response.context["assessments"]) == 4


def test_the_detail_explains_each_indicator(mine, liaison_a):
    response = _get(liaison_a, f"/portal/assessments/{mine.pk}/")
    assert response.status_code == 200
    lines = {line.code: line for line in response.context["lines"]}
    assert list(lines) == [
        "claims_fulfilled",
        "needs_on_time",
        "ratings",
        "attendance",
        "resolutions_on_time",
        "service_hours",
    ]
    page = response.content.decode()
    assert "Claims fulfilled" in page and str(lines["claims_fulfilled"].explanation) in page
    assert lines["attendance"].applicable is False and "does not apply" in page
    assert response.context["renormalised"] is True
    assert "data-total><strong>19.06</strong>" in page
    assert response.context["form"] is not None


def test_another_liaisons_assessment_is_not_found(mine, liaison_b, member):
    assert _get(liaison_b, f"/portal/assessments/{mine.pk}/").status_code == 404
    assert _get(member, f"/portal/assessments/{mine.pk}/").status_code == 404
    response = client_for(liaison_b).post(f"/portal/assessments/{mine.pk}/remark/", {"text": "改一下"})
    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.liaison_remark == ""


def test_the_liaison_leaves_a_remark_until_approval(mine, liaison_a, street_staff):
    client = client_for(liaison_a)
    response = client.post(f"/portal/assessments/{mine.pk}/remark/", {"text": "五月活动已补录"})
    assert response.status_code == 302 and response["Location"] == f"/portal/assessments/{mine.pk}/"
    mine.refresh_from_db()
    assert mine.liaison_remark == "五月活动已补录"

    assessments.assessment_submit(assessment=mine, actor=street_staff)
    assessments.assessment_approve(assessment=mine, actor=street_staff)
    response = _get(liaison_a, f"/portal/assessments/{mine.pk}/")
    assert response.context["form"] is None
    client.post(f"/portal/assessments/{mine.pk}/remark/", {"text": "再改"})
    mine.refresh_from_db()
    assert mine.liaison_remark == "五月活动已补录"


def test_staff_read_the_page_but_leave_no_remark(mine, community_x_staff):
    response = _get(community_x_staff, f"/portal/assessments/{mine.pk}/")
    assert response.status_code == 200 and response.context["form"] is None
    client_for(community_x_staff).post(f"/portal/assessments/{mine.pk}/remark/", {"text": "代填"})
    mine.refresh_from_db()
    assert mine.liaison_remark == ""


def test_the_portal_home_shows_the_units_assessments(mine, liaison_a, member):
    page = _get(liaison_a, "/portal/").content.decode()
    assert f"/portal/assessments/{mine.pk}/" in page
    assert "/portal/assessments/" not in _get(member, "/portal/").content.decode()


def test_an_empty_remark_is_refused(mine, liaison_a):
    client_for(liaison_a).post(f"/portal/assessments/{mine.pk}/remark/", {"text": "  "})
    mine.refresh_from_db()
    assert mine.liaison_remark == ""


def test_a_unit_that_joined_later_has_no_assessment_listed(street, liaison_a, root, unit_a):
    MemberUnitFactory(community=unit_a.community, joined_on=date(2026, 8, 1))
    compute(street)
    assert len(_get(liaison_a, "/portal/assessments/").context["assessments"]) == 1
