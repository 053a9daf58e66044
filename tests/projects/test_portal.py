"""The liaisons' side of the claim table in the portal: browse and filter open projects, claim one with a
commitment, withdraw, record activities under an approved claim, read the commitment reviews.
unit_a lies in community_x (liaison_a), unit_b in community_y (liaison_b).

Texts are compared through gettext in the language the page was rendered in, never as literals: the
interface is Chinese by default and its catalogue is filled separately."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.contrib import messages as message_levels
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from demands.models import Need
from members import services as member_services
from projects.models import ActivityPhoto, ProjectClaim, ServiceActivity, ServiceProject

from ..conftest import client_for
from ..demands.factories import NeedFactory
from ..factories import CategoryFactory, MemberUnitFactory
from .factories import ActivityFactory, ClaimFactory, ProjectFactory, ReviewFactory

C = ProjectClaim.Status
P = ServiceProject.Status

# The smallest valid PNG: one transparent pixel.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63382127f71f0004ba02043e571fc70000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def health(db):
    return CategoryFactory(name="医疗健康", code="health")


@pytest.fixture
def culture(db):
    return CategoryFactory(name="文化教育", code="culture")


@pytest.fixture
def project(community_x, health):
    """An open project of community_x with two places."""
    return ProjectFactory(title="健康服务在身边", category=health, community=community_x, places=2)


def _messages(response) -> list:
    return list(get_messages(response.wsgi_request))


def _said(response, msgid: str) -> str:
    """`msgid` as the page's language says it."""
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        return gettext(msgid)


def _places_left(response, project_pk: int | None = None) -> int:
    body = response.content.decode()
    scope = body
    if project_pk is not None:  # the claim table: the row of this project
        start = body.index(f'data-project="{project_pk}"')
        scope = body[start : body.index("</li>", start)]
    return int(re.search(r'data-places-left="(\d+)"', scope).group(1))


def _claim(client, project, **data):
    return client.post(reverse("portal:project_claim", args=[project.pk]), {"commitment": "每月义诊一次", **data})


# --- The claim table ----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(anonymous, project):
    for url in (reverse("portal:claim_table"), reverse("portal:project_detail", args=[project.pk])):
        response = client_for(anonymous).get(url)
        assert response.status_code == 302 and "/portal/login/" in response["Location"]


def test_the_claim_table_lists_open_projects_only_with_their_places_left(liaison_a, unit_b, project, health):
    street_wide = ProjectFactory(title="党课宣讲", category=health, community=None, places=5)
    ClaimFactory(project=street_wide, unit=unit_b, status=C.PENDING)
    hidden = [
        ProjectFactory(title=f"{status}项目", category=health, status=status)
        for status in (P.DRAFT, P.RUNNING, P.FINISHED)
    ]
    response = client_for(liaison_a).get(reverse("portal:claim_table"))
    assert response.status_code == 200
    assert {p.pk for p in response.context["projects"]} == {project.pk, street_wide.pk}
    body = response.content.decode()
    for other in hidden:
        assert other.title not in body
    assert _places_left(response, project.pk) == 2
    assert _places_left(response, street_wide.pk) == 4
    assert _said(response, "Street-wide") in body
    assert reverse("portal:project_detail", args=[project.pk]) in body


def test_the_claim_table_filters_by_category_community_demonstration_and_places(
    liaison_a, unit_b, project, health, culture, community_y
):
    culture_y = ProjectFactory(
        title="乐享文化·共创文明", category=culture, community=community_y, is_demonstration=True
    )
    street_wide = ProjectFactory(title="与爱童行", category=culture, community=None, places=1)
    ClaimFactory(project=street_wide, unit=unit_b, status=C.APPROVED)  # no place left
    client = client_for(liaison_a)
    url = reverse("portal:claim_table")

    def listed(**params) -> set[int]:
        response = client.get(url, params)
        assert response.status_code == 200
        return {p.pk for p in response.context["projects"]}

    assert listed() == {project.pk, culture_y.pk, street_wide.pk}
    assert listed(category=culture.pk) == {culture_y.pk, street_wide.pk}
    assert listed(community=community_y.pk) == {culture_y.pk}
    assert listed(community="street") == {street_wide.pk}
    assert listed(demonstration="on") == {culture_y.pk}
    assert listed(has_places="on") == {project.pk, culture_y.pk}
    assert listed(category=culture.pk, has_places="on") == {culture_y.pk}
    # Nonsense is dropped field by field: the table answers, filtered by what was valid.
    assert listed(category="<script>", community="999999", page="x") == {project.pk, culture_y.pk, street_wide.pk}
    assert listed(category=culture.pk, community="nonsense") == {culture_y.pk, street_wide.pk}


def test_the_claim_table_marks_the_projects_my_unit_holds_a_claim_on(liaison_a, unit_a, unit_b, project, health):
    other = ProjectFactory(category=health)
    theirs = ProjectFactory(category=health)
    claim = ClaimFactory(project=project, unit=unit_a, status=C.PENDING)
    ClaimFactory(project=theirs, unit=unit_b, status=C.APPROVED)
    response = client_for(liaison_a).get(reverse("portal:claim_table"))
    marks = {p.pk: p.my_claim for p in response.context["projects"]}
    assert marks == {project.pk: claim, other.pk: None, theirs.pk: None}
    assert f'data-my-claim="{claim.pk}"' in response.content.decode()


# --- Claiming -----------------------------------------------------------------------------------------


def test_liaison_claims_a_project_with_a_commitment_and_a_place_is_taken(liaison_a, unit_a, project):
    client = client_for(liaison_a)
    page = client.get(reverse("portal:project_detail", args=[project.pk]))
    assert page.status_code == 200 and _places_left(page) == 2
    # A liaison of one unit is not asked which unit: the form carries it hidden.
    assert f'type="hidden" name="unit" value="{unit_a.pk}"' in page.content.decode()

    response = _claim(client, project, unit=unit_a.pk)
    assert response.status_code == 302 and response["Location"] == reverse("portal:claim_list")
    assert [m.level for m in _messages(response)] == [message_levels.SUCCESS]
    claim = ProjectClaim.objects.get()
    assert (claim.project, claim.unit, claim.status, claim.commitment, claim.claimed_by) == (
        project,
        unit_a,
        C.PENDING,
        "每月义诊一次",
        liaison_a,
    )
    project.refresh_from_db()
    assert project.places_taken == 1

    after = client.get(reverse("portal:project_detail", args=[project.pk]))
    assert _places_left(after) == 1
    assert unit_a.name in after.content.decode()
    assert after.context["can_claim"] is False  # the unit holds its claim
    listed = client.get(reverse("portal:claim_list"))
    assert list(listed.context["claims"]) == [claim]


def test_claiming_again_is_refused_with_a_message_and_no_second_claim(liaison_a, unit_a, project):
    client = client_for(liaison_a)
    assert _claim(client, project, unit=unit_a.pk).status_code == 302
    again = _claim(client, project, unit=unit_a.pk, commitment="再认领一次")
    assert again.status_code == 200
    expected = _said(again, "Your unit has already claimed this project.")
    assert again.context["claim_form"].non_field_errors() == [expected]
    assert expected in again.content.decode()
    assert ProjectClaim.objects.count() == 1
    project.refresh_from_db()
    assert project.places_taken == 1


def test_claiming_a_full_project_says_it_is_full_and_creates_nothing(liaison_a, unit_a, unit_b, project):
    ClaimFactory.create_batch(2, project=project, status=C.APPROVED)
    page = client_for(liaison_a).get(reverse("portal:project_detail", args=[project.pk]))
    assert _places_left(page) == 0 and page.context["can_claim"] is False

    response = _claim(client_for(liaison_a), project, unit=unit_a.pk)
    assert response.status_code == 200
    full = _said(response, "All places of this project are taken.")
    assert response.context["claim_form"].non_field_errors() == [full]
    assert full in response.content.decode()
    assert not ProjectClaim.objects.filter(unit=unit_a).exists()
    project.refresh_from_db()
    assert project.places_taken == 2


def test_a_project_not_open_cannot_be_claimed(liaison_a, unit_a, project):
    ServiceProject.objects.filter(pk=project.pk).update(status=P.RUNNING)
    client = client_for(liaison_a)
    page = client.get(reverse("portal:project_detail", args=[project.pk]))
    assert page.status_code == 200 and page.context["can_claim"] is False
    response = _claim(client, project, unit=unit_a.pk)
    assert response.status_code == 200
    assert _said(response, "This project is not open for claims.") in response.content.decode()
    assert not ProjectClaim.objects.exists()
    # A draft is not even seen.
    ServiceProject.objects.filter(pk=project.pk).update(status=P.DRAFT)
    assert client.get(reverse("portal:project_detail", args=[project.pk])).status_code == 404
    assert _claim(client, project, unit=unit_a.pk).status_code == 404


def test_liaison_cannot_claim_for_another_unit(liaison_a, unit_b, project):
    response = _claim(client_for(liaison_a), project, unit=unit_b.pk)
    assert response.status_code == 200
    errors = response.context["claim_form"].non_field_errors()
    assert errors == [_said(response, "You may claim projects only for your own unit.")]
    assert errors[0] in response.content.decode()
    assert not ProjectClaim.objects.exists()
    project.refresh_from_db()
    assert project.places_taken == 0


def test_a_claim_needs_a_commitment(liaison_a, unit_a, project):
    response = _claim(client_for(liaison_a), project, unit=unit_a.pk, commitment="   ")
    assert response.status_code == 200 and response.context["claim_form"].errors["commitment"]
    assert not ProjectClaim.objects.exists()


def test_a_liaison_of_several_units_chooses_which_unit_claims(liaison_a, unit_a, root, project):
    second = MemberUnitFactory(name="市第三人民医院")
    member_services.unit_membership_add(unit=second, user=liaison_a, actor=root)
    client = client_for(liaison_a)
    page = client.get(reverse("portal:project_detail", args=[project.pk]))
    body = page.content.decode()
    assert '<select name="unit"' in body and f'value="{second.pk}"' in body
    assert _claim(client, project, unit=second.pk).status_code == 302
    assert _claim(client, project, unit=unit_a.pk).status_code == 302
    assert set(ProjectClaim.objects.values_list("unit_id", flat=True)) == {unit_a.pk, second.pk}
    # Both units hold a claim: nothing left to claim for this liaison.
    assert client.get(reverse("portal:project_detail", args=[project.pk])).context["can_claim"] is False


@pytest.mark.parametrize("who", ["member", "street_staff", "community_x_staff"])
def test_people_without_a_unit_see_the_project_but_no_claim_form(who, cast, project):
    client = client_for(cast[who])
    page = client.get(reverse("portal:project_detail", args=[project.pk]))
    assert page.status_code == 200 and page.context["claim_form"] is None
    assert reverse("portal:project_claim", args=[project.pk]) not in page.content.decode()
    assert _claim(client, project).status_code == 404
    assert not ProjectClaim.objects.exists()


def test_claiming_needs_a_post(liaison_a, project):
    assert client_for(liaison_a).get(reverse("portal:project_claim", args=[project.pk])).status_code == 405


# --- Withdrawing --------------------------------------------------------------------------------------


def test_withdrawing_a_pending_claim_frees_its_place(liaison_a, unit_a, project):
    claim = ClaimFactory(project=project, unit=unit_a, status=C.PENDING)
    client = client_for(liaison_a)
    page = client.get(reverse("portal:claim_list"))
    assert reverse("portal:claim_withdraw", args=[claim.pk]) in page.content.decode()

    response = client.post(reverse("portal:claim_withdraw", args=[claim.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("portal:claim_list")
    assert [m.level for m in _messages(response)] == [message_levels.SUCCESS]
    claim.refresh_from_db()
    project.refresh_from_db()
    assert claim.status == C.WITHDRAWN and project.places_taken == 0
    assert _places_left(client.get(reverse("portal:project_detail", args=[project.pk]))) == 2
    # The unit may claim again.
    assert _claim(client, project, unit=unit_a.pk).status_code == 302
    assert ProjectClaim.objects.filter(unit=unit_a, status=C.PENDING).count() == 1


def test_withdrawing_an_approved_claim_is_refused_with_a_message(liaison_a, unit_a, project):
    claim = ClaimFactory(project=project, unit=unit_a, status=C.APPROVED)
    page = client_for(liaison_a).get(reverse("portal:claim_detail", args=[claim.pk]))
    assert page.context["can_withdraw"] is False
    response = client_for(liaison_a).post(reverse("portal:claim_withdraw", args=[claim.pk]))
    assert response.status_code == 302
    assert [m.level for m in _messages(response)] == [message_levels.ERROR]
    claim.refresh_from_db()
    project.refresh_from_db()
    assert claim.status == C.APPROVED and project.places_taken == 1


def test_liaison_cannot_see_withdraw_or_report_for_another_units_claim(liaison_a, unit_b, project):
    pending = ClaimFactory(project=project, unit=unit_b, status=C.PENDING)
    approved = ClaimFactory(unit=unit_b, status=C.APPROVED)
    client = client_for(liaison_a)
    for claim in (pending, approved):
        assert client.get(reverse("portal:claim_detail", args=[claim.pk])).status_code == 404
        assert client.post(reverse("portal:claim_withdraw", args=[claim.pk])).status_code == 404
        assert client.get(reverse("portal:activity_create", args=[claim.pk])).status_code == 404
        response = client.post(reverse("portal:activity_create", args=[claim.pk]), _activity_form())
        assert response.status_code == 404
    pending.refresh_from_db()
    assert pending.status == C.PENDING
    assert not ServiceActivity.objects.exists()
    assert pending.project.title not in client.get(reverse("portal:claim_list")).content.decode()


def test_community_staff_see_a_claim_of_their_community_but_do_not_withdraw_it(community_x_staff, unit_a, project):
    claim = ClaimFactory(project=project, unit=unit_a, status=C.PENDING)
    client = client_for(community_x_staff)
    page = client.get(reverse("portal:claim_detail", args=[claim.pk]))
    assert page.status_code == 200 and page.context["can_withdraw"] is False
    response = client.post(reverse("portal:claim_withdraw", args=[claim.pk]))
    assert response.status_code == 302 and [m.level for m in _messages(response)] == [message_levels.ERROR]
    claim.refresh_from_db()
    assert claim.status == C.PENDING


# --- Activities ---------------------------------------------------------------------------------------


def _activity_form(**extra) -> dict:
    return {
        "date": timezone.localdate().isoformat(),
        "title": "健康义诊进社区",
        "place": "桥头街社区党群服务中心",
        "participants": "6",
        "services": "35",
        "beneficiaries": "140",
        "hours": "3.5",
        **extra,
    }


def test_liaison_records_an_activity_with_a_photo_under_an_approved_claim(liaison_a, unit_a, project):
    claim = ClaimFactory(project=project, unit=unit_a, status=C.APPROVED)
    client = client_for(liaison_a)
    detail = client.get(reverse("portal:claim_detail", args=[claim.pk]))
    assert reverse("portal:activity_create", args=[claim.pk]) in detail.content.decode()
    assert client.get(reverse("portal:activity_create", args=[claim.pk])).context["can_record"] is True

    photo = SimpleUploadedFile("activity.png", TINY_PNG, content_type="image/png")
    response = client.post(reverse("portal:activity_create", args=[claim.pk]), _activity_form(photos=[photo]))
    assert response.status_code == 302 and response["Location"] == reverse("portal:claim_detail", args=[claim.pk])
    activity = ServiceActivity.objects.get()
    assert (activity.claim, activity.title, activity.services, activity.beneficiaries, str(activity.hours)) == (
        claim,
        "健康义诊进社区",
        35,
        140,
        "3.5",
    )
    assert activity.recorded_by == liaison_a
    stored = ActivityPhoto.objects.get(activity=activity)
    page = client.get(reverse("portal:claim_detail", args=[claim.pk]))
    assert stored.image.url in page.content.decode()
    assert page.context["totals"]["services"] == 35 and page.context["totals"]["activities"] == 1


@pytest.mark.parametrize("status", [C.PENDING, C.WITHDRAWN, C.REJECTED])
def test_activities_are_recorded_only_under_approved_claims(status, liaison_a, unit_a, project):
    claim = ClaimFactory(project=project, unit=unit_a, status=status)
    client = client_for(liaison_a)
    detail = client.get(reverse("portal:claim_detail", args=[claim.pk]))
    assert detail.context["can_record"] is False
    assert reverse("portal:activity_create", args=[claim.pk]) not in detail.content.decode()
    page = client.get(reverse("portal:activity_create", args=[claim.pk]))
    assert page.status_code == 200 and page.context["can_record"] is False
    response = client.post(reverse("portal:activity_create", args=[claim.pk]), _activity_form())
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert not ServiceActivity.objects.exists()


def test_an_activity_in_the_future_or_with_too_many_photos_is_refused(liaison_a, unit_a, project):
    claim = ClaimFactory(project=project, unit=unit_a, status=C.APPROVED)
    client = client_for(liaison_a)
    url = reverse("portal:activity_create", args=[claim.pk])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    future = client.post(url, _activity_form(date=tomorrow))
    assert future.status_code == 200 and future.context["form"].errors
    photos = [SimpleUploadedFile(f"p{i}.png", TINY_PNG, content_type="image/png") for i in range(10)]
    too_many = client.post(url, _activity_form(photos=photos))
    assert too_many.status_code == 200 and too_many.context["form"].errors["photos"]
    not_a_photo = SimpleUploadedFile("notes.exe", b"MZ...", content_type="application/octet-stream")
    bad_file = client.post(url, _activity_form(photos=[not_a_photo]))
    assert bad_file.status_code == 200 and bad_file.context["form"].errors
    negative = client.post(url, _activity_form(beneficiaries="-3", hours="abc"))
    assert negative.status_code == 200 and set(negative.context["form"].errors) == {"beneficiaries", "hours"}
    assert not ServiceActivity.objects.exists() and not ActivityPhoto.objects.exists()


# --- A claim's page: activities, totals, reviews ------------------------------------------------------


def test_the_claim_page_shows_totals_reviews_and_the_residents_rating_beside_each(
    liaison_a, unit_a, project, community_x, health
):
    claim = ClaimFactory(project=project, unit=unit_a, status=C.APPROVED)
    ActivityFactory(claim=claim, services=20, beneficiaries=120, hours="4.0")
    ActivityFactory(claim=claim, services=15, beneficiaries=80, hours="2.5")
    ActivityFactory()  # another claim's: not counted here
    q2 = ReviewFactory(claim=claim, year=2026, quarter=2, score=4, comment="承诺落实到位")
    q3 = ReviewFactory(claim=claim, year=2026, quarter=3, score=3, comment="活动次数偏少")
    # Residents rated two needs unit_a completed in 2026 Q2 (5 and 4), none in Q3.
    in_q2 = timezone.make_aware(datetime(2026, 5, 10, 10, 0))
    for rating in (5, 4):
        NeedFactory(
            community=community_x,
            category=health,
            unit=unit_a,
            status=Need.Status.CLOSED,
            completed_at=in_q2,
            rating=rating,
        )

    response = client_for(liaison_a).get(reverse("portal:claim_detail", args=[claim.pk]))
    assert response.status_code == 200
    totals = response.context["totals"]
    assert (totals["activities"], totals["services"], totals["beneficiaries"], str(totals["hours"])) == (
        2,
        35,
        200,
        "6.5",
    )
    reviews = {r.pk: r for r in response.context["reviews"]}
    assert reviews[q2.pk].resident_rating == (4.5, 2)
    assert reviews[q3.pk].resident_rating is None
    body = response.content.decode()
    assert "承诺落实到位" in body and "活动次数偏少" in body
    assert 'data-resident-rating="4.5"' in body and 'data-score="4"' in body
    assert claim.commitment in body


# --- The portal home and query counts ---------------------------------------------------------------


def test_the_portal_home_shows_my_claims_and_the_number_of_open_projects(liaison_a, unit_a, project, health):
    ProjectFactory(category=health)
    claim = ClaimFactory(project=project, unit=unit_a, status=C.PENDING)
    body = client_for(liaison_a).get(reverse("portal:home")).content.decode()
    assert reverse("portal:claim_detail", args=[claim.pk]) in body
    assert 'data-open-count="2"' in body
    assert reverse("portal:claim_table") in body and reverse("portal:claim_list") in body


def test_claim_table_query_count_does_not_grow_with_rows(liaison_a, unit_a, health):
    def publish(count: int) -> None:
        for project in ProjectFactory.create_batch(count, category=health, community=unit_a.community):
            ClaimFactory(project=project, unit=unit_a, status=C.PENDING)  # each row shows my claim
            ClaimFactory(project=project, status=C.APPROVED)

    client = client_for(liaison_a)
    url = reverse("portal:claim_table")
    publish(2)
    client.get(url)  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    publish(12)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["projects"]) == 14
    # session, user, groups, unread notifications; the page's count and the page of projects joined with
    # category, community and street; the filter form's categories and communities; the liaison's units
    # (guardian) and one query for my units' claims on the listed projects — however many rows.
    assert len(many) == len(few)


def test_my_claims_query_count_does_not_grow_with_rows(liaison_a, unit_a, health):
    def claim(count: int) -> None:
        for project in ProjectFactory.create_batch(count, category=health):
            ClaimFactory(project=project, unit=unit_a, status=C.PENDING)

    client = client_for(liaison_a)
    url = reverse("portal:claim_list")
    claim(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    claim(12)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["claims"]) == 14
    # session, user, groups, unread notifications, the liaison's units (guardian), the page's count, the
    # page of claims joined with project, category, community and unit, whether I have units, and the
    # number of open projects — the same however many rows.
    assert len(many) == len(few)


def test_claim_page_query_count_does_not_grow_with_activities(liaison_a, unit_a, project):
    claim = ClaimFactory(project=project, unit=unit_a, status=C.APPROVED)
    ReviewFactory(claim=claim, year=2026, quarter=1)
    client = client_for(liaison_a)
    url = reverse("portal:claim_detail", args=[claim.pk])
    ActivityFactory.create_batch(2, claim=claim)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    ActivityFactory.create_batch(10, claim=claim)
    ReviewFactory(claim=claim, year=2026, quarter=2)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["activities"]) == 12
    # session, user, groups, the liaison's units (guardian), unread notifications, the claim (joined), the
    # totals (one aggregate), the page's count, the page of activities and their photos (one prefetch), the
    # reviews, the residents' ratings (one aggregate) — the same however many activities and reviews.
    assert len(many) == len(few)
