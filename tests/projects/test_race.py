"""Claiming the last places from many units at once: never more claims than places, one claim per unit.
50 real threads on PostgreSQL, several rounds (SQLite serialises writers, so the race cannot happen there)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from alliance.errors import Conflict
from members import services as member_services
from projects import services
from projects.models import ProjectClaim, ServiceProject

from ..factories import CommunityFactory, MemberUnitFactory, UserFactory
from .factories import ProjectFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]
CLAIMANTS = 50


def _liaisons(n: int, tag: str):
    root = UserFactory(username=f"root-{tag}", is_superuser=True, is_staff=True)
    community = CommunityFactory()
    pairs = []
    for i in range(n):
        unit = MemberUnitFactory(community=community)
        user = UserFactory(username=f"l{i}-{tag}")
        member_services.unit_membership_add(unit=unit, user=user, actor=root)
        pairs.append((user, unit))
    return pairs


def _race(calls) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("claimed")
        except Conflict as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("places", [1, 3, 7])
def test_fifty_units_claiming_at_once_never_exceed_the_places(places):
    pairs = _liaisons(CLAIMANTS, f"p{places}")
    project = ProjectFactory(places=places)
    outcomes = _race(
        [
            lambda user=user, unit=unit: services.claim_create(
                project=project, unit=unit, commitment="每月一次义诊", actor=user
            )
            for user, unit in pairs
        ]
    )
    assert outcomes.count("claimed") == places
    assert outcomes.count("ProjectFull") == CLAIMANTS - places
    project.refresh_from_db()
    assert project.places_taken == places
    assert ProjectClaim.objects.filter(project=project, status__in=ProjectClaim.HOLDING).count() == places


def test_one_unit_claiming_many_times_at_once_holds_one_claim():
    (user, unit), *_ = _liaisons(1, "same")
    project = ProjectFactory(places=5)
    outcomes = _race(
        [lambda: services.claim_create(project=project, unit=unit, commitment="承诺", actor=user) for _ in range(20)]
    )
    assert outcomes.count("claimed") == 1
    assert outcomes.count("AlreadyClaimed") == 19
    project.refresh_from_db()
    assert project.places_taken == 1


def test_the_database_refuses_more_claims_than_places_even_without_the_lock():
    from django.db import IntegrityError, transaction

    project = ProjectFactory(places=1)
    ServiceProject.objects.filter(pk=project.pk).update(places_taken=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceProject.objects.filter(pk=project.pk).update(places_taken=2)
