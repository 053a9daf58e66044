"""Delivery receipts pushed by the providers to the callback address with its secret."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from alliance.masking import redact
from alliance.models import Notification, SmsStatus

from ..factories import UserFactory

SECRET = "receipt-secret-6f1c2e"


@pytest.fixture
def accepted(db):
    """Two texts the providers accepted and have not reported on yet."""
    user = UserFactory(username="zhaolei")

    def row(provider: str, message_id: str) -> Notification:
        return Notification.objects.create(
            recipient=user,
            phone="13800005555",
            subject="会议提醒",
            body="…",
            status=Notification.Status.SENT,
            sms_status=SmsStatus.ACCEPTED,
            sms_provider=provider,
            sms_message_id=message_id,
        )

    return row("tencent", "2026:tc-1"), row("aliyun", "900619746936498440^0")


def _post(provider: str, payload, secret: str = SECRET):
    url = reverse("sms_receipts", args=[provider, secret])
    return Client().post(
        url, data=json.dumps(payload) if not isinstance(payload, str) else payload, content_type="application/json"
    )


def test_a_tencent_receipt_marks_the_text_delivered(accepted, settings):
    settings.SMS_RECEIPT_SECRET = SECRET
    tencent, aliyun = accepted
    response = _post(
        "tencent",
        [
            {
                "user_receive_time": "2026-11-28 10:20:31",
                "nationcode": "86",
                "mobile": "13800005555",
                "report_status": "SUCCESS",
                "errmsg": "DELIVRD",
                "description": "用户短信送达成功",
                "sid": "2026:tc-1",
            }
        ],
    )
    assert response.status_code == 200 and response.json() == {"result": 0, "errmsg": "OK"}
    tencent.refresh_from_db()
    aliyun.refresh_from_db()
    assert tencent.sms_status == SmsStatus.DELIVERED and tencent.sms_receipt_at is not None
    assert aliyun.sms_status == SmsStatus.ACCEPTED  # another provider's row is not touched


def test_an_aliyun_receipt_of_failure_keeps_the_error_code(accepted, settings):
    settings.SMS_RECEIPT_SECRET = SECRET
    _tencent, aliyun = accepted
    response = _post(
        "aliyun",
        [
            {
                "phone_number": "13800005555",
                "send_time": "2026-11-28 10:20:00",
                "report_time": "2026-11-28 10:20:31",
                "success": False,
                "err_code": "MOBILE_NOT_ON_SERVICE",
                "err_msg": "停机",
                "sms_size": "1",
                "biz_id": "900619746936498440^0",
                "out_id": "",
            }
        ],
    )
    assert response.status_code == 200 and response.json() == {"code": 0, "msg": "成功"}
    aliyun.refresh_from_db()
    assert (aliyun.sms_status, aliyun.sms_error_code) == (SmsStatus.UNDELIVERED, "MOBILE_NOT_ON_SERVICE")


@pytest.mark.parametrize("secret_set", [False, True])
def test_without_the_right_secret_the_address_does_not_exist(accepted, settings, secret_set):
    settings.SMS_RECEIPT_SECRET = SECRET if secret_set else ""
    payload = [{"report_status": "SUCCESS", "sid": "2026:tc-1"}]
    assert _post("tencent", payload, secret="guess").status_code == 404
    assert _post("tencent", payload, secret=SECRET).status_code == (200 if secret_set else 404)
    assert _post("other", payload, secret=SECRET).status_code == 404


@pytest.mark.parametrize("body", ["{not json", '{"sid": "x"}', "[1, 2]"])
def test_a_body_that_is_not_a_list_of_receipts_is_refused_and_changes_nothing(accepted, settings, body):
    settings.SMS_RECEIPT_SECRET = SECRET
    response = _post("tencent", body)
    assert response.status_code == 400
    assert not Notification.objects.exclude(sms_status=SmsStatus.ACCEPTED).exists()


def test_the_secret_never_reaches_a_log_line():
    assert redact("POST /sms/receipts/tencent/receipt-secret-6f1c2e/ 200") == "POST /sms/receipts/tencent/***/ 200"
