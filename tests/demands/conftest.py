from __future__ import annotations

import pytest
from django.utils import timezone

from demands.models import Need
from members import services as member_services

from ..factories import UserFactory
from .factories import NeedFactory

AT_UNIT = {Need.Status.DISPATCHED, Need.Status.ACCEPTED, Need.Status.COMPLETED, Need.Status.CLOSED}


@pytest.fixture
def need_in(community_x, unit_a):
    """A need of community_x standing at `status`; from dispatch on, it is in unit_a's hands."""

    def make(status: str, **fields) -> Need:
        now = timezone.now()
        values = {"status": status, "community": community_x}
        if status in AT_UNIT:
            values.update(unit=unit_a, dispatched_at=now)
        if status in {Need.Status.ACCEPTED, Need.Status.COMPLETED, Need.Status.CLOSED}:
            values["accepted_at"] = now
        if status in {Need.Status.COMPLETED, Need.Status.CLOSED}:
            values.update(completed_at=now, result="已上门修好")
        if status == Need.Status.CLOSED:
            values.update(closed_at=now, rating=5)
        if status == Need.Status.REJECTED:
            values.update(rejected_at=now, reject_reason="重复")
        return NeedFactory(**{**values, **fields})

    return make


@pytest.fixture
def liaison_a2(unit_a, root):
    """A second liaison of unit_a."""
    user = UserFactory(username="liaison_a2")
    member_services.unit_membership_add(unit=unit_a, user=user, actor=root)
    return user
