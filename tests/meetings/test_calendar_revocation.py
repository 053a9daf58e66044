"""Issue 9, finding 6: a unit's calendar feed kept working after its liaison was removed from the unit.
The address is the only key a calendar app holds, and every liaison of the unit has seen it: when one
leaves, the unit's address is revoked; the liaisons who stay get a new one. A person's own feed stops when
their account is switched off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alliance.errors import PermissionDenied
from meetings import services
from meetings.models import CalendarFeed
from members import services as member_services
from members.models import UnitMembership

from ..conftest import client_for
from ..factories import UserFactory
from .factories import InvitationFactory, MeetingFactory


@pytest.fixture
def upcoming(unit_a):
    meeting = MeetingFactory(title="三季度街道联席会议", start=timezone.now() + timedelta(days=10))
    InvitationFactory(meeting=meeting, unit=unit_a)
    return meeting


def _get(feed: CalendarFeed):
    return client_for(None).get(reverse("calendar_feed", args=[feed.token]))


def test_a_units_feed_answers_404_once_the_liaison_is_removed(liaison_a, unit_a, upcoming, root):
    feed = services.calendar_feed_for(unit=unit_a, actor=liaison_a)
    assert _get(feed).status_code == 200

    member_services.unit_membership_remove(
        membership=UnitMembership.objects.get(unit=unit_a, user=liaison_a), actor=root
    )

    assert _get(feed).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is not None


def test_the_liaisons_who_stay_get_a_new_address_that_works(liaison_a, unit_a, upcoming, root):
    colleague = UserFactory(username="liaison_a2")
    member_services.unit_membership_add(unit=unit_a, user=colleague, actor=root)
    old = services.calendar_feed_for(unit=unit_a, actor=liaison_a)

    member_services.unit_membership_remove(
        membership=UnitMembership.objects.get(unit=unit_a, user=liaison_a), actor=root
    )

    new = services.calendar_feed_for(unit=unit_a, actor=colleague)
    assert new.token != old.token
    assert (_get(old).status_code, _get(new).status_code) == (404, 200)
    # The page that lists the addresses shows the new one, never the revoked one.
    page = client_for(colleague).get(reverse("portal:calendar")).content.decode()
    assert new.token in page and old.token not in page


def test_another_units_feed_is_not_touched(liaison_a, liaison_b, unit_a, unit_b, upcoming, root):
    theirs = services.calendar_feed_for(unit=unit_b, actor=liaison_b)
    member_services.unit_membership_remove(
        membership=UnitMembership.objects.get(unit=unit_a, user=liaison_a), actor=root
    )
    assert _get(theirs).status_code == 200


def test_a_removed_liaison_can_no_longer_ask_for_the_units_address(liaison_a, unit_a, root):
    member_services.unit_membership_remove(
        membership=UnitMembership.objects.get(unit=unit_a, user=liaison_a), actor=root
    )
    with pytest.raises(PermissionDenied):
        services.calendar_feed_for(unit=unit_a, actor=liaison_a)


def test_a_users_feed_answers_404_once_the_user_is_inactive(liaison_a, upcoming):
    feed = services.calendar_feed_for(user=liaison_a, actor=liaison_a)
    assert _get(feed).status_code == 200
    liaison_a.is_active = False
    liaison_a.save(update_fields=["is_active"])
    assert _get(feed).status_code == 404
