from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from alliance import notifications
from meetings.models import Invitation

from .factories import InvitationFactory, MeetingFactory, local


@pytest.fixture
def tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)


@pytest.fixture
def meeting_at_nine(tomorrow, unit_a, liaison_a, street_staff):
    """A street meeting tomorrow at 09:00 Asia/Shanghai, unit_a (liaison_a) invited."""
    start = local(tomorrow, time(9, 0))
    meeting = MeetingFactory(
        start=start, end=start + timedelta(hours=2), organiser=street_staff, title="第四季度联席会议"
    )
    InvitationFactory(meeting=meeting, unit=unit_a, status=Invitation.Status.CONFIRMED)
    # Deliver what setting up the cast queued (account notices), so a test sees only its own messages.
    notifications.deliver_pending()
    mail.outbox.clear()
    return meeting
