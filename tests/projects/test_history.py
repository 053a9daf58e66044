"""Finding 7 of issue 9: the places a claim takes and gives back are changed by a conditional UPDATE (the
race safety); each change still leaves a history row of the project, in the claimant's name."""

from __future__ import annotations

import pytest
from django.db import connection

from projects import services
from projects.models import ProjectClaim

from .factories import ClaimFactory, ProjectFactory
from .test_race import _liaisons, _race


@pytest.fixture
def project(community_x):
    return ProjectFactory(community=community_x, street=community_x.street, places=2)


def _last(project):
    return project.history.order_by("-history_id").first()


def test_a_claim_leaves_a_project_history_row_with_the_new_places_taken_and_the_claimant(project, unit_a, liaison_a):
    services.claim_create(project=project, unit=unit_a, commitment="每月一次义诊", actor=liaison_a)
    row = _last(project)
    assert (row.places_taken, row.history_type, row.history_user, row.history_change_reason) == (
        1,
        "~",
        liaison_a,
        "place taken",
    )


def test_withdrawing_and_rejecting_leave_a_row_with_the_place_given_back(
    project, unit_a, unit_b, liaison_a, street_staff
):
    claim = services.claim_create(project=project, unit=unit_a, commitment="每月一次义诊", actor=liaison_a)
    services.claim_withdraw(claim=claim, actor=liaison_a)
    row = _last(project)
    assert (row.places_taken, row.history_user, row.history_change_reason) == (0, liaison_a, "place released")

    other = ClaimFactory(project=project, unit=unit_b, status=ProjectClaim.Status.PENDING)
    services.claim_reject(claim=other, actor=street_staff, reason="不符合条件")
    row = _last(project)
    assert (row.places_taken, row.history_user, row.history_change_reason) == (0, street_staff, "place released")


def test_finishing_a_project_records_the_places_released(project, unit_a, street_staff):
    ClaimFactory(project=project, unit=unit_a)
    services.project_finish(project=project, actor=street_staff)
    row = _last(project)
    assert (row.status, row.places_taken, row.history_user, row.history_change_reason) == (
        "finished",
        0,
        street_staff,
        "places released",
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_units_claiming_at_once_leave_one_row_per_place_counting_up_in_each_winners_name():
    pairs = _liaisons(12, "history")
    project = ProjectFactory(places=3)
    _race(
        [
            lambda user=user, unit=unit: services.claim_create(
                project=project, unit=unit, commitment="义诊", actor=user
            )
            for user, unit in pairs
        ]
    )
    rows = project.history.filter(history_change_reason="place taken")
    assert sorted(rows.values_list("places_taken", flat=True)) == [1, 2, 3]
    winners = ProjectClaim.objects.filter(project=project).values_list("claimed_by", flat=True)
    assert sorted(rows.values_list("history_user", flat=True)) == sorted(winners)
