"""End to end with a real Celery worker and Redis: the periodic scan, sent through the broker, records a
due reminder and the worker delivers it. Skipped only when no Redis is configured (CI configures it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from alliance.models import Notification
from meetings.models import Reminder
from meetings.tasks import send_due_reminders
from members import services as member_services

from ..factories import MemberUnitFactory, UserFactory
from .factories import InvitationFactory, MeetingFactory

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL or connection.vendor != "postgresql",
    reason="needs REDIS_URL and PostgreSQL shared with a worker process",
)


@pytest.mark.django_db(transaction=True)
def test_a_due_reminder_is_delivered_end_to_end_by_a_real_worker(worker):
    root = UserFactory(username="root-w", is_superuser=True, is_staff=True)
    unit = MemberUnitFactory()
    liaison = UserFactory(username="liaison-w", email="liaison-w@example.org")
    member_services.unit_membership_add(unit=unit, user=liaison, actor=root)
    start = timezone.now() + timedelta(minutes=40)
    meeting = MeetingFactory(start=start, end=start + timedelta(hours=1), organiser=root, title="联席会议（端到端）")
    InvitationFactory(meeting=meeting, unit=unit)

    send_due_reminders.apply_async()  # through Redis to the worker, as beat sends it

    def delivered():
        return Notification.objects.filter(kind="reminder:meeting_1h", recipient=liaison, status="sent").first()

    worker.wait_for(delivered, "no reminder delivered", seconds=60)
    sent = delivered()
    assert Reminder.objects.filter(meeting=meeting, recipient=liaison, kind="meeting_1h").count() == 1
    assert "联席会议（端到端）" in sent.body
