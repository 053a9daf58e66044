"""The text-message side of delivery, whatever the provider: the daily cap per number (held, not lost),
each channel sent once, what staff see and retry in the admin, and the demo's console default."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from alliance import notifications, sms
from alliance.models import Notification, Profile, SmsDailyCount, SmsStatus
from alliance.sms import SmsSent, SmsTransientError

from ..factories import UserFactory

PHONE = "13900002222"


@pytest.fixture
def person(db):
    user = UserFactory(username="lina", email="lina@example.org")
    Profile.objects.create(user=user, phone=PHONE)
    return user


def _notify(person, subject="活动提醒") -> Notification:
    row = notifications.notify(recipient=person, subject=subject, body="周六上午志愿服务", kind="reminder:post")
    notifications.deliver(row.pk)
    row.refresh_from_db()
    return row


def test_the_console_backend_is_the_demo_default():
    # tests/conftest.py switches to the local-memory backend; the setting itself keeps the console.
    from alliance import settings as project_settings

    assert project_settings.SMS_BACKEND == "alliance.sms.ConsoleSmsBackend"
    assert project_settings.SMS_TEMPLATES == {}


def test_texts_over_the_daily_cap_are_held_until_the_next_day_and_then_sent(person, settings, sms_outbox, mailoutbox):
    settings.SMS_DAILY_CAP = 2
    evening = timezone.make_aware(timezone.datetime(2026, 11, 27, 21, 0))
    with time_machine.travel(evening, tick=False) as clock:
        first, second, third = (_notify(person, subject=f"提醒{n}") for n in range(3))
        assert [m.text[:4] for m in sms_outbox] == ["【提醒0", "【提醒1"]
        assert (first.sms_status, second.sms_status) == (SmsStatus.SENT, SmsStatus.SENT)
        # The third is not dropped: it waits, and the row says why.
        assert (third.status, third.sms_status) == (Notification.Status.PENDING, SmsStatus.HELD)
        assert timezone.localtime(third.next_attempt_at).isoformat() == "2026-11-28T00:00:00+08:00"
        assert third.get_sms_status_display() == "暂缓：该号码今日短信已达上限"
        # Its e-mail went out at once, and waiting is not a failed attempt.
        assert len(mailoutbox) == 3 and third.email_sent_at is not None and third.attempts == 0
        assert notifications.deliver_pending() == 0  # still today
        assert SmsDailyCount.objects.get(phone=PHONE, day=evening.date()).count == 2

        clock.move_to(evening + timedelta(hours=3, minutes=1))  # 00:01 the next day
        assert notifications.deliver_pending() == 1
    third.refresh_from_db()
    assert (third.status, third.sms_status) == (Notification.Status.SENT, SmsStatus.SENT)
    assert len(sms_outbox) == 3
    assert len(mailoutbox) == 3  # the e-mail is not sent twice


class FlakyBackend(sms.LocmemSmsBackend):
    """Throttled once, then accepts."""

    failures = 1

    def send(self, message):
        if type(self).failures:
            type(self).failures -= 1
            raise SmsTransientError("Throttled", "slow down")
        return super().send(message)


def test_a_retried_text_does_not_send_the_email_again(person, settings, sms_outbox, mailoutbox):
    settings.SMS_BACKEND = "tests.alliance.test_sms_delivery.FlakyBackend"
    FlakyBackend.failures = 1
    with time_machine.travel(timezone.now(), tick=False) as clock:
        row = _notify(person)
        assert row.status == Notification.Status.PENDING and len(mailoutbox) == 1 and sms_outbox == []
        clock.shift(notifications.SMS_BACKOFF[0] + timedelta(seconds=1))
        assert notifications.deliver_pending() == 1
    assert len(mailoutbox) == 1 and len(sms_outbox) == 1


def test_a_text_failing_every_time_is_given_up_after_max_attempts(person, settings):
    settings.SMS_BACKEND = "tests.alliance.test_sms_delivery.FlakyBackend"
    FlakyBackend.failures = 99
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _notify(person)
        for _attempt in range(notifications.MAX_ATTEMPTS - 1):
            clock.shift(timedelta(hours=2))
            notifications.deliver_pending()
    row = Notification.objects.get()
    assert (row.status, row.sms_status, row.attempts) == (
        Notification.Status.FAILED,
        SmsStatus.FAILED,
        notifications.MAX_ATTEMPTS,
    )
    assert row.sms_error_code == "Throttled"


def test_backoff_grows_with_the_attempts():
    assert [notifications._backoff(n) for n in (1, 2, 3, 4, 5)] == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=1),
    ]


class ReceiptBackend(sms.LocmemSmsBackend):
    name = "fakeprovider"

    def send(self, message):
        super().send(message)
        return SmsSent(provider=self.name, message_id=f"id-{len(self.outbox)}", template_id="T1", receipts=True)

    def fetch_receipts(self, pending):
        return [sms.SmsReceipt(message_id=row.sms_message_id, delivered=True, at=None) for row in pending]


def test_the_receipt_task_records_receipts_for_the_texts_awaiting_one(person, settings):
    from alliance.tasks import fetch_sms_receipts

    settings.SMS_BACKEND = "tests.alliance.test_sms_delivery.ReceiptBackend"
    row = _notify(person)
    assert (row.sms_status, row.sms_message_id, row.sms_template) == (SmsStatus.ACCEPTED, "id-1", "T1")
    assert fetch_sms_receipts.apply().get() == 1
    row.refresh_from_db()
    assert row.sms_status == SmsStatus.DELIVERED and row.sms_receipt_at is not None
    assert fetch_sms_receipts.apply().get() == 0


def test_staff_see_the_receipt_and_retry_a_refused_text(person, street_staff, settings, sms_outbox):
    row = _notify(person)
    Notification.objects.filter(pk=row.pk).update(
        status=Notification.Status.FAILED,
        sms_status=SmsStatus.FAILED,
        sms_error_code="isv.SMS_TEMPLATE_ILLEGAL",
        email_sent_at=timezone.now(),
    )
    sms_outbox.clear()
    client = _client(street_staff)
    changelist = client.get(reverse("admin:alliance_notification_changelist"))
    assert "被运营商拒绝" in changelist.content.decode()
    detail = client.get(reverse("admin:alliance_notification_change", args=[row.pk])).content.decode()
    assert "isv.SMS_TEMPLATE_ILLEGAL" in detail and "运营商错误码" in detail
    response = client.post(
        reverse("admin:alliance_notification_changelist"), {"action": "retry", "_selected_action": [row.pk]}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.sms_status) == (Notification.Status.SENT, SmsStatus.SENT)
    assert len(sms_outbox) == 1


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), reason="row locks: PostgreSQL")
def test_workers_racing_for_the_last_text_of_the_day_send_it_once(settings):
    settings.SMS_DAILY_CAP = 3
    SmsDailyCount.objects.create(phone=PHONE, day=timezone.localdate(), count=2)
    barrier = threading.Barrier(6)
    results: list[bool] = []

    def take() -> None:
        try:
            barrier.wait()
            results.append(sms.take_daily_allowance(PHONE))
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]
    assert SmsDailyCount.objects.get(phone=PHONE).count == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), reason="row locks: PostgreSQL")
def test_workers_racing_on_a_new_day_make_one_count_row(settings):
    settings.SMS_DAILY_CAP = 4
    barrier = threading.Barrier(6)
    results: list[bool] = []

    def take() -> None:
        try:
            barrier.wait()
            results.append(sms.take_daily_allowance(PHONE))
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 2 + [True] * 4
    assert SmsDailyCount.objects.get(phone=PHONE).count == 4


def test_a_provider_backend_without_credentials_holds_texts_but_sends_the_emails(person, settings, mailoutbox, caplog):
    settings.SMS_BACKEND = "alliance.sms.TencentSmsBackend"
    settings.SMS_ACCESS_KEY_ID = ""
    with caplog.at_level("ERROR", logger="alliance.notifications"):
        row = _notify(person)
    assert "SMS_ACCESS_KEY_ID" in caplog.text
    assert len(mailoutbox) == 1 and row.email_sent_at is not None
    assert (row.status, row.sms_error_code) == (Notification.Status.PENDING, "ImproperlyConfigured")
    assert row.next_attempt_at is not None
