"""Password recovery by a one-time text-message code, for members and liaisons who sign in with their
mobile number: 6 digits, stored only as a keyed digest, 10 minutes, once, a few tries, rate-limited per
number and per address, and the same answer whether or not an account has the number."""

from __future__ import annotations

import itertools
import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alliance import passwords
from alliance.models import Notification, Profile, SmsCode, SmsStatus

from ..factories import UserFactory

PHONE = "13700003333"
NEW_PASSWORD = "Liuxiang-river-2026"
ASK = reverse("portal:password_code_request")
RESET = reverse("portal:password_code_reset")
ADDRESSES = itertools.count(100)


@pytest.fixture
def member_by_phone(db):
    """A Party member whose account name is the mobile number (how members register)."""
    return UserFactory(username=PHONE, email="")


@pytest.fixture
def browser(django_capture_on_commit_callbacks):
    """A visitor; what they ask for is delivered as the task after commit would."""

    class Visitor(Client):
        def ask(self, phone=PHONE):
            with django_capture_on_commit_callbacks(execute=True):
                return self.post(ASK, {"phone": phone}, follow=True)

        def reset(self, code, password=NEW_PASSWORD, again=None):
            return self.post(
                RESET, {"code": code, "new_password1": password, "new_password2": again or password}, follow=True
            )

    # An address of its own per test: the rate limits' counts outlive a test in the local-memory cache.
    return Visitor(REMOTE_ADDR=f"198.51.100.{next(ADDRESSES)}")


def _code(sms_outbox) -> str:
    return re.search(r"验证码为 ([0-9]{6})", sms_outbox[-1].text).group(1)


def test_a_member_gets_a_code_by_text_and_sets_a_new_password_with_it(member_by_phone, browser, sms_outbox):
    response = browser.ask()
    assert response.redirect_chain == [(RESET, 302)]
    page = response.content.decode()
    assert "验证码已通过短信发送至该号码" in page
    assert "137****3333" in page  # the number is shown masked
    [text] = sms_outbox
    assert text.phone == PHONE
    assert "10 分钟内有效" in text.text
    code = _code(sms_outbox)

    done = browser.reset(code)
    assert done.redirect_chain == [(reverse("portal:login"), 302)]
    assert "密码已设置，请登录。" in done.content.decode()
    assert authenticate(username=PHONE, password=NEW_PASSWORD) == member_by_phone

    # Once only: the page sends back to asking, and even with the number put back the code is spent.
    again = browser.post(
        RESET, {"code": code, "new_password1": "Another-pass-2026", "new_password2": "Another-pass-2026"}
    )
    assert again.status_code == 302 and again.url == ASK
    session = browser.session
    session["password_code_phone"] = PHONE
    session.save()
    reused = browser.reset(code, password="Another-pass-2026")
    assert "验证码错误或已失效" in reused.content.decode()
    assert authenticate(username=PHONE, password=NEW_PASSWORD) == member_by_phone


def test_the_code_is_never_stored_in_clear(member_by_phone, browser, sms_outbox):
    browser.ask()
    code = _code(sms_outbox)
    row = SmsCode.objects.get()
    assert row.digest and code not in row.digest and len(row.digest) == 64
    notification = Notification.objects.get(kind=passwords.SMS_CODE_KIND)
    stored = " ".join(str(getattr(notification, f.name)) for f in Notification._meta.fields)
    assert code not in stored
    assert notification.url == passwords.SMS_CODE
    assert notification.email == ""  # the code goes by text message only


def test_an_unknown_number_gets_the_same_answer_and_nothing_is_sent(member_by_phone, browser, sms_outbox):
    known = browser.ask()
    other = Client(REMOTE_ADDR="198.51.100.8")
    unknown = other.post(ASK, {"phone": "13600009999"}, follow=True)
    assert unknown.redirect_chain == known.redirect_chain == [(RESET, 302)]
    message = "如有党员或联络员账号使用此手机号登录，验证码已通过短信发送至该号码，10分钟内有效。"
    assert message in known.content.decode() and message in unknown.content.decode()
    assert [m.phone for m in sms_outbox] == [PHONE]
    assert SmsCode.objects.filter(phone="13600009999", user__isnull=True).count() == 1
    # A guess for the unknown number is refused like a wrong code.
    assert (
        "验证码错误或已失效"
        in other.post(RESET, {"code": "123456", "new_password1": "x", "new_password2": "x"}).content.decode()
    )


def test_a_liaison_found_by_profile_phone_can_recover_but_staff_cannot(db, browser, sms_outbox, street_staff):
    liaison = UserFactory(username="wangfang", email="")
    Profile.objects.create(user=liaison, phone=PHONE)
    browser.ask()
    assert SmsCode.objects.get().user == liaison
    assert len(sms_outbox) == 1

    Profile.objects.create(user=street_staff, phone="13500004444")
    Client(REMOTE_ADDR="198.51.100.9").post(ASK, {"phone": "13500004444"})
    assert len(sms_outbox) == 1  # street staff's passwords are reset by a superuser, not by text message
    assert SmsCode.objects.get(phone="13500004444").user is None


def test_a_code_expires_after_ten_minutes(member_by_phone, browser, sms_outbox):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        browser.ask()
        code = _code(sms_outbox)
        clock.shift(timedelta(minutes=10, seconds=1))
        response = browser.reset(code)
    assert "验证码错误或已失效" in response.content.decode()
    assert authenticate(username=PHONE, password=NEW_PASSWORD) is None


def test_a_code_is_refused_after_too_many_wrong_tries(member_by_phone, browser, sms_outbox, settings):
    settings.SMS_CODE_MAX_ATTEMPTS = 3
    browser.ask()
    code = _code(sms_outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _try in range(3):
        assert "验证码错误或已失效" in browser.reset(wrong).content.decode()
    response = browser.reset(code)  # right, but too late
    assert "该验证码尝试次数过多，请重新获取。" in response.content.decode()
    assert authenticate(username=PHONE, password=NEW_PASSWORD) is None


def test_a_newer_code_replaces_the_older_one(member_by_phone, browser, sms_outbox):
    browser.ask()
    first = _code(sms_outbox)
    browser.ask()
    second = _code(sms_outbox)
    if first != second:  # one in a million, they are the same six digits
        assert "验证码错误或已失效" in browser.reset(first).content.decode()
    assert browser.reset(second).redirect_chain == [(reverse("portal:login"), 302)]


def test_a_weak_password_is_refused_and_the_code_stays_usable(member_by_phone, browser, sms_outbox, settings):
    settings.SMS_CODE_MAX_ATTEMPTS = 1
    browser.ask()
    code = _code(sms_outbox)
    weak = browser.reset(code, password="12345678")
    page = weak.content.decode()
    assert "这个密码太常见了。" in page
    assert browser.reset(code, password=NEW_PASSWORD, again="Different-2026").status_code == 200
    assert browser.reset(code).redirect_chain == [(reverse("portal:login"), 302)]


def test_bad_input_gets_a_clear_message_and_changes_nothing(member_by_phone, browser, sms_outbox):
    page = browser.post(ASK, {"phone": "12345"}).content.decode()
    assert "请输入11位中国大陆手机号码" in page
    assert SmsCode.objects.count() == 0 and sms_outbox == []
    browser.ask()
    bad = browser.post(RESET, {"code": "12ab", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert "验证码为6位数字。" in bad.content.decode()
    assert SmsCode.objects.get().attempts == 0


def test_the_reset_page_without_a_request_sends_back_to_the_request(db):
    response = Client().get(RESET)
    assert (response.status_code, response.url) == (302, ASK)


def test_codes_are_limited_per_number_whoever_asks(
    member_by_phone, sms_outbox, settings, django_capture_on_commit_callbacks
):
    settings.SMS_CODE_PER_PHONE_HOURLY = 2
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = Client(REMOTE_ADDR=f"198.51.100.{20 + n}").post(ASK, {"phone": PHONE}, follow=True)
    assert "获取验证码过于频繁，请一小时后再试。" in response.content.decode()
    assert len(sms_outbox) == 2


def test_codes_are_limited_per_address(member_by_phone, settings):
    browser = Client(REMOTE_ADDR="203.0.113.77")  # an address no other test counts against
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "password_code": "2/hour"},
    }
    for n in range(2):
        browser.post(ASK, {"phone": f"1360000{n:04d}"})
    page = browser.post(ASK, {"phone": "13600009999"}).content.decode()
    assert "获取验证码过于频繁，请一小时后再试。" in page
    assert SmsCode.objects.count() == 2


def test_a_code_request_older_than_ten_minutes_is_not_sent_late(member_by_phone, sms_outbox):
    from alliance import notifications

    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert passwords.sms_code_request(phone=PHONE) is True  # the broker is down: no task ran
        clock.shift(timedelta(minutes=11))
        notifications.deliver_pending()
    row = Notification.objects.get(kind=passwords.SMS_CODE_KIND)
    assert (row.status, row.sms_status) == (Notification.Status.CANCELLED, SmsStatus.EXPIRED)
    assert sms_outbox == []


def test_the_login_page_asks_for_the_mobile_phone(db):
    page = Client().get(reverse("portal:login")).content.decode()
    assert "手机号或用户名" in page
    assert f'href="{ASK}"' in page and "用短信验证码找回" in page


def test_the_login_page_in_english(db):
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("portal:login")).content.decode()
    assert "Mobile phone or user name" in page and "Get a code by text message" in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), reason="row locks: PostgreSQL")
def test_two_resets_racing_with_the_same_code_only_one_wins(member_by_phone, sms_outbox):
    passwords.sms_code_request(phone=PHONE)
    from alliance import notifications

    notifications.deliver_pending()
    code = _code(sms_outbox)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def reset(password: str) -> None:
        try:
            barrier.wait()
            row = passwords.sms_code_check(phone=PHONE, code=code)
            passwords.sms_code_reset(code_row=row, password=password)
            outcomes.append(password)
        except passwords.CodeRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=reset, args=(p,)) for p in ("First-pass-2026", "Second-pass-2026")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("refused") == 1
    [winner] = [o for o in outcomes if o != "refused"]
    assert authenticate(username=PHONE, password=winner) == member_by_phone


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), reason="row locks: PostgreSQL")
def test_simultaneous_requests_for_one_number_stay_within_the_hourly_limit(member_by_phone, settings):
    settings.SMS_CODE_PER_PHONE_HOURLY = 3
    barrier = threading.Barrier(12)
    answers: list[bool] = []

    def ask() -> None:
        try:
            barrier.wait()
            answers.append(passwords.sms_code_request(phone=PHONE))
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [False] * 9 + [True] * 3
    assert SmsCode.objects.filter(phone=PHONE).count() == 3
