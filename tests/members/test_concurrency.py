"""Two staff members approving the same application at the same moment: exactly one approval, one
account. Real threads, real PostgreSQL (SQLite serialises writers, so the race cannot happen there)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from alliance.errors import TransitionNotAllowed
from members import services
from members.models import MemberUnit, UnitMembership

from ..factories import CommunityFactory, MemberUnitFactory, street_staff_of

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_approvals_give_one_winner():
    approvers = [street_staff_of(username=f"approver{i}") for i in range(8)]
    unit = MemberUnitFactory(
        community=CommunityFactory(), status=MemberUnit.Status.APPLIED, liaison_phone="13600000001"
    )

    barrier = threading.Barrier(len(approvers))
    outcomes: list[str] = []

    def approve(user):
        try:
            barrier.wait()
            services.unit_approve(unit=MemberUnit.objects.get(pk=unit.pk), actor=user)
            outcomes.append("approved")
        except TransitionNotAllowed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(user,)) for user in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["approved"] + ["refused"] * (len(approvers) - 1)
    assert UnitMembership.objects.filter(unit=unit).count() == 1
    assert unit.history.filter(history_change_reason="approved").count() == 1
