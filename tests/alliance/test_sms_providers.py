"""Tencent Cloud SMS and Alibaba Cloud SMS through their REAL SDKs, pointed at a fake of each provider's
HTTP API on 127.0.0.1 (tests/alliance/sms_fakes.py): success with its receipt, throttled, bad template,
timeout. No test reaches the internet (any other address is refused below); no credentials are needed."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alliance import notifications, passwords, sms
from alliance.models import Notification, Profile, SmsDailyCount, SmsStatus

from ..factories import UserFactory
from . import sms_fakes

PHONE = "13800001111"
TEMPLATES = {
    "meeting_moved": {"template": "900001", "params": ["subject", "link"]},
    "need_resident:": {"template": "900002", "params": ["subject"]},
    "password_code": {"template": "900003", "params": ["code", "minutes"]},
}
ALIYUN_TEMPLATES = {
    "meeting_moved": {"template": "SMS_900001", "params": {"title": "subject", "url": "link"}},
    "need_resident:": {"template": "SMS_900002", "params": ["subject"]},
    "password_code": {"template": "SMS_900003", "params": ["code", "minutes"]},
}


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Proof that nothing here reaches the internet: a connection anywhere but 127.0.0.1 fails."""
    connect = socket.socket.connect

    def guarded(self, address):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"a test tried to reach {address[0]}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(params=["tencent", "aliyun"])
def provider(request, settings):
    fake = sms_fakes.start(request.param)
    settings.SMS_BACKEND = {"tencent": "alliance.sms.TencentSmsBackend", "aliyun": "alliance.sms.AliyunSmsBackend"}[
        request.param
    ]
    settings.SMS_TEMPLATES = TEMPLATES if request.param == "tencent" else ALIYUN_TEMPLATES
    settings.SMS_ENDPOINT = fake.endpoint
    settings.SMS_SIGN_NAME = "柳巷街道"
    settings.SMS_SDK_APP_ID = "1400000001"
    settings.SMS_ACCESS_KEY_ID = "test-key-id"
    settings.SMS_ACCESS_KEY_SECRET = "test-key-secret"
    settings.SMS_TIMEOUT_SECONDS = 1
    settings.SITE_URL = "https://dangjian.example.cn"
    yield fake
    sms_fakes.stop(fake)


@pytest.fixture
def person(db):
    user = UserFactory(username="zhangwei", email="")
    Profile.objects.create(user=user, phone=PHONE)
    return user


def _notify(person, kind="meeting_moved") -> Notification:
    """A notification, and its delivery as the task queued after commit runs it."""
    row = notifications.notify(
        recipient=person, subject="联席会议改期", body="改到周五上午9:00", url="/portal/meetings/7/", kind=kind
    )
    notifications.deliver(row.pk)
    return row


def _sent(fake, serial: str) -> None:
    if fake.kind == "tencent":
        fake.answer("SendSms", sms_fakes.tencent_sent(serial, PHONE))
    else:
        fake.answer("SendSms", sms_fakes.aliyun_sent(serial))


def _throttled(fake) -> None:
    if fake.kind == "tencent":
        fake.answer(
            "SendSms",
            sms_fakes.tencent_refused_number("LimitExceeded.PhoneNumberThirtySecondLimit", PHONE, "30秒内频率超限"),
        )
    else:
        fake.answer("SendSms", sms_fakes.aliyun_error("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"))


def _bad_template(fake) -> None:
    if fake.kind == "tencent":
        fake.answer("SendSms", sms_fakes.tencent_error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批"))
    else:
        fake.answer("SendSms", sms_fakes.aliyun_error("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"))


def _sent_parameters(fake) -> dict:
    call = fake.calls_of("SendSms")[-1]
    if fake.kind == "tencent":
        return {
            "phones": call.params["PhoneNumberSet"],
            "sign": call.params["SignName"],
            "app": call.params["SmsSdkAppId"],
            "template": call.params["TemplateId"],
            "values": call.params["TemplateParamSet"],
        }
    return {
        "phones": [call.params["PhoneNumbers"]],
        "sign": call.params["SignName"],
        "template": call.params["TemplateCode"],
        "values": json.loads(call.params["TemplateParam"]),
    }


def test_a_text_goes_out_as_the_kinds_template_and_its_receipt_is_recorded(provider, person):
    _sent(provider, "2026:serial-1")
    row = _notify(person)
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert row.sms_status == SmsStatus.ACCEPTED
    assert row.sms_provider == provider.kind
    assert row.sms_message_id == "2026:serial-1"
    assert row.sms_sent_at is not None and row.sms_receipt_at is None
    sent = _sent_parameters(provider)
    assert sent["sign"] == "柳巷街道"
    link = "https://dangjian.example.cn/portal/meetings/7/"
    if provider.kind == "tencent":
        # The approved template and its parameters in order ({1} {2}), never the free text.
        assert sent == {
            "phones": ["+8613800001111"],
            "sign": "柳巷街道",
            "app": "1400000001",
            "template": "900001",
            "values": ["联席会议改期", link],
        }
    else:
        assert sent == {
            "phones": ["13800001111"],
            "sign": "柳巷街道",
            "template": "SMS_900001",
            "values": {"title": "联席会议改期", "url": link},
        }

    if provider.kind == "tencent":
        provider.answer("PullSmsSendStatus", sms_fakes.tencent_receipts(("2026:serial-1", PHONE, True)))
    else:
        provider.answer("QuerySendDetails", sms_fakes.aliyun_details(PHONE, status=3, err_code="DELIVERED"))
    assert sms.fetch_receipts() == 1
    row.refresh_from_db()
    assert row.sms_status == SmsStatus.DELIVERED
    assert timezone.localtime(row.sms_receipt_at).strftime("%Y-%m-%d %H:%M:%S") == "2026-11-28 10:15:07"
    assert row.sms_error_code == ""
    if provider.kind == "aliyun":
        query = provider.calls_of("QuerySendDetails")[-1].params
        assert (query["PhoneNumber"], query["BizId"]) == (PHONE, "2026:serial-1")
        assert query["SendDate"] == timezone.localtime(row.sms_sent_at).strftime("%Y%m%d")
    # Asked again, the provider has nothing new, and the row keeps its receipt.
    assert sms.fetch_receipts() == 0


def test_a_receipt_of_failure_is_recorded_with_the_providers_code(provider, person):
    _sent(provider, "2026:serial-2")
    row = _notify(person)
    if provider.kind == "tencent":
        provider.answer("PullSmsSendStatus", sms_fakes.tencent_receipts(("2026:serial-2", PHONE, False)))
    else:
        provider.answer("QuerySendDetails", sms_fakes.aliyun_details(PHONE, status=2, err_code="MOBILE_NOT_ON_SERVICE"))
    assert sms.fetch_receipts() == 1
    row.refresh_from_db()
    assert row.sms_status == SmsStatus.UNDELIVERED
    assert row.sms_error_code == ("MK:0005" if provider.kind == "tencent" else "MOBILE_NOT_ON_SERVICE")


def test_a_throttled_text_is_tried_again_after_a_backoff_and_then_goes_out(provider, person, settings):
    _throttled(provider)
    _sent(provider, "2026:serial-3")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        row = _notify(person)
        row.refresh_from_db()
        assert row.status == Notification.Status.PENDING
        assert row.sms_status == SmsStatus.NONE
        assert row.sms_error_code == (
            "LimitExceeded.PhoneNumberThirtySecondLimit" if provider.kind == "tencent" else "isv.BUSINESS_LIMIT_CONTROL"
        )
        assert row.next_attempt_at == timezone.now() + notifications.SMS_BACKOFF[0]
        # The sweep leaves it alone until the backoff has run out…
        assert notifications.deliver_pending() == 0
        assert len(provider.calls_of("SendSms")) == 1
        # …and the throttled attempt does not count against the day's cap.
        assert SmsDailyCount.objects.get(phone=PHONE).count == 0
        clock.shift(timedelta(seconds=61))
        assert notifications.deliver_pending() == 1
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert (row.sms_status, row.sms_message_id, row.attempts) == (SmsStatus.ACCEPTED, "2026:serial-3", 2)
    assert len(provider.calls_of("SendSms")) == 2


def test_a_bad_template_is_not_retried_and_staff_see_the_providers_code(provider, person):
    _bad_template(provider)
    row = _notify(person)
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert row.sms_status == SmsStatus.FAILED
    expected = (
        "FailedOperation.TemplateIncorrectOrUnapproved" if provider.kind == "tencent" else "isv.SMS_TEMPLATE_ILLEGAL"
    )
    assert row.sms_error_code == expected
    assert expected in row.last_error
    assert notifications.pending_ids() == []
    assert notifications.deliver_pending() == 0
    assert len(provider.calls_of("SendSms")) == 1
    assert SmsDailyCount.objects.get(phone=PHONE).count == 0


def test_a_timeout_is_retried_later_and_counts_against_the_cap(provider, person):
    # The fake answers after 2 s; the SDKs wait SMS_TIMEOUT_SECONDS = 1.
    provider.answer("SendSms", sms_fakes.tencent_sent("late", PHONE), delay=2)
    _sent(provider, "2026:serial-4")
    with time_machine.travel(timezone.now(), tick=True) as clock:
        row = _notify(person)
        row.refresh_from_db()
        assert row.status == Notification.Status.PENDING
        assert row.sms_error_code == ("ClientNetworkError" if provider.kind == "tencent" else "NetworkError")
        assert "timed out" in row.last_error
        # The text may have gone out before the answer was lost: it stays counted.
        assert SmsDailyCount.objects.get(phone=PHONE).count == 1
        clock.shift(timedelta(seconds=61))
        assert notifications.deliver_pending() == 1
    row.refresh_from_db()
    assert (row.status, row.sms_status, row.sms_message_id) == (
        Notification.Status.SENT,
        SmsStatus.ACCEPTED,
        "2026:serial-4",
    )


def test_a_kind_without_a_template_is_not_sent_as_free_text(provider, person, mailoutbox):
    person.email = "zhangwei@example.org"
    person.save()
    row = _notify(person, kind="claim_approved")
    row.refresh_from_db()
    assert provider.calls == []
    assert row.status == Notification.Status.SENT  # the e-mail went out
    assert len(mailoutbox) == 1
    assert (row.sms_status, row.sms_error_code) == (SmsStatus.NO_TEMPLATE, "no_template")


def test_a_prefix_template_serves_every_kind_under_it(provider, person):
    _sent(provider, "2026:serial-5")
    row = _notify(person, kind="need_resident:dispatched")
    row.refresh_from_db()
    assert row.sms_status == SmsStatus.ACCEPTED
    assert _sent_parameters(provider)["template"] == ("900002" if provider.kind == "tencent" else "SMS_900002")


def test_a_template_naming_a_parameter_the_platform_does_not_supply_fails_the_text_visibly(provider, person, settings):
    settings.SMS_TEMPLATES = {"meeting_moved": {"template": "900001", "params": ["meeting_room"]}}
    row = _notify(person)
    row.refresh_from_db()
    assert provider.calls == []
    assert (row.status, row.sms_status, row.sms_error_code) == (
        Notification.Status.FAILED,
        SmsStatus.FAILED,
        "template_config",
    )
    assert "meeting_room" in row.last_error


def test_a_recovery_code_goes_out_as_its_template_with_the_code_and_its_minutes_and_works(provider, person):
    _sent(provider, "2026:serial-code")
    assert passwords.sms_code_request(phone=PHONE)
    row = Notification.objects.get(kind=passwords.SMS_CODE_KIND)
    notifications.deliver(row.pk)
    row.refresh_from_db()
    assert (row.status, row.sms_status, row.sms_message_id) == (
        Notification.Status.SENT,
        SmsStatus.ACCEPTED,
        "2026:serial-code",
    )
    sent = _sent_parameters(provider)
    if provider.kind == "tencent":
        assert sent["template"] == "900003"
        code, minutes = sent["values"]
    else:
        assert sent["template"] == "SMS_900003"
        code, minutes = sent["values"]["code"], sent["values"]["minutes"]
    assert minutes == "10" and len(code) == 6 and code.isdigit()
    # The code the provider was given is the one the recovery page accepts.
    assert passwords.sms_code_check(phone=PHONE, code=code).user == person
