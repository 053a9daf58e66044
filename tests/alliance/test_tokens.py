"""Issue 9, finding 6: API tokens never expired. Now a token is good for API_TOKEN_TTL_HOURS, an expired
or revoked one answers 401 with a Chinese `detail`, the caller can revoke their own and staff any."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ..conftest import client_for

URL = "/api/v1/auth/token/"
PASSWORD = "pw-for-tests-2026"


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")  # the per-address limits count in the cache


def _token(username: str) -> str:
    response = APIClient().post(URL, {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    return response.json()["token"]


def _with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_token_works_until_it_expires_then_answers_401_in_chinese(liaison_a, settings):
    settings.API_TOKEN_TTL_HOURS = 168
    token = _token("liaison_a")
    assert _token("liaison_a") == token  # within its lifetime, asking again gives the same token
    assert _with(token).get("/api/v1/me/").status_code == 200

    Token.objects.filter(key=token).update(created=timezone.now() - timedelta(hours=167, minutes=59))
    assert _with(token).get("/api/v1/me/").status_code == 200
    Token.objects.filter(key=token).update(created=timezone.now() - timedelta(hours=168, seconds=1))
    response = _with(token).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "令牌已过期，请用用户名和密码重新获取。"}
    assert response["WWW-Authenticate"] == "Token"
    assert not Token.objects.filter(key=token).exists()

    fresh = _token("liaison_a")
    assert fresh != token
    assert _with(fresh).get("/api/v1/me/").json()["username"] == "liaison_a"


def test_the_caller_revokes_their_token(liaison_a):
    token = _token("liaison_a")
    client = _with(token)
    assert client.delete(URL).status_code == 204
    assert not Token.objects.filter(user=liaison_a).exists()
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "认证令牌无效。"}


def test_revoking_needs_a_signed_in_caller(db):
    response = APIClient().delete(URL)
    assert response.status_code == 403
    assert response.json()["detail"] == "身份认证信息未提供。"


def test_street_staff_see_whose_tokens_exist_never_the_key_and_revoke_them(liaison_a, street_staff):
    token = _token("liaison_a")
    staff = client_for(street_staff)
    page = staff.get(reverse("admin:authtoken_tokenproxy_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "liaison_a" in text and f"{token[:4]}…" in text and "吊销所选令牌" in text
    assert token not in text
    response = staff.post(
        reverse("admin:authtoken_tokenproxy_changelist"), {"action": "revoke", "_selected_action": [liaison_a.pk]}
    )
    assert response.status_code == 302
    assert not Token.objects.exists()
    assert _with(token).get("/api/v1/me/").status_code == 401


def test_only_street_staff_see_tokens(community_x_staff, liaison_a):
    _token("liaison_a")
    assert client_for(community_x_staff).get(reverse("admin:authtoken_tokenproxy_changelist")).status_code == 403


def test_the_schema_documents_expiry_revocation_and_lockout(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/auth/token/"]
    # 401/403 on the POST too: a stale token sent along is refused before the password is read, and a
    # browser session without its CSRF token is refused by session authentication.
    assert set(operations["post"]["responses"]) == {"200", "400", "401", "403", "429"}
    assert set(operations["delete"]["responses"]) == {"204", "401", "403", "429"}
    assert "API_TOKEN_TTL_HOURS" in operations["post"]["description"]
