"""Issue 9, finding 3: `/admin/login/`, `/portal/login/` and the token endpoint took unlimited password
guesses. Now django-axes counts failures per account and per client address and locks both for a while."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from ..conftest import client_for
from ..factories import UserFactory

PASSWORD = "pw-for-tests-2026"
LOCKED = "登录失败次数过多"


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


@pytest.fixture(autouse=True)
def _axes_on(settings):
    # The suite runs with axes off (the test client's login() has no request); these tests are about it.
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 20
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def _portal_login(username: str, password: str, address: str = "203.0.113.1", **headers):
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(reverse("portal:login"), {"username": username, "password": password})
    return client, response


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_sixth_attempt_on_one_account_is_refused_even_with_the_right_password_from_any_address(liaison_a):
    for n in range(1, 5):
        client, response = _portal_login("liaison_a", "wrong", address=f"198.51.100.{n}")
        assert response.status_code == 200  # the form again, with its error
        assert not _signed_in(client)
    client, response = _portal_login("liaison_a", "wrong", address="198.51.100.5")
    assert response.status_code == 429

    client, response = _portal_login("liaison_a", PASSWORD, address="192.0.2.77")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not _signed_in(client)


def test_the_admin_login_locks_an_account_too(street_staff):
    url = reverse("admin:login")
    for n in range(5):
        Client(REMOTE_ADDR=f"198.51.100.{n + 1}").post(url, {"username": "street_staff", "password": "wrong"})
    client = Client(REMOTE_ADDR="192.0.2.78")
    response = client.post(url, {"username": "street_staff", "password": PASSWORD})
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not _signed_in(client)


def test_many_accounts_tried_from_one_address_lock_the_address(liaison_a):
    for n in range(19):
        _client, response = _portal_login(f"guess{n}", "wrong", address="203.0.113.9")
        assert response.status_code == 200
    _client, response = _portal_login("guess19", "wrong", address="203.0.113.9")
    assert response.status_code == 429
    # The address is locked for every account, a real one with its right password included …
    client, response = _portal_login("liaison_a", PASSWORD, address="203.0.113.9")
    assert response.status_code == 429
    assert not _signed_in(client)
    # … while the account itself, from elsewhere, is not.
    client, response = _portal_login("liaison_a", PASSWORD, address="203.0.113.10")
    assert response.status_code == 302
    assert _signed_in(client)


def test_a_new_forwarded_for_header_each_time_does_not_make_a_new_client(liaison_a, settings):
    settings.NUM_PROXIES = 0  # no proxy in front: the header is the client's own word
    for n in range(20):
        _portal_login(f"guess{n}", "wrong", address="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.{n}.1")
    client, response = _portal_login("liaison_a", PASSWORD, address="203.0.113.9", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429
    assert not _signed_in(client)


def test_the_lockout_message_is_chinese_and_says_when_to_try_again(liaison_a):
    for _n in range(4):
        _portal_login("liaison_a", "wrong")
    before = timezone.localtime(timezone.now() + timedelta(minutes=15)).strftime("%H:%M")
    _client, response = _portal_login("liaison_a", "wrong")
    after = timezone.localtime(timezone.now() + timedelta(minutes=15)).strftime("%H:%M")
    page = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "登录失败次数过多，登录已锁定 15 分钟" in page
    assert re.search(r"请于 (\d\d:\d\d) 之后再试", page).group(1) in {before, after}


def test_the_lock_lifts_after_the_cool_off(liaison_a):
    for _n in range(5):
        _portal_login("liaison_a", "wrong")
    assert _portal_login("liaison_a", PASSWORD)[1].status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    client, response = _portal_login("liaison_a", PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


def test_a_successful_sign_in_resets_the_accounts_count(liaison_a):
    for _n in range(4):
        _portal_login("liaison_a", "wrong")
    assert _portal_login("liaison_a", PASSWORD)[1].status_code == 302
    assert not AccessAttempt.objects.filter(username="liaison_a").exists()
    for _n in range(4):
        assert _portal_login("liaison_a", "wrong")[1].status_code == 200
    assert _portal_login("liaison_a", PASSWORD)[1].status_code == 302


def test_signing_in_to_ones_own_account_does_not_reset_the_count_on_another(liaison_a):
    UserFactory(username="attacker")
    for _n in range(4):
        _portal_login("liaison_a", "wrong", address="203.0.113.66")
    assert _portal_login("attacker", PASSWORD, address="203.0.113.66")[1].status_code == 302
    assert _portal_login("liaison_a", "wrong", address="203.0.113.66")[1].status_code == 429
    assert _portal_login("liaison_a", PASSWORD, address="192.0.2.1")[1].status_code == 429


def test_the_token_endpoint_locks_with_a_chinese_429(liaison_a):
    url = "/api/v1/auth/token/"
    for n in range(4):
        response = APIClient(REMOTE_ADDR=f"198.51.100.{n + 1}").post(
            url, {"username": "liaison_a", "password": "wrong"}, format="json"
        )
        assert response.status_code == 400
    response = APIClient(REMOTE_ADDR="198.51.100.9").post(
        url, {"username": "liaison_a", "password": "wrong"}, format="json"
    )
    assert response.status_code == 429
    response = APIClient(REMOTE_ADDR="192.0.2.5").post(
        url, {"username": "liaison_a", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert set(response.json()) == {"detail"}
    assert response.json()["detail"].startswith(LOCKED)
    assert response["Retry-After"] == "900"


def test_street_staff_see_failed_sign_ins_in_chinese_and_unlock_an_account(liaison_a, street_staff):
    for _n in range(5):
        _portal_login("liaison_a", "wrong")
    staff = client_for(street_staff)
    page = staff.get(reverse("admin:axes_accessattempt_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "登录保护" in text and "登录失败记录" in text and "liaison_a" in text and "解除锁定" in text
    response = staff.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "unlock", "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True))},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert _portal_login("liaison_a", PASSWORD)[1].status_code == 302


def test_only_street_staff_see_failed_sign_ins(community_x_staff, liaison_a):
    url = reverse("admin:axes_accessattempt_changelist")
    assert client_for(community_x_staff).get(url).status_code == 403
    # A liaison is no staff: the admin sends them to its login page.
    response = client_for(liaison_a).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
