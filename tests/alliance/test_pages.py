"""Public and portal pages: language, health, and that nothing answers 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ..conftest import client_for


def test_pages_render_in_chinese_by_default(db, community_x):
    page = Client().get("/").content.decode()
    assert "党建联盟" in page
    assert 'lang="zh-CN"' in page
    assert "成员单位" in page  # the figures' labels
    login = Client().get(reverse("portal:login")).content.decode()
    assert "登录" in login and "Sign in" not in login


def test_pages_render_in_english_when_asked(db, community_x):
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    assert "Party-building alliance" in page and "Member units" in page
    assert "成员单位" not in page


def test_the_language_switch_remembers_the_choice(db):
    client = Client()
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "Sign in" in client.get(reverse("portal:login")).content.decode()


def test_api_errors_follow_the_language(db):
    from rest_framework.test import APIClient

    zh = APIClient().get("/api/v1/me/").json()["detail"]
    en = APIClient(HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/me/").json()["detail"]
    assert en.startswith("Authentication credentials")
    assert zh != en and any("\u4e00" <= ch <= "\u9fff" for ch in zh)


def test_admin_is_titled_in_chinese(street_staff):
    assert "党建联盟管理后台" in client_for(street_staff).get(reverse("admin:index")).content.decode()


def test_healthz_answers_200_when_the_database_answers(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_healthz_answers_503_when_the_broker_does_not(db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "down"}


@pytest.mark.parametrize(
    "path",
    [
        "/portal/units/999999/",
        "/portal/units/abc/",
        "/api/v1/units/999999/",
        "/api/v1/communities/abc/",
        "/nowhere/",
    ],
)
def test_unknown_things_answer_404_not_500(path, street_staff):
    assert client_for(street_staff).get(path).status_code == 404


def test_a_password_set_link_that_does_not_exist_says_so(db):
    # Not a 404: the page tells the person the link is no longer valid and where to get a new one.
    response = Client().get("/portal/password/set/x/y/")
    assert response.status_code == 200
    assert response.context["validlink"] is False


def test_portal_home_shows_my_units(liaison_a, unit_a):
    page = client_for(liaison_a).get(reverse("portal:home")).content.decode()
    assert unit_a.name in page and reverse("portal:unit_detail", args=[unit_a.pk]) in page


def test_portal_needs_sign_in(db):
    response = Client().get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))


def test_password_change(liaison_a):
    client = client_for(liaison_a)
    response = client.post(
        reverse("portal:password_change"),
        {"old_password": "pw-for-tests-2026", "new_password1": "Hong-Se-2026!", "new_password2": "Hong-Se-2026!"},
    )
    assert response.status_code == 302
    assert Client().login(username="liaison_a", password="Hong-Se-2026!")
