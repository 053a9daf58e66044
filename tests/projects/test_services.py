"""Every claim transition for every role, and the rules around them."""

from __future__ import annotations

import pytest
from django.http import Http404

from alliance.errors import Conflict, InvalidInput, PermissionDenied, TransitionNotAllowed
from alliance.models import Notification
from projects import services
from projects.models import ProjectClaim, ServiceProject

from .factories import ClaimFactory, ProjectFactory

C = ProjectClaim.Status
ROLES = ["anonymous", "liaison_a", "liaison_b", "community_x_staff", "community_y_staff", "street_staff", "member"]


@pytest.fixture
def project(community_x):
    return ProjectFactory(community=community_x, street=community_x.street, places=2)


def _outcome(call) -> str:
    try:
        call()
    except Http404:
        return "404"
    except PermissionDenied:
        return "403"
    except Conflict:
        return "409"
    except InvalidInput:
        return "400"
    return "ok"


@pytest.mark.parametrize("role", ROLES)
def test_claiming_for_unit_a(role, cast, project, unit_a):
    outcome = _outcome(lambda: services.claim_create(project=project, unit=unit_a, commitment="承诺", actor=cast[role]))
    assert outcome == ("ok" if role == "liaison_a" else "403")
    project.refresh_from_db()
    assert project.places_taken == (1 if role == "liaison_a" else 0)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", [C.PENDING, C.APPROVED, C.REJECTED, C.WITHDRAWN, C.COMPLETED])
def test_withdrawing(role, status, cast, project, unit_a):
    claim = ClaimFactory(project=project, unit=unit_a, status=status)
    outcome = _outcome(lambda: services.claim_withdraw(claim=claim, actor=cast[role]))
    sees = role in {"liaison_a", "community_x_staff", "street_staff"}
    if role == "liaison_a":
        assert outcome == ("ok" if status == C.PENDING else "409")
    else:
        assert outcome == ("403" if sees else "404")
    claim.refresh_from_db()
    assert claim.status == (C.WITHDRAWN if outcome == "ok" else status)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", [C.PENDING, C.APPROVED, C.REJECTED, C.WITHDRAWN, C.COMPLETED])
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_deciding(role, status, decision, cast, project, unit_a):
    claim = ClaimFactory(project=project, unit=unit_a, status=status)
    if decision == "approve":
        outcome = _outcome(lambda: services.claim_approve(claim=claim, actor=cast[role]))
    else:
        outcome = _outcome(lambda: services.claim_reject(claim=claim, actor=cast[role], reason="名额已满"))
    deciders = {"community_x_staff", "street_staff"}
    if role in deciders:
        assert outcome == ("ok" if status == C.PENDING else "409")
    elif role == "liaison_a":
        assert outcome == "403"  # sees its own claim, may not decide on it
    else:
        assert outcome == "404"
    claim.refresh_from_db()
    if outcome == "ok":
        assert claim.status == (C.APPROVED if decision == "approve" else C.REJECTED)
    else:
        assert claim.status == status


def test_a_liaison_cannot_report_for_another_units_claim(cast, project, unit_b):
    claim = ClaimFactory(project=project, unit=unit_b, status=C.APPROVED)
    data = {"date": "2026-05-01", "title": "义诊", "services": 3, "beneficiaries": 30}
    from datetime import date

    data["date"] = date(2026, 5, 1)
    assert _outcome(lambda: services.activity_record(claim=claim, actor=cast["liaison_a"], data=data)) == "404"
    assert _outcome(lambda: services.activity_record(claim=claim, actor=cast["liaison_b"], data=data)) == "ok"
    assert claim.activities.count() == 1


def test_activities_only_under_approved_claims(cast, project, unit_a):
    from datetime import date

    claim = ClaimFactory(project=project, unit=unit_a, status=C.PENDING)
    data = {"date": date(2026, 5, 1), "title": "义诊"}
    with pytest.raises(Conflict):
        services.activity_record(claim=claim, actor=cast["liaison_a"], data=data)
    with pytest.raises(InvalidInput):
        claim.status = C.APPROVED
        claim.save()
        services.activity_record(claim=claim, actor=cast["liaison_a"], data={**data, "date": date(2099, 1, 1)})


def test_claims_only_on_open_projects_and_once_per_unit(cast, community_x, unit_a):
    liaison = cast["liaison_a"]
    draft = ProjectFactory(community=community_x, status=ServiceProject.Status.DRAFT)
    assert _outcome(lambda: services.claim_create(project=draft, unit=unit_a, commitment="x", actor=liaison)) == "404"
    running = ProjectFactory(community=community_x, status=ServiceProject.Status.RUNNING)
    with pytest.raises(Conflict):
        services.claim_create(project=running, unit=unit_a, commitment="x", actor=liaison)
    project = ProjectFactory(community=community_x, places=3)
    claim = services.claim_create(project=project, unit=unit_a, commitment="承诺", actor=liaison)
    with pytest.raises(services.AlreadyClaimed):
        services.claim_create(project=project, unit=unit_a, commitment="再次", actor=liaison)
    services.claim_withdraw(claim=claim, actor=liaison)
    again = services.claim_create(project=project, unit=unit_a, commitment="重新认领", actor=liaison)
    assert again.status == C.PENDING
    project.refresh_from_db()
    assert project.places_taken == 1
    with pytest.raises(InvalidInput):
        services.claim_create(project=ProjectFactory(community=community_x), unit=unit_a, commitment=" ", actor=liaison)


def test_full_project_answers_full_in_chinese(cast, community_x, unit_a, unit_b):
    project = ProjectFactory(community=community_x, places=1)
    ClaimFactory(project=project, unit=unit_b, status=C.PENDING)
    with pytest.raises(services.ProjectFull) as excinfo:
        services.claim_create(project=project, unit=unit_a, commitment="承诺", actor=cast["liaison_a"])
    assert "满" in excinfo.value.message


def test_rejecting_frees_the_place_and_tells_the_unit(
    cast, project, unit_a, django_capture_on_commit_callbacks, mailoutbox
):
    claim = services.claim_create(project=project, unit=unit_a, commitment="承诺", actor=cast["liaison_a"])
    project.refresh_from_db()
    assert project.places_taken == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.claim_reject(claim=claim, actor=cast["community_x_staff"], reason="与项目方向不符")
    project.refresh_from_db()
    assert project.places_taken == 0
    assert any(cast["liaison_a"].email in m.to and "与项目方向不符" in m.body for m in mailoutbox)
    with pytest.raises(InvalidInput):
        services.claim_reject(
            claim=ClaimFactory(project=project, status=C.PENDING), actor=cast["street_staff"], reason=""
        )


def test_staff_are_told_of_a_claim_and_units_of_approval_period_and_finish(
    cast, project, unit_a, django_capture_on_commit_callbacks, mailoutbox
):
    from datetime import date

    with django_capture_on_commit_callbacks(execute=True):
        claim = services.claim_create(project=project, unit=unit_a, commitment="承诺", actor=cast["liaison_a"])
    # Staff find the claim in their inbox at once; it is sent in the daily digest.
    told = Notification.objects.get(recipient=cast["community_x_staff"], kind="claim_created")
    assert told.in_digest is True and told.url == f"/admin/projects/projectclaim/{claim.pk}/change/"
    assert not [m for m in mailoutbox if cast["community_x_staff"].email in m.to]
    with django_capture_on_commit_callbacks(execute=True):
        services.claim_approve(claim=claim, actor=cast["community_x_staff"])
        services.project_update(project=project, actor=cast["community_x_staff"], data={"ends_on": date(2027, 6, 30)})
        services.project_start(project=project, actor=cast["community_x_staff"])
        services.project_finish(project=project, actor=cast["community_x_staff"])
    to_liaison = [m.subject for m in mailoutbox if cast["liaison_a"].email in m.to]
    assert len(to_liaison) == 3  # approved, period changed, finished
    claim.refresh_from_db()
    assert claim.status == C.COMPLETED


def test_places_cannot_drop_below_the_claims_held(cast, project, unit_a):
    ClaimFactory(project=project, unit=unit_a, status=C.APPROVED)
    ClaimFactory(project=project, status=C.PENDING)
    with pytest.raises(InvalidInput):
        services.project_update(project=project, actor=cast["street_staff"], data={"places": 1})


def test_reviews_are_staffs_and_replace_the_quarters_score(cast, project, unit_a):
    claim = ClaimFactory(project=project, unit=unit_a, status=C.APPROVED)
    with pytest.raises(PermissionDenied):
        services.review_save(claim=claim, actor=cast["liaison_a"], year=2026, quarter=2, score=5)
    services.review_save(claim=claim, actor=cast["community_x_staff"], year=2026, quarter=2, score=3, comment="一般")
    review = services.review_save(
        claim=claim, actor=cast["street_staff"], year=2026, quarter=2, score=5, comment="很好"
    )
    assert claim.reviews.count() == 1 and review.score == 5
    with pytest.raises(InvalidInput):
        services.review_save(claim=claim, actor=cast["street_staff"], year=2099, quarter=1, score=5)


def test_transitions_of_projects_are_refused_out_of_order(cast, project):
    with pytest.raises(TransitionNotAllowed):
        services.project_open(project=project, actor=cast["street_staff"])  # already open


def test_finishing_moves_each_holding_claim_through_its_transition_in_the_actors_name(cast, project, unit_a, unit_b):
    approved = ClaimFactory(project=project, unit=unit_a, status=C.APPROVED)
    pending = ClaimFactory(project=project, unit=unit_b, status=C.PENDING)
    rejected = ClaimFactory(project=project, status=C.REJECTED)
    services.project_finish(project=project, actor=cast["street_staff"])
    rows = {claim.pk: claim.history.order_by("-history_id").first() for claim in (approved, pending, rejected)}
    assert [
        (r.status, r.history_user, r.history_change_reason, r.decided_at is not None)
        for r in (rows[approved.pk], rows[pending.pk])
    ] == [
        (C.COMPLETED, cast["street_staff"], "project finished", True),
        (C.WITHDRAWN, cast["street_staff"], "project finished", True),
    ]
    assert rows[approved.pk].decided_at == rows[pending.pk].decided_at  # one moment for the whole finish
    assert approved.history.count() == pending.history.count() == 2  # created, then the one move
    statuses = dict(ProjectClaim.objects.values_list("pk", "status"))
    assert statuses == {approved.pk: C.COMPLETED, pending.pk: C.WITHDRAWN, rejected.pk: C.REJECTED}
