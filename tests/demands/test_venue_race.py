"""Fifty requests for one slot of one venue, approved at the same moment by the owner's two liaisons and the
street's staff: exactly one is approved, the other 49 are told the slot is taken. Real threads on PostgreSQL
(SQLite serialises writers, so the race cannot happen there)."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alliance.errors import Conflict
from alliance.periods import ZONE
from demands import services
from demands.models import Booking
from members import services as member_services

from ..factories import MemberUnitFactory, UserFactory
from .factories import VenueFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

REQUESTS = 50


def test_fifty_approvals_of_one_slot_one_wins(root):
    owner = MemberUnitFactory()
    venue = VenueFactory(resource__unit=owner, resource__capacity=None)
    deciders = [UserFactory(username=f"owner{i}") for i in range(2)]
    for user in deciders:
        member_services.unit_membership_add(unit=owner, user=user, actor=root)
    day = timezone.localdate() + timedelta(days=3)
    start, end = datetime.combine(day, time(9), tzinfo=ZONE), datetime.combine(day, time(11), tzinfo=ZONE)
    asking = []
    for n in range(REQUESTS):
        unit = MemberUnitFactory()
        liaison = UserFactory(username=f"asker{n}")
        member_services.unit_membership_add(unit=unit, user=liaison, actor=root)
        # Half of them a little shifted: they overlap the others without being the same slot.
        shift = timedelta(minutes=30 * (n % 2))
        asking.append(
            services.booking_request(
                venue=venue, actor=liaison, unit=unit, start=start + shift, end=end + shift, purpose="议事会", people=9
            )
        )
    assert Booking.objects.filter(status=Booking.Status.PENDING).count() == REQUESTS

    barrier = threading.Barrier(REQUESTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def approve(booking: Booking, actor) -> None:
        try:
            barrier.wait()
            services.booking_approve(booking=Booking.objects.get(pk=booking.pk), actor=actor)
            result = "approved"
        except Conflict as refused:
            result = refused.message
        except Exception as error:  # anything else is a failure to see in the assertion below
            result = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=approve, args=(booking, deciders[n % 2])) for n, booking in enumerate(asking)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["approved"] + ["该时段已被预约，请另选时间。"] * (REQUESTS - 1)
    assert Booking.objects.filter(status=Booking.Status.APPROVED).count() == 1
    assert Booking.objects.filter(status=Booking.Status.PENDING).count() == REQUESTS - 1
