"""Two people acting on one need at the same moment: exactly one wins, the other gets a conflict.
Real threads on PostgreSQL (SQLite serialises writers, so the race cannot happen there)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from demands.models import Need, NeedEvent
from members import services as member_services

from ..factories import CommunityFactory, MemberUnitFactory, UserFactory, street_staff_of
from .factories import NeedFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def _race(calls) -> list[int]:
    """Run each call in its own thread, all released at once; return their HTTP status codes."""
    barrier = threading.Barrier(len(calls))
    codes: list[int] = []

    def run(call):
        try:
            barrier.wait()
            codes.append(call())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(codes)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("rounds", range(3))
def test_two_dispatches_of_one_need_one_wins(rounds):
    staff = [street_staff_of(username=f"staff{i}-{rounds}") for i in range(2)]
    community = CommunityFactory()
    units = [MemberUnitFactory(community=community) for _ in range(2)]
    need = NeedFactory(community=community)

    codes = _race(
        [
            lambda user=user, unit=unit: (
                _client(user).post(f"/api/v1/needs/{need.pk}/dispatch/", {"unit": unit.pk}, format="json").status_code
            )
            for user, unit in zip(staff, units, strict=True)
        ]
    )
    assert codes == [200, 409]
    need.refresh_from_db()
    assert need.status == Need.Status.DISPATCHED and need.unit in units
    assert NeedEvent.objects.filter(need=need, to_status=Need.Status.DISPATCHED).count() == 1


@pytest.mark.parametrize("rounds", range(3))
def test_two_liaisons_accepting_one_need_one_wins(rounds):
    root = UserFactory(username=f"root-{rounds}", is_superuser=True, is_staff=True)
    community = CommunityFactory()
    unit = MemberUnitFactory(community=community)
    liaisons = [UserFactory(username=f"liaison{i}-{rounds}") for i in range(2)]
    for user in liaisons:
        member_services.unit_membership_add(unit=unit, user=user, actor=root)
    from django.utils import timezone

    need = NeedFactory(community=community, status=Need.Status.DISPATCHED, unit=unit, dispatched_at=timezone.now())
    codes = _race(
        [lambda user=user: _client(user).post(f"/api/v1/needs/{need.pk}/accept/").status_code for user in liaisons]
    )
    assert codes == [200, 409]
    assert NeedEvent.objects.filter(need=need, to_status=Need.Status.ACCEPTED).count() == 1


def test_accept_and_decline_at_once_one_wins():
    root = UserFactory(username="root-ad", is_superuser=True, is_staff=True)
    community = CommunityFactory()
    unit = MemberUnitFactory(community=community)
    liaisons = [UserFactory(username=f"ad{i}") for i in range(2)]
    for user in liaisons:
        member_services.unit_membership_add(unit=unit, user=user, actor=root)
    from django.utils import timezone

    need = NeedFactory(community=community, status=Need.Status.DISPATCHED, unit=unit, dispatched_at=timezone.now())
    answers: dict[str, int] = {}

    def accept() -> int:
        answers["accept"] = _client(liaisons[0]).post(f"/api/v1/needs/{need.pk}/accept/").status_code
        return answers["accept"]

    def decline() -> int:
        answers["decline"] = (
            _client(liaisons[1])
            .post(f"/api/v1/needs/{need.pk}/decline/", {"reason": "没空"}, format="json")
            .status_code
        )
        return answers["decline"]

    assert _race([accept, decline]) == [200, 409]
    # Either may win the row lock; the need then stands exactly where the winner moved it, with one event.
    winner = next(action for action, code in answers.items() if code == 200)
    expected = {"accept": Need.Status.ACCEPTED, "decline": Need.Status.SUBMITTED}[winner]
    need.refresh_from_db()
    assert need.status == expected
    events = NeedEvent.objects.filter(need=need).exclude(from_status="")
    assert [(e.from_status, e.to_status) for e in events] == [(Need.Status.DISPATCHED, expected)]
