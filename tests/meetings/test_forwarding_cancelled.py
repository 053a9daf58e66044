"""Forwarded items on a cancelled higher meeting (issue 14): when the street's (or district's) meeting an
item was forwarded to is cancelled, the item goes to that body's next planned meeting, or — with none
planned — is taken off and its original waits again for the body's next meeting, which gets it when it is
planned. The original's owner is told each time, and its timeline says so."""

# ruff: noqa: F811  (the fixtures imported from test_forwarding are the tests' arguments)
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alliance.models import Notification
from meetings import selectors, services
from meetings.models import JointMeeting, Level, Resolution, ResolutionProgress

from .factories import ResolutionFactory
from .test_forwarding import (  # noqa: F401  (fixtures)
    _district_meeting,
    _street_meeting,
    community_meeting,
    district,
    district_staff,
    original,
    street,
)

pytestmark = pytest.mark.django_db
R = Resolution.Status


def _told(liaison, original: Resolution) -> list[Notification]:
    return list(Notification.objects.filter(recipient=liaison, kind=f"resolution_rehomed:{original.pk}"))


def test_the_item_moves_to_the_streets_next_meeting(original, street, community_x_staff, street_staff, liaison_a):
    first = _street_meeting(street, 10, title="十二月协调会")
    following = _street_meeting(street, 40, title="一月协调会")
    services.resolution_forward(resolution=original, actor=community_x_staff)
    item = Resolution.objects.get(forwarded_from=original)
    assert item.meeting == first
    unrelated = ResolutionFactory(meeting=first, owner=original.owner)  # the street's own decision

    services.meeting_cancel(meeting=first, actor=street_staff, reason="书记外出开会")

    item.refresh_from_db()
    original.refresh_from_db()
    assert item.meeting == following and item.status == R.OPEN
    assert item.due_date == timezone.localtime(following.start).date() + timedelta(days=services.FORWARDED_DUE_DAYS)
    assert item.history.first().history_change_reason == "moved: meeting cancelled"
    assert original.status == R.FORWARDED
    assert Resolution.objects.get(pk=unrelated.pk).meeting == first  # only forwarded items move
    note = ResolutionProgress.objects.get(resolution=original)
    assert "十二月协调会" in note.text and "一月协调会" in note.text
    (told,) = _told(liaison_a, original)
    assert "一月协调会" in told.body
    # The link both ways still holds: the original names the item's new meeting.
    row = selectors.with_forwarding(Resolution.objects.filter(pk=original.pk)).get()
    assert (row.forwarded_to_id, row.forwarded_to_meeting_id) == (item.pk, following.pk)


def test_with_no_next_meeting_the_original_waits_and_the_next_one_planned_gets_it(
    original, street, community_x_staff, street_staff, liaison_a
):
    only = _street_meeting(street, 10, title="十二月协调会")
    services.resolution_forward(resolution=original, actor=community_x_staff)
    item = Resolution.objects.get(forwarded_from=original)
    services.resolution_progress(resolution=item, actor=liaison_a, text="已联系交警大队")

    services.meeting_cancel(meeting=only, actor=street_staff, reason="疫情防控")

    original.refresh_from_db()
    assert not Resolution.objects.filter(pk=item.pk).exists()
    assert original.status == R.FORWARDED and original.forward_street_id == street.pk
    assert list(selectors.forwards_waiting(meeting=_street_meeting(street, 20, status="cancelled"))) == [original]
    # The progress written on the item is not lost: it is on the original's timeline, with the notice.
    notes = list(ResolutionProgress.objects.filter(resolution=original).order_by("pk").values_list("text", flat=True))
    assert notes[0] == "已联系交警大队" and "十二月协调会" in notes[1]
    assert len(_told(liaison_a, original)) == 1
    row = selectors.with_forwarding(Resolution.objects.filter(pk=original.pk)).get()
    assert row.forwarded_to_id is None

    # The street plans its next meeting: the item is made for it.
    start = timezone.now() + timedelta(days=30)
    planned = services.meeting_create(
        actor=street_staff,
        data={
            "level": Level.STREET,
            "title": "一月协调会",
            "street": street,
            "start": start,
            "end": start + timedelta(hours=2),
            "place": "街道会议室",
        },
    )
    (again,) = Resolution.objects.filter(forwarded_from=original)
    assert again.meeting == planned and again.status == R.OPEN


def test_a_cancelled_district_meeting_sends_the_streets_item_back_to_waiting(
    district, street, street_staff, district_staff, unit_a, liaison_a
):
    street_meeting = _street_meeting(street, -3, status=JointMeeting.Status.HELD, title="街道协调会")
    from_street = ResolutionFactory(meeting=street_meeting, owner=unit_a, text="跨街道道路改造")
    district_meeting = _district_meeting(district, 10, street=None)
    services.resolution_forward(resolution=from_street, actor=street_staff)
    assert Resolution.objects.get(forwarded_from=from_street).meeting == district_meeting

    services.meeting_cancel(meeting=district_meeting, actor=district_staff, reason="改期")

    from_street.refresh_from_db()
    assert from_street.status == R.FORWARDED and from_street.forward_district_id == district.pk
    assert not Resolution.objects.filter(forwarded_from=from_street).exists()
    assert len(_told(liaison_a, from_street)) == 1
    later = _district_meeting(district, 30, street=None)
    assert services.forwards_attach(meeting=later) == 1
    assert Resolution.objects.get(forwarded_from=from_street).meeting == later


def test_a_declined_item_stays_where_it_was_declined(original, street, community_x_staff, street_staff, liaison_a):
    first = _street_meeting(street, 10)
    _street_meeting(street, 40)
    services.resolution_forward(resolution=original, actor=community_x_staff)
    item = Resolution.objects.get(forwarded_from=original)
    services.resolution_decline(resolution=item, actor=street_staff, reason="属物业管理事项")

    services.meeting_cancel(meeting=first, actor=street_staff, reason="改期")

    item.refresh_from_db()
    original.refresh_from_db()
    assert (item.meeting, item.status) == (first, R.DECLINED)
    assert original.status == R.OPEN
    assert _told(liaison_a, original) == []
