"""End to end with a real Celery worker and Redis: a notification committed by the web side is
delivered by the worker. Skipped only when no Redis is configured (CI configures it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from alliance import notifications
from alliance.models import Notification, Profile

from ..factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL or connection.vendor != "postgresql",
    reason="needs REDIS_URL and PostgreSQL shared with a worker process",
)


@pytest.mark.django_db(transaction=True)
def test_a_committed_notification_is_delivered_by_a_real_worker(worker):
    user = UserFactory(username="worker-test", email="worker@example.org")
    Profile.objects.create(user=user, phone="13800002222")
    row = notifications.notify(recipient=user, subject="联席会议提醒", body="明天9:00 柳巷街道三楼会议室")

    def sent() -> bool:
        return Notification.objects.get(pk=row.pk).status == Notification.Status.SENT

    worker.wait_for(sent, "the worker did not deliver the notification", seconds=60)
    assert Notification.objects.get(pk=row.pk).attempts == 1
