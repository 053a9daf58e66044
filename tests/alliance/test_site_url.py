"""SITE_URL unset: links point where the platform is actually served (issue 13: QR posters and message
links said http://127.0.0.1:8000 whatever the host and port); `calendar_url` is never null; the API's
errors speak the user's language."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from alliance import notifications, site
from meetings.models import CalendarFeed

from ..api import api_client as _api
from ..demands.factories import NeedFactory

HOST = "dangjian.example.cn:8443"


@pytest.fixture
def unset(settings):
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "dangjian.example.cn"]


def test_the_poster_encodes_the_address_the_request_came_in_on(unset, community_x):
    page = Client().get(f"/needs/qr/{community_x.pk}/", HTTP_HOST=HOST, secure=True).content.decode()
    assert f"https://{HOST}/needs/new/?community={community_x.pk}" in page


def test_a_set_site_url_wins_over_the_request(settings, community_x):
    settings.SITE_URL = "https://alliance.example.org"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "dangjian.example.cn"]
    page = Client().get(f"/needs/qr/{community_x.pk}/", HTTP_HOST=HOST).content.decode()
    assert f"https://alliance.example.org/needs/new/?community={community_x.pk}" in page
    assert HOST not in page


def test_a_message_sent_in_the_background_links_to_the_last_address_a_request_came_in_on(
    unset, member, mailoutbox, django_capture_on_commit_callbacks
):
    assert Client().get("/", HTTP_HOST=HOST, secure=True).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(recipient=member, subject="会议提醒", body="明天开会", url="/portal/")
    assert mailoutbox[0].body.splitlines()[-1] == f"https://{HOST}/portal/"


def test_with_no_request_seen_yet_messages_link_to_the_fallback(unset, member, mailoutbox):
    notification = notifications.message(recipient=member, subject="会议提醒", body="明天开会", url="/portal/")
    notification.save()
    assert notifications.deliver(notification.pk) is True
    assert mailoutbox[0].body.splitlines()[-1] == "http://127.0.0.1:8000/portal/"
    assert site.url() == site.FALLBACK


def test_me_gives_street_staff_a_calendar_address_on_the_host_they_asked(unset, street_staff):
    client = APIClient()
    client.force_authenticate(street_staff)
    answer = client.get("/api/v1/me/", HTTP_HOST=HOST, secure=True).json()
    feed = CalendarFeed.objects.get(user=street_staff, revoked_at__isnull=True)
    assert answer["calendar_url"] == f"https://{HOST}/calendar/{feed.token}.ics"


# --- Errors in the user's language ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "detail"),
    [("zh-hans", "没有该需求，或您无权查看。"), ("en", "No such need, or it is not visible to you.")],
)
def test_an_object_not_found_is_said_in_the_users_language(street_staff, language, detail):
    response = _api(street_staff).get("/api/v1/needs/999999/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    assert response.json() == {"detail": detail}


def test_a_need_out_of_sight_reads_as_one_that_does_not_exist(liaison_b, community_x):
    need = NeedFactory(community=community_x)
    response = _api(liaison_b).get(f"/api/v1/needs/{need.pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "没有该需求，或您无权查看。"}


def test_the_language_chosen_on_the_site_is_the_apis_too(street_staff):
    client = _api(street_staff)
    client.cookies["django_language"] = "en"
    response = client.get("/api/v1/needs/999999/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json() == {"detail": "No such need, or it is not visible to you."}


def test_drf_defaults_are_translated(street_staff):
    assert APIClient().get("/api/v1/needs/").json() == {"detail": "身份认证信息未提供。"}
    response = _api(street_staff).put("/api/v1/categories/1/", {}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": "方法 “PUT” 不被允许。"}


def test_the_healthcheck_on_the_loopback_address_does_not_replace_the_public_one(unset, db):
    Client().get("/", HTTP_HOST=HOST, secure=True)
    assert Client().get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert site.url() == f"https://{HOST}"
