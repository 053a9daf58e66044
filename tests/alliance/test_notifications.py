"""notify(): a row in the caller's transaction, delivered after commit, never lost, never sent twice."""

from __future__ import annotations

import pytest
from django.db import transaction

from alliance import notifications
from alliance.celery import app as celery_app
from alliance.models import Notification, Profile
from alliance.tasks import deliver_pending_notifications

from ..factories import UserFactory


@pytest.fixture
def resident_officer(db):
    user = UserFactory(username="officer", email="officer@example.org")
    Profile.objects.create(user=user, phone="13800001111")
    return user


def _notify(user, subject="会议提醒"):
    return notifications.notify(recipient=user, subject=subject, body="明天上午9:00在柳巷街道三楼会议室开会")


def test_notification_is_delivered_by_email_and_sms_after_commit(
    resident_officer, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _notify(resident_officer)
        assert mailoutbox == [] and sms_outbox == []  # nothing leaves before the commit
    assert [m.subject for m in mailoutbox] == ["会议提醒"]
    assert [m.phone for m in sms_outbox] == ["13800001111"]
    assert "三楼会议室" in sms_outbox[0].text
    row = Notification.objects.get()
    assert row.status == Notification.Status.SENT and row.sent_at is not None


def test_notification_created_in_a_transaction_that_rolls_back_is_never_sent(
    resident_officer, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _notify(resident_officer)
        raise RuntimeError("the change that caused it failed")
    assert callbacks == []
    assert not Notification.objects.exists()
    assert notifications.deliver_pending() == 0
    assert mailoutbox == [] and sms_outbox == []


@pytest.fixture
def broker_down(settings):
    """Point Celery at a port where nothing listens, and stop running tasks in-process."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 0}
    timeout = celery_app.conf.broker_connection_timeout
    celery_app.conf.broker_connection_timeout = 1
    celery_app.conf.task_always_eager = False
    _forget_broker_pools()
    yield
    _forget_broker_pools()
    celery_app.conf.broker_connection_timeout = timeout
    celery_app.conf.task_always_eager = True


def _forget_broker_pools() -> None:
    # The app keeps its connection and producer pools for the broker URL it first saw; forget them so
    # the next publish connects to the URL now configured. (Not app.close(): that also deregisters the
    # app, and shared tasks would fall back to a default app.)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_notification_created_while_the_broker_is_down_is_delivered_once_it_is_back(
    resident_officer, broker_down, django_capture_on_commit_callbacks, mailoutbox, sms_outbox, caplog
):
    with caplog.at_level("WARNING", logger="alliance.queue"), django_capture_on_commit_callbacks(execute=True):
        _notify(resident_officer)  # enqueueing fails after commit; the caller does not
    assert "Broker unavailable" in caplog.text
    row = Notification.objects.get()
    assert row.status == Notification.Status.PENDING
    assert mailoutbox == []

    # The broker is back: beat's periodic sweep runs and delivers the row — once.
    assert deliver_pending_notifications.apply().get() == 1
    assert deliver_pending_notifications.apply().get() == 0
    assert len(mailoutbox) == 1 and len(sms_outbox) == 1
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT


def test_a_task_and_the_sweep_racing_deliver_once(resident_officer, mailoutbox):
    row = _notify(resident_officer)  # no commit callback: as if the task had not run yet
    assert notifications.deliver(row.pk) is True
    assert notifications.deliver(row.pk) is False
    assert notifications.deliver_pending() == 0
    assert len(mailoutbox) == 1


def test_a_failed_send_is_retried_and_then_given_up(resident_officer, settings, mailoutbox):
    settings.EMAIL_BACKEND = "tests.alliance.failing_mail.Backend"
    row = _notify(resident_officer)
    for _attempt in range(notifications.MAX_ATTEMPTS):
        assert notifications.deliver(row.pk) is False
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert row.attempts == notifications.MAX_ATTEMPTS
    assert "SMTP server unreachable" in row.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.deliver_pending() == 0  # failed rows wait for staff to retry them


def test_a_send_that_failed_once_goes_out_on_the_next_sweep(resident_officer, settings, mailoutbox):
    settings.EMAIL_BACKEND = "tests.alliance.failing_mail.Backend"
    row = _notify(resident_officer)
    assert notifications.deliver(row.pk) is False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.deliver_pending() == 1
    assert len(mailoutbox) == 1


def test_sms_log_masks_the_phone_number(resident_officer, settings, caplog):
    settings.SMS_BACKEND = "alliance.sms.ConsoleSmsBackend"
    row = _notify(resident_officer)
    with caplog.at_level("INFO", logger="alliance.sms"):
        notifications.deliver(row.pk)
    assert "138****1111" in caplog.text
    assert "13800001111" not in caplog.text


def test_portal_lists_my_notifications_and_marks_them_read(resident_officer, as_user):
    other = UserFactory(username="other")
    _notify(resident_officer, subject="给我的")
    _notify(other, subject="给别人的")
    client = as_user(resident_officer)
    page = client.get("/portal/notifications/").content.decode()
    assert "给我的" in page and "给别人的" not in page
    client.post("/portal/notifications/read/")
    assert not Notification.objects.filter(recipient=resident_officer, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).exists()
