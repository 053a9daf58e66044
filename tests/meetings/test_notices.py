"""A moved or cancelled meeting: one notice per invitee, at once, recorded in the reminders' ledger — in
the same number of queries for 4 invitees as for 12."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance.models import Notification
from meetings import services
from meetings.models import Reminder

from ..factories import UserFactory
from .factories import InvitationFactory, MeetingFactory


def _meeting_with(invitees: int, tag: str):
    meeting = MeetingFactory()
    for n in range(invitees):
        InvitationFactory(meeting=meeting, unit=None, person=UserFactory(username=f"{tag}-{n}"))
    return meeting


def _reschedule(meeting, actor):
    start = meeting.start + timedelta(days=1)
    return services.meeting_reschedule(meeting=meeting, actor=actor, start=start, end=start + timedelta(hours=1))


@pytest.mark.parametrize(
    "change, kind",
    [
        (_reschedule, "meeting_moved"),
        (lambda m, actor: services.meeting_cancel(meeting=m, actor=actor, reason="台风预警"), "meeting_cancelled"),
    ],
)
def test_notices_cost_the_same_queries_for_4_and_12_invitees(change, kind, street_staff):
    counts = []
    # The first change also caches the actor's groups; the sizes compared are the second and the third.
    for size in (1, 4, 12):
        meeting = _meeting_with(size, f"{kind}{size}")
        with CaptureQueriesContext(connection) as queries:
            change(meeting, street_staff)
        counts.append(len(queries))
        told = Notification.objects.filter(kind=f"reminder:{kind}", recipient__invitations__meeting=meeting)
        assert told.count() == size
        # At once: the invitees must know before they set out.
        assert set(told.values_list("in_digest", "status")) == {(False, Notification.Status.PENDING)}
        ledger = Reminder.objects.filter(meeting=meeting, kind=kind)
        assert sorted(ledger.values_list("notification_id", flat=True)) == sorted(told.values_list("pk", flat=True))
    assert counts[1] == counts[2]


def test_a_notice_is_sent_once_per_invitee_and_version(street_staff):
    meeting = _meeting_with(3, "once")
    meeting = _reschedule(meeting, street_staff)
    assert services._notice(meeting, "meeting_moved", "会议改期", "详情") == 0  # told already of this version
    assert Notification.objects.filter(kind="reminder:meeting_moved").count() == 3
    _reschedule(meeting, street_staff)  # a second move is news again
    assert Notification.objects.filter(kind="reminder:meeting_moved").count() == 6
    assert meeting.start > timezone.now()
