"""Issue 9, finding 4 (second half): the log held tracking codes beside the phone's last four digits,
which together open a resident's need. Text messages to residents are still logged, without the code."""

from __future__ import annotations

import io
import logging

import pytest
from rest_framework.test import APIClient

from alliance.masking import RedactSecretsFilter
from demands import services
from demands.models import Need

from ..factories import CategoryFactory

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


@pytest.fixture
def console_sms(settings):
    settings.SMS_BACKEND = "alliance.sms.ConsoleSmsBackend"


def _submit(community) -> Need:
    body = {
        "community": community.pk,
        "category": CategoryFactory().pk,
        "title": "楼道灯不亮",
        "description": "三单元楼道灯坏了一周",
        "contact_name": "孙桂兰",
        "contact_phone": "13698765432",
    }
    response = APIClient(REMOTE_ADDR="198.51.100.31").post("/api/v1/public/needs/", body, format="json")
    assert response.status_code == 201
    return Need.objects.get(tracking_code=response.json()["tracking_code"])


def _assert_no_code(text: str, need: Need) -> None:
    assert need.tracking_code not in text
    assert services.format_tracking_code(need.tracking_code) not in text


def test_a_residents_submission_is_logged_without_the_tracking_code(
    community_x, console_sms, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.DEBUG), django_capture_on_commit_callbacks(execute=True):
        need = _submit(community_x)
    assert "SMS to 136****5432: 【您的需求 ****-****-*****】" in caplog.text
    _assert_no_code(caplog.text, need)


def test_a_status_change_is_logged_without_the_tracking_code(
    community_x, unit_a, street_staff, console_sms, caplog, django_capture_on_commit_callbacks
):
    need = _submit(community_x)
    with caplog.at_level(logging.DEBUG), django_capture_on_commit_callbacks(execute=True):
        services.need_dispatch(need=need, unit=unit_a, actor=street_staff)
    assert "SMS to 136****5432" in caplog.text
    _assert_no_code(caplog.text, need)


def test_the_console_handler_redacts_codes_whoever_logs_them(community_x, settings):
    need = _submit(community_x)
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["redact"]
    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == ["console"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("django.server")
    logger.addHandler(handler)
    try:
        logger.warning('"GET /api/v1/public/needs/%s/?phone_last4=5432 HTTP/1.1" 200', need.tracking_code)
    finally:
        logger.removeHandler(handler)
    assert "/api/v1/public/needs/****-****-*****/?phone_last4=5432" in stream.getvalue()
    _assert_no_code(stream.getvalue(), need)
