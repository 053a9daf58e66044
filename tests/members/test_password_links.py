"""Issue 9, finding 4: the password-set link of a newly approved unit account was valid 7 days, written in
full to the log by the SMS backend and readable by street staff in the notifications admin. Now it is
made when the message is sent and never stored, redacted in logs, works once, for 24 hours, and only the
newest link of an account works."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from alliance import passwords
from alliance.models import Notification
from members.models import MemberUnit, UnitMembership

from ..conftest import client_for
from ..factories import MemberUnitFactory

LINK = re.compile(r"/portal/password/set/([^/\s]+)/([^/\s]+)/")
PHONE = "13712345678"
NEW_PASSWORD = "Sheng-Huo-2026!"


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


@pytest.fixture
def approve(community_x, street_staff, django_capture_on_commit_callbacks):
    """Approve an application through the admin, as staff do; returns the liaison's new account."""

    def run():
        unit = MemberUnitFactory(
            community=community_x,
            status=MemberUnit.Status.APPLIED,
            liaison_phone=PHONE,
            liaison_email="sunli@example.org",
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(street_staff).post(
                reverse("admin:members_memberunit_changelist"), {"action": "approve", "_selected_action": [unit.pk]}
            )
        assert response.status_code == 302
        return get_user_model().objects.get(username=PHONE)

    return run


def _links(sms_outbox) -> list[str]:
    return [LINK.search(m.text).group(0) for m in sms_outbox if m.phone == PHONE and LINK.search(m.text)]


def _set_password(link: str) -> Client:
    browser = Client()
    response = browser.get(link)
    assert response.status_code == 302  # Django moves the token out of the address first
    response = browser.post(response["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:login")
    return browser


def _link_is_valid(link: str) -> bool:
    response = Client().get(link, follow=True)
    assert response.status_code == 200
    return response.context["validlink"]


def test_the_liaison_gets_a_working_link_by_text_message_and_it_works_once(approve, sms_outbox):
    user = approve()
    [link] = _links(sms_outbox)
    _set_password(link)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    response = Client().get(link, follow=True)
    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert "该链接已过期、已被使用或已被新的链接取代" in response.content.decode()


def test_no_link_is_stored_or_shown_to_staff(approve, street_staff, sms_outbox):
    user = approve()
    [link] = _links(sms_outbox)
    uid, token = LINK.search(link).groups()
    notification = Notification.objects.get(recipient=user, kind="unit_approved")
    assert notification.url == passwords.PASSWORD_LINK
    assert token not in notification.body
    staff = client_for(street_staff)
    for page in (
        staff.get(reverse("admin:alliance_notification_changelist")),
        staff.get(reverse("admin:alliance_notification_change", args=[notification.pk])),
    ):
        assert page.status_code == 200
        text = page.content.decode()
        assert token not in text
        assert f"/portal/password/set/{uid}/" not in text


def test_the_logs_carry_no_link(approve, settings, caplog, capsys, mailoutbox):
    settings.SMS_BACKEND = "alliance.sms.ConsoleSmsBackend"
    settings.EMAIL_BACKEND = "alliance.mail.ConsoleEmailBackend"
    with caplog.at_level(logging.DEBUG):
        user = approve()
    printed = capsys.readouterr().out
    assert "SMS to 137****5678" in caplog.text
    assert "/portal/password/set/***/" in caplog.text  # the message was logged, the secret was not
    assert "/portal/password/set/***/" in printed  # the console e-mail too
    for text in (caplog.text, printed):
        assert not LINK.search(text)
    assert Notification.objects.get(recipient=user, kind="unit_approved").status == Notification.Status.SENT


def test_a_link_stops_working_after_24_hours(approve, sms_outbox, monkeypatch):
    approve()
    [link] = _links(sms_outbox)
    issued = passwords.password_link_tokens._now()
    monkeypatch.setattr(passwords.password_link_tokens, "_now", lambda: issued + timedelta(hours=23, minutes=59))
    assert _link_is_valid(link) is True
    monkeypatch.setattr(passwords.password_link_tokens, "_now", lambda: issued + timedelta(hours=24, minutes=1))
    assert _link_is_valid(link) is False


def test_a_new_link_from_staff_replaces_the_old_one(
    approve, street_staff, sms_outbox, django_capture_on_commit_callbacks
):
    user = approve()
    membership = UnitMembership.objects.get(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(street_staff).post(
            reverse("admin:members_unitmembership_changelist"),
            {"action": "send_password_link", "_selected_action": [membership.pk]},
        )
    assert response.status_code == 302
    first, second = _links(sms_outbox)
    assert _link_is_valid(first) is False
    assert _link_is_valid(second) is True
    _set_password(second)


def test_forgot_password_sends_a_new_link_and_tells_nobody_which_accounts_exist(
    approve, sms_outbox, django_capture_on_commit_callbacks
):
    approve()
    [first] = _links(sms_outbox)
    url = reverse("portal:password_forgot")
    assert "忘记密码" in Client().get(reverse("portal:login")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        known = Client(REMOTE_ADDR="198.51.100.201").post(url, {"account": PHONE}, follow=True)
        unknown = Client(REMOTE_ADDR="198.51.100.202").post(url, {"account": "13900000000"}, follow=True)
    for response in (known, unknown):
        assert response.redirect_chain == [(reverse("portal:login"), 302)]
        assert "如果存在该用户名或手机号的账号" in response.content.decode()
    first_again, second = _links(sms_outbox)
    assert first_again == first
    assert len(sms_outbox) == 2  # the approval and the one asked for; nothing to the unknown number
    assert _link_is_valid(first) is False
    _set_password(second)


def test_forgot_password_is_rate_limited_per_address(db, sms_outbox):
    url = reverse("portal:password_forgot")
    client = Client(REMOTE_ADDR="198.51.100.200")  # an address no other test counts against
    for _n in range(5):
        assert client.post(url, {"account": "nobody"}).status_code == 302
    response = client.post(url, {"account": "nobody"})
    assert response.status_code == 200
    assert "您所在网络的请求过多" in response.content.decode()
